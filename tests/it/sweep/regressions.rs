//! Leaks the sweep found, each pinned by a narrow test that failed on the code as found.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::bot_api::TOKEN;
use crate::support::cli;
use crate::support::fixtures::{Fixture, plus_oauth};

/// The README's set-up puts the bot token in `.env`; the CLI exports what `.env` gives, and
/// every child inherited it: the queued restart's worker, the restart command itself, and
/// `openclaw` in gateway-native mode. Each stand-in here records its environment.
#[test]
fn a_bot_token_from_dot_env_reaches_no_child() {
    let fx = Fixture::new();
    let far = chrono::Utc::now().timestamp_millis() + 86_400_000;
    let store = json!({"version": 1, "profiles": {
        "openai:a@example.com": plus_oauth("a", far), "openai:b@example.com": plus_oauth("b", far)}});
    fx.state_db(&store, None);
    let dotenv = fx.home().join(".env");
    std::fs::write(&dotenv, format!("TELEGRAM_BOT_TOKEN={TOKEN}\n")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&dotenv, std::fs::Permissions::from_mode(0o600)).unwrap();
    let state = fx.state_arg();
    let ids = ["openai:b@example.com", "openai:a@example.com"];

    let r = cli::run(
        fx.home(),
        &[(
            "CODEX_PROFILER_GATEWAY_RESTART_CMD",
            "env > \"$HOME/restart.env\"",
        )],
        &[
            "--state-dir",
            &state,
            "--json",
            "order",
            "set",
            ids[0],
            ids[1],
            "--queue-apply",
        ],
    );
    r.expect_code(0);
    let apply = fx.state_dir().join("codex-profiler/apply.json");
    let deadline = Instant::now() + Duration::from_secs(15);
    let done = || {
        let doc: Option<serde_json::Value> = std::fs::read(&apply)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        doc.is_some_and(|d| d["last"].is_object() && d["state"] == "idle")
    };
    while !done() {
        assert!(Instant::now() < deadline, "the restart did not run");
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = std::fs::read_to_string(fx.home().join("restart.env")).expect("the restart ran");
    assert!(log.contains("OPENCLAW_STATE_DIR="), "the restart ran `env`");
    assert!(
        !log.contains(TOKEN),
        "the restart command got the bot token"
    );

    // `openclaw` in gateway-native mode: a stand-in that records its environment.
    let fake = fx.home().join("openclaw");
    let dump = fx.home().join("openclaw.env");
    std::fs::write(
        &fake,
        format!("#!/bin/sh\nenv > '{}'\nexit 1\n", dump.display()),
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o700)).unwrap();
    let bin = fake.to_string_lossy().into_owned();
    cli::run(
        fx.home(),
        &[("CODEX_PROFILER_OPENCLAW_BIN", &bin)],
        &[
            "--state-dir",
            &state,
            "--json",
            "order",
            "set",
            ids[1],
            ids[0],
            "--via-gateway",
        ],
    );
    let env = std::fs::read_to_string(&dump).expect("openclaw ran");
    assert!(env.contains("OPENCLAW_STATE_DIR="), "{}", env.len());
    assert!(!env.contains(TOKEN), "openclaw got the bot token");
}
