//! The working directory's `.env` cannot make the tool run a program, and a `.env` another
//! user could write is not read at all (issue 13).

use std::os::unix::fs::PermissionsExt as _;

use crate::support::cli;
use crate::support::fixtures::{Fixture, state_db_example};

fn write_env(fx: &Fixture, text: &str, mode: u32) {
    let p = fx.home().join(".env");
    std::fs::write(&p, text).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A program that leaves a mark when it runs.
fn marker_program(fx: &Fixture) -> (String, std::path::PathBuf) {
    let mark = fx.home().join("ran");
    let prog = fx.home().join("evil-openclaw");
    std::fs::write(
        &prog,
        format!("#!/bin/sh\ntouch '{}'\nexit 0\n", mark.display()),
    )
    .unwrap();
    std::fs::set_permissions(&prog, std::fs::Permissions::from_mode(0o755)).unwrap();
    (prog.display().to_string(), mark)
}

#[test]
fn a_dot_env_never_names_a_program_to_run() {
    let fx = Fixture::new();
    let (store, state) = state_db_example();
    fx.state_db(&store, Some(&state));
    let (prog, mark) = marker_program(&fx);
    write_env(
        &fx,
        &format!(
            "CODEX_PROFILER_VIA_GATEWAY=1\nCODEX_PROFILER_OPENCLAW_BIN={prog}\nCODEX_PROFILER_GATEWAY_RESTART_CMD={prog}\n"
        ),
        0o600,
    );
    let run = cli::run(
        fx.home(),
        &[],
        &[
            "--state-dir",
            &fx.state_arg(),
            "retire",
            "alice@example.com",
            "--dry-run",
        ],
    );
    assert!(!mark.exists(), "the program named in .env ran");
    assert!(
        run.stderr.contains("CODEX_PROFILER_OPENCLAW_BIN in ./.env"),
        "{}",
        run.stderr
    );
    // The same variable from the environment itself is honoured.
    let run = cli::run(
        fx.home(),
        &[("CODEX_PROFILER_OPENCLAW_BIN", &prog)],
        &[
            "--state-dir",
            &fx.state_arg(),
            "retire",
            "alice@example.com",
            "--via-gateway",
        ],
    );
    assert!(mark.exists(), "{}\n{}", run.stdout, run.stderr);
}

#[test]
fn a_dot_env_others_can_write_is_ignored_with_a_warning() {
    let fx = Fixture::new();
    write_env(&fx, "OPENCLAW_STATE_DIR=/nonexistent/elsewhere\n", 0o666);
    let run = cli::run(fx.home(), &[], &["--json", "profiles"]);
    assert!(
        run.stderr.contains("ignoring ./.env: others can write it"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stdout.contains("/nonexistent/elsewhere"),
        "{}",
        run.stdout
    );
    // Made private, it is read.
    write_env(&fx, "OPENCLAW_STATE_DIR=/nonexistent/elsewhere\n", 0o600);
    let run = cli::run(fx.home(), &[], &["--json", "profiles"]);
    assert!(!run.stderr.contains("ignoring ./.env"), "{}", run.stderr);
    assert!(
        format!("{}{}", run.stdout, run.stderr).contains("/nonexistent/elsewhere"),
        "{}\n{}",
        run.stdout,
        run.stderr
    );
}
