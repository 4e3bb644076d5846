//! Interop of `order get` with the real OpenClaw 2026.9.6 (issue 9 §1): on a state-db store
//! holding blocked and cooled-down profiles, our stored order (`order`) is exactly what
//! `openclaw models auth order get --provider openai --json` reports, `null` when none is
//! stored, while our effective order (`effective`) says why the gateway tries them in another
//! sequence. The two `openclaw` calls share one scratch home.

use codex_profiler::engine::profile::ProfileId;
use codex_profiler::engine::store::{Change, Store, StoreChoice, StoreOptions};
use serde_json::{Value, json};

use crate::support::cli;
use crate::support::fixtures::{Fixture, plus_oauth};
use crate::support::openclaw::openclaw;

fn our_order(fx: &Fixture) -> Value {
    let state = fx.state_arg();
    let args = ["--state-dir", state.as_str(), "--json", "order", "get"];
    cli::run(fx.home(), &[], &args).expect_code(0).json()
}

#[test]
fn stored_order_matches_openclaw_and_effective_order_says_why_it_differs() {
    let fx = Fixture::new();
    let now = chrono::Utc::now().timestamp_millis();
    let day = 86_400_000;
    fx.state_db(
        &json!({"version": 1, "profiles": {
            "openai:alice": plus_oauth("alice", now + day),
            "openai:bob": plus_oauth("bob", now + day),
            "openai:carol": plus_oauth("carol", now + day),
            "openai:tok": {"type": "token", "provider": "openai", "token": "tok-FIXTURE-interop"}
        }}),
        Some(&json!({"version": 1, "usageStats": {
            "openai:bob": {"blockedUntil": now + 2 * 3_600_000, "blockedReason": "quota"},
            "openai:carol": {"cooldownUntil": now + 3_600_000, "cooldownReason": "rate_limit"}
        }})),
    );

    // Nothing stored: both say null.
    let theirs = openclaw().openai_order(fx.home());
    let ours = our_order(&fx);
    assert_eq!(theirs["order"], Value::Null, "theirs: {theirs:#}");
    assert_eq!(ours["order"], Value::Null, "ours: {ours:#}");

    // Store [bob, carol, alice] through our engine; OpenClaw reads the same list back.
    let store = Store::open(StoreOptions {
        state_dir: fx.state_dir(),
        agent: "main".into(),
        choice: StoreChoice::Auto,
        auth_path: None,
    })
    .expect("open");
    let ids = ["openai:bob", "openai:carol", "openai:alice"];
    store
        .apply(&Change::SetOrder {
            provider: "openai".into(),
            ids: ids
                .iter()
                .map(|i| ProfileId::parse(i).expect("id"))
                .collect(),
        })
        .expect("write the order");
    let theirs = openclaw().openai_order(fx.home());
    let ours = our_order(&fx);
    assert_eq!(theirs["order"], json!(ids), "theirs: {theirs:#}");
    assert_eq!(
        ours["order"], theirs["order"],
        "ours: {ours:#}\ntheirs: {theirs:#}"
    );

    // What the gateway tries: alice, then carol (usable sooner), then bob; each with why.
    let tried: Vec<&str> = ours["effective"]
        .as_array()
        .expect("effective")
        .iter()
        .filter_map(|e| e["id"].as_str())
        .collect();
    assert_eq!(
        tried,
        ["openai:alice", "openai:carol", "openai:bob"],
        "{ours:#}"
    );
    assert_eq!(ours["effective"][0]["reasons"], json!([]));
    assert_eq!(
        ours["effective"][1]["reasons"][0]["reason"],
        "cooldown_until"
    );
    assert_eq!(
        ours["effective"][2]["reasons"][0]["reason"],
        "blocked_until"
    );
}
