//! `rotation [--deep]` and the same findings in `doctor`, through the real binary, over real
//! SQLite state databases and `openclaw.json` fixtures: a model fallback with four usable
//! profiles, no fallback, `auth.profiles` hiding stored profiles, `auth.order` in config, the
//! Codex harness in user home scope, a session pin and a blocked profile. No token in any
//! output.

use std::path::Path;

use rusqlite::Connection;
use serde_json::{Value, json};

use crate::change::{cli, no_leak};
use crate::support::cli::Run;
use crate::support::fixtures::{Fixture, oauth_profile, write_json};

const FAR: i64 = 4_102_444_800_000; // 2100-01-01

fn four(fx: &Fixture, state: Option<&Value>) {
    let profiles: serde_json::Map<String, Value> = ["a", "b", "c", "d"]
        .iter()
        .map(|n| {
            let email = format!("{n}@example.com");
            let p = oauth_profile("openai", &email, &format!("acct-{n}"), "plus", FAR);
            (format!("openai:{n}"), p)
        })
        .collect();
    fx.state_db(&json!({"version": 1, "profiles": profiles}), state);
}

fn config(fx: &Fixture, v: &Value) {
    write_json(&fx.state_dir().join("openclaw.json"), v);
}

fn fallback() -> Value {
    json!({"agents": {"defaults": {"model": {"primary": "openai/gpt-5.5",
        "fallbacks": ["anthropic/claude-sonnet-4-6", "google/gemini-3-pro"]}}}})
}

fn run(fx: &Fixture, args: &[&str], code: i32) -> Run {
    let r = cli(fx, args);
    r.expect_code(code);
    no_leak(fx, &r);
    r
}

fn codes(doc: &Value) -> Vec<String> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_owned())
        .collect()
}

fn pin(db: &Path, key: &str, profile: &str) {
    let conn = Connection::open(db).unwrap();
    let entry = json!({"sessionId": "s", "authProfileOverride": profile, "authProfileOverrideSource": "user"});
    conn.execute(
        "INSERT INTO session_nodes (session_key, current_session_id, entry_json, updated_at) VALUES (?1, ?2, ?3, ?4)",
        rusqlite::params![key, format!("sid-{key}"), entry.to_string(), 1_i64],
    )
    .unwrap();
}

#[test]
fn a_fallback_with_four_usable_profiles_never_reaches_the_third_and_fourth() {
    let fx = Fixture::new();
    four(&fx, None);
    config(&fx, &fallback());

    let text = run(&fx, &["--utc", "rotation"], 0).stdout;
    assert!(text.contains("4 of 4 profiles usable now"), "{text}");
    assert!(
        text.contains("the third and fourth are never tried on that turn"),
        "{text}"
    );
    assert!(text.contains("anthropic/claude-sonnet-4-6"), "{text}");
    assert!(text.contains("codex-profiler order set"), "{text}");
    assert!(text.contains("codex-profiler order clear"), "{text}");
    assert!(!text.contains("failover policy"), "short: {text}");

    let deep = run(&fx, &["rotation", "--deep"], 0).stdout;
    for needle in [
        "failover policy",
        "401/403",
        "lastGood",
        "session pin",
        "codex-profiler unblock SEL",
    ] {
        assert!(deep.contains(needle), "{needle}: {deep}");
    }

    let doc = run(&fx, &["--json", "rotation"], 0).json();
    assert_eq!(doc["usable_now"], 4);
    assert_eq!(doc["tried_per_turn"], 2);
    assert_eq!(doc["fallback_model"], "anthropic/claude-sonnet-4-6");
    assert_eq!(doc["try_order"].as_array().unwrap().len(), 4);
    assert_eq!(codes(&doc), ["fallback_caps_rotation"]);
    let f = &doc["findings"][0];
    assert_eq!(f["severity"], "info");
    assert!(f["fix"].as_str().unwrap().contains("order set"));
    let deep = run(&fx, &["--json", "rotation", "--deep"], 0).json();
    assert_eq!(deep["deep"]["rate_limit_profile_rotations"], 1);

    // doctor: the same finding, healthy (it is a choice, not a fault).
    let d = run(&fx, &["--json", "doctor"], 0).json();
    assert!(
        codes(&d).contains(&"fallback_caps_rotation".to_owned()),
        "{d}"
    );
    let dt = run(&fx, &["doctor"], 0).stdout;
    assert!(
        dt.contains("the third and fourth are never tried on that turn"),
        "{dt}"
    );
}

