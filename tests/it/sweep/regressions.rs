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

/// A usage endpoint that echoes the bearer in the words it sends back (the plan, a limit's
/// name) had it shown in every report, the chat's included; those words are now scrubbed.
#[test]
fn a_bearer_echoed_by_the_usage_endpoint_is_never_shown() {
    use crate::support::usage_server::{self, Reply};
    let fx = Fixture::new();
    let far = chrono::Utc::now().timestamp_millis() + 86_400_000;
    let profile = plus_oauth("a", far);
    let token = profile["access"].as_str().unwrap().to_owned();
    fx.state_db(
        &json!({"version": 1, "profiles": {"openai:a@example.com": profile}}),
        None,
    );
    let mut reply = usage_server::full_payload();
    reply["plan_type"] = json!(token);
    reply["additional_rate_limits"][0]["limit_name"] = json!(format!("Bearer {token}"));
    reply["rate_limit_reached_type"] = json!(format!("x {token}"));
    let server = usage_server::spawn([(token.as_str(), Reply::Json(reply))]);
    let state = fx.state_arg();
    let env = [("CODEX_PROFILER_USAGE_URL", server.url.as_str())];
    for args in [&["usage"][..], &["--json", "usage", "--debug"]] {
        let r = cli::run(
            fx.home(),
            &env,
            &[&["--state-dir", &state][..], args].concat(),
        );
        r.expect_code(0);
        assert!(r.stdout.contains("a@example.com"), "{}", r.stdout.len());
        let payload = token.split('.').nth(1).unwrap();
        assert!(!r.stdout.contains(payload), "the bearer was shown");
        assert!(!r.stderr.contains(payload), "the bearer was logged");
    }
}
