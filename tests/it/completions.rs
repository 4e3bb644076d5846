//! `completions SHELL` and `man` through the real binary: each script names every top-level
//! command, the bash one is valid bash (`bash -n`), the man page is roff with `.TH`.

use crate::support::cli;
use crate::support::fixtures::Fixture;

/// The top-level commands of SPEC section 6 (and `man`).
const COMMANDS: &[&str] = &[
    "profiles",
    "order",
    "usage",
    "auth",
    "retire",
    "delete",
    "unblock",
    "backups",
    "layers",
    "doctor",
    "rotation",
    "bot",
    "chat",
    "completions",
    "man",
];

#[test]
fn completion_scripts_cover_every_command_and_bash_parses_its_own() {
    let fx = Fixture::new();
    for shell in ["bash", "zsh", "fish"] {
        let r = cli::run(fx.home(), &[], &["completions", shell]);
        r.expect_code(0);
        for c in COMMANDS {
            assert!(r.stdout.contains(c), "{shell} script lacks `{c}`");
        }
        assert!(
            !r.stdout.contains("apply-worker"),
            "{shell}: hidden worker offered"
        );
        assert!(
            r.stdout.contains("callback-url"),
            "{shell}: no auth finish flags"
        );
        if shell == "bash" {
            let file = fx.home().join("codex-profiler.bash");
            std::fs::write(&file, &r.stdout).unwrap();
            let check = std::process::Command::new("bash")
                .arg("-n")
                .arg(&file)
                .output()
                .expect("run bash -n");
            assert!(
                check.status.success(),
                "bash -n: {}",
                String::from_utf8_lossy(&check.stderr)
            );
        }
    }
    let r = cli::run(fx.home(), &[], &["completions", "powershell-ish"]);
    r.expect_code(2);
}

#[test]
fn the_man_page_is_roff_and_names_every_command() {
    let fx = Fixture::new();
    let r = cli::run(fx.home(), &[], &["man"]);
    r.expect_code(0);
    assert!(
        r.stdout
            .lines()
            .any(|l| l.starts_with(".TH codex-profiler 1")),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains(".SH SUBCOMMANDS"), "{}", r.stdout);
    for c in COMMANDS {
        assert!(r.stdout.contains(c), "the man page lacks `{c}`");
    }
}