#[test]
fn without_a_fallback_every_usable_profile_is_tried() {
    let fx = Fixture::new();
    four(&fx, None);
    config(
        &fx,
        &json!({"agents": {"defaults": {"model": {"primary": "openai/gpt-5.5"}}}}),
    );
    let doc = run(&fx, &["--json", "rotation"], 0).json();
    assert_eq!(doc["tried_per_turn"], 4);
    assert_eq!(doc["fallback_model"], Value::Null);
    assert!(codes(&doc).is_empty(), "{doc}");
    let text = run(&fx, &["rotation"], 0).stdout;
    assert!(text.contains("no model fallback"), "{text}");
    assert!(text.contains("nothing stands in the way"), "{text}");
}

#[test]
fn config_that_hides_profiles_and_home_scope_user_need_action() {
    // auth.profiles listing only two of four: the other two are never used.
    let fx = Fixture::new();
    four(&fx, None);
    config(
        &fx,
        &json!({"auth": {"profiles": {
        "openai:a": {"provider": "openai", "mode": "oauth"},
        "openai:b": {"provider": "openai", "mode": "oauth"}}}}),
    );
    let doc = run(&fx, &["--json", "rotation"], 0).json();
    assert_eq!(codes(&doc), ["config_profiles_hide_stored"]);
    assert_eq!(doc["usable_now"], 2);
    let d = run(&fx, &["--json", "doctor"], 1).json();
    let n = codes(&d)
        .iter()
        .filter(|c| *c == "config_profiles_hide_stored")
        .count();
    assert_eq!(n, 1, "doctor states it once: {d}");

    // auth.order in config naming two of four.
    let fx = Fixture::new();
    four(&fx, None);
    config(
        &fx,
        &json!({"auth": {"order": {"openai": ["openai:c", "openai:a"]}}}),
    );
    let doc = run(&fx, &["--json", "rotation"], 0).json();
    assert_eq!(doc["order_source"], "config_order");
    assert_eq!(doc["try_order"], json!(["openai:c", "openai:a"]));
    assert_eq!(codes(&doc), ["config_order_hides_stored"]);
    let text = run(&fx, &["rotation"], 0).stdout;
    assert!(text.contains("openai:b, openai:d are never used"), "{text}");
    assert!(
        codes(&run(&fx, &["--json", "doctor"], 1).json())
            .contains(&"config_order_hides_stored".to_owned())
    );

    // The Codex harness in user home scope.
    let fx = Fixture::new();
    four(&fx, None);
    config(
        &fx,
        &json!({"plugins": {"entries": {"codex": {"config": {"appServer": {"homeScope": "user"}}}}}}),
    );
    let doc = run(&fx, &["--json", "rotation"], 0).json();
    assert_eq!(doc["home_scope_user"], true);
    assert_eq!(codes(&doc), ["codex_home_scope_user"]);
    let text = run(&fx, &["doctor"], 1).stdout;
    assert!(text.contains("~/.codex/auth.json"), "{text}");
}

#[test]
fn a_session_pin_and_a_blocked_profile_are_explained() {
    let fx = Fixture::new();
    let state = json!({"version": 1, "usageStats": {"openai:a": {"blockedUntil": FAR, "blockedReason": "rate_limit"}}});
    four(&fx, Some(&state));
    let db = fx.agent_db("main", None, None);
    pin(&db, "agent:main:telegram:42", "openai:b");

    let doc = run(&fx, &["--json", "rotation"], 0).json();
    assert_eq!(doc["usable_now"], 3);
    assert_eq!(doc["try_order"][3], "openai:a", "blocked goes last: {doc}");
    let c = codes(&doc);
    assert!(c.contains(&"session_pin".to_owned()), "{c:?}");
    assert!(c.contains(&"profile_blocked".to_owned()), "{c:?}");
    let text = run(&fx, &["rotation"], 0).stdout;
    assert!(
        text.contains("session agent:main:telegram:42 pins openai:b (user)"),
        "{text}"
    );
    assert!(
        text.contains("openai:a is blocked until Jan 1 2100 00:00 UTC, in "),
        "{text}"
    );
    assert!(text.contains("codex-profiler unblock openai:a"), "{text}");
    let d = run(&fx, &["doctor"], 0).stdout;
    assert!(d.contains("pins openai:b"), "{d}");
    assert!(d.contains("codex-profiler unblock openai:a"), "{d}");
}
