//! Every non-zero exit of the binary says why in one sentence on stderr (issue 9 §3): a
//! script that reads only stderr, or a person whose stdout went to a file, must learn what
//! failed. Logs are off here, so stderr holds only what the command itself printed.

use std::os::unix::fs::PermissionsExt;

use super::*;

/// Run with logs off (the usual `RUST_LOG=debug` of the test runner would fill stderr).
fn quiet(fx: &Fixture, env: &[(&str, &str)], args: &[&str]) -> Run {
    let state = fx.state_arg();
    let mut all = vec!["--state-dir", state.as_str()];
    all.extend_from_slice(args);
    let mut env = env.to_vec();
    env.push(("RUST_LOG", "off"));
    cli::run(fx.home(), &env, &all)
}

/// An `openclaw` that says it succeeded and writes nothing: our read-back must catch it.
fn lying_openclaw(fx: &Fixture) -> String {
    let fake = fx.home().join("openclaw-lies");
    std::fs::write(&fake, "#!/bin/sh\necho 'Updated auth order.'\nexit 0\n").unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    fake.to_string_lossy().into_owned()
}

#[track_caller]
fn says_why(run: &Run, what: &str, code: i32) {
    assert_eq!(
        run.code, code,
        "{what}: exit code\nstdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    let lines: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(
        lines.len(),
        1,
        "{what}: one sentence on stderr, got {:?}\nstdout:\n{}",
        run.stderr,
        run.stdout
    );
    assert!(
        lines[0].starts_with("codex-profiler: ") && lines[0].len() > 30,
        "{what}: {:?}",
        lines[0]
    );
}

/// What is tried, the arguments, extra environment, the expected exit code.
type Case<'a> = (&'a str, Vec<&'a str>, &'a [(&'a str, &'a str)], i32);

#[test]
fn every_failing_command_says_why_on_stderr() {
    let fx = example_store(Format::StateDb);
    let fake = lying_openclaw(&fx);
    let gw = [("CODEX_PROFILER_OPENCLAW_BIN", fake.as_str())];
    let cases: Vec<Case> = vec![
        (
            "unknown profile",
            vec!["retire", "nobody@example.com"],
            &[],
            3,
        ),
        (
            "unknown id in an order",
            vec!["order", "set", "carol@example.com"],
            &[],
            3,
        ),
        (
            "delete without --confirm",
            vec!["delete", "alice@example.com"],
            &[],
            4,
        ),
        (
            "delete without --confirm, json",
            vec!["--json", "delete", "alice@example.com"],
            &[],
            4,
        ),
        (
            "restore of an unknown backup",
            vec!["backups", "restore", "nope"],
            &[],
            3,
        ),
        (
            "verification failure",
            vec!["retire", "alice@example.com", "--via-gateway"],
            &gw,
            1,
        ),
        (
            "verification failure, json",
            vec![
                "--json",
                "order",
                "set",
                "alice@example.com",
                "--via-gateway",
            ],
            &gw,
            1,
        ),
        (
            "untrusted usage endpoint",
            vec!["usage"],
            &[("CODEX_PROFILER_USAGE_URL", "https://usage.example.net/wham")],
            5,
        ),
        (
            "finish without a pending login",
            vec![
                "auth",
                "finish",
                "--profile",
                "a",
                "--callback-url",
                "http://localhost:1455/auth/callback?code=ac_x&state=00ff",
            ],
            &[],
            5,
        ),
    ];
    for (what, args, env, code) in cases {
        let run = quiet(&fx, env, &args);
        says_why(&run, what, code);
        no_leak(&fx, &run);
    }
    // The lying gateway changed nothing, and the JSON report says what failed.
    let run = quiet(
        &fx,
        &gw,
        &["--json", "retire", "alice@example.com", "--via-gateway"],
    );
    let out = run.json();
    assert_eq!(out["ok"], false, "{out:#}");
    assert_eq!(out["error"], "not_verified", "{out:#}");
    assert_eq!(out["verified"], false, "{out:#}");
    assert!(
        run.stderr.contains("could not be verified"),
        "{}",
        run.stderr
    );

    // `doctor` finding something to fix (a legacy file beside the database store).
    fx.json_single("main", &crate::support::fixtures::json_example());
    says_why(&quiet(&fx, &[], &["doctor"]), "doctor with findings", 1);

    // No store at all.
    let empty = Fixture::new();
    says_why(&quiet(&empty, &[], &["retire", "alice"]), "no store", 1);
}
