//! Issue 9 §1: `order get` says what is stored (as `openclaw models auth order get` does) and,
//! separately, what the gateway will try now and why; `order set` accepts every profile of
//! the provider, says who leaves service, and refuses a provider the gateway does not use.
//! Everything through the real binary, on real SQLite stores.

use serde_json::{Value, json};

use crate::support::cli;
use crate::support::fixtures::{Fixture, plus_oauth};

fn now() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

const FENCE: &str = "openclaw-oauth-refresh-fence:v1:0123456789abcdef0123456789abcdef";
const HEX64: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

fn fenced(failed: bool) -> Value {
    let f = if failed { "failed:" } else { "" };
    json!({"type": "oauth", "provider": "openai",
        "access": format!("{FENCE}:{f}access:{HEX64}"),
        "refresh": format!("{FENCE}:{f}refresh:{HEX64}"), "expires": 1})
}

fn ids(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|e| e["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// bob first in the stored order but blocked: the stored order stays [bob, alice] (copying it
/// into `order set` keeps the user's preference) while the effective order says why bob is
/// tried last. The old `order get` printed `alice, bob` "from the stored order".
#[test]
fn order_get_keeps_the_stored_order_apart_from_the_try_order() {
    let fx = Fixture::new();
    let n = now();
    fx.state_db(
        &json!({"version": 1, "profiles": {
            "openai:alice": plus_oauth("alice", n + 86_400_000),
            "openai:bob": plus_oauth("bob", n + 86_400_000)}}),
        Some(&json!({"version": 1, "order": {"openai": ["openai:bob", "openai:alice"]},
            "usageStats": {"openai:bob": {"blockedUntil": n + 3_600_000, "blockedReason": "quota"}}})),
    );
    let doc = cli::run(fx.home(), &[], &["--json", "order", "get"])
        .expect_code(0)
        .json();
    assert_eq!(
        doc["order"],
        json!(["openai:bob", "openai:alice"]),
        "{doc:#}"
    );
    assert_eq!(doc["source"], "store");
    assert_eq!(doc["layer"]["scope"], "shared", "{doc:#}");
    assert_eq!(ids(&doc["effective"]), ["openai:alice", "openai:bob"]);
    assert_eq!(doc["effective"][0]["reasons"], json!([]));
    assert_eq!(doc["effective"][1]["reasons"][0]["reason"], "blocked_until");

    let text = cli::run(fx.home(), &[], &["order", "get"])
        .expect_code(0)
        .stdout
        .clone();
    let (stored, tried) = text
        .split_once("The gateway tries now")
        .unwrap_or_else(|| panic!("no try-order heading:\n{text}"));
    assert!(stored.contains("Stored openai order"), "{text}");
    assert!(
        stored.find("1. openai:bob") < stored.find("2. openai:alice"),
        "{text}"
    );
    assert!(tried.contains("1. openai:alice"), "{text}");
    assert!(
        tried.contains("2. openai:bob  (moved last: blocked until"),
        "{text}"
    );
}

/// Nothing stored: `order` is null (as OpenClaw's), and the text is a sentence naming what
/// the gateway tries instead.
#[test]
fn order_get_without_a_stored_order_says_so() {
    let fx = Fixture::new();
    let n = now();
    fx.state_db(
        &json!({"version": 1, "profiles": {
            "openai:alice": plus_oauth("alice", n + 86_400_000),
            "openai:tok": {"type": "token", "provider": "openai", "token": "tok-FIXTURE"}}}),
        Some(&json!({"version": 1})),
    );
    let doc = cli::run(fx.home(), &[], &["--json", "order", "get"])
        .expect_code(0)
        .json();
    assert_eq!(doc["order"], Value::Null, "{doc:#}");
    assert_eq!(doc["layer"], Value::Null);
    assert_eq!(doc["source"], "automatic");
    assert_eq!(ids(&doc["effective"]), ["openai:alice", "openai:tok"]);
    let text = cli::run(fx.home(), &[], &["order", "get"])
        .expect_code(0)
        .stdout
        .clone();
    assert!(
        text.contains("No openai order is stored; the gateway tries every stored openai profile")
            && text.contains(": openai:alice, openai:tok."),
        "{text}"
    );

    // No profile at all.
    let empty = Fixture::new();
    empty.state_db(
        &json!({"version": 1, "profiles": {}}),
        Some(&json!({"version": 1})),
    );
    let text = cli::run(empty.home(), &[], &["order", "get"])
        .expect_code(0)
        .stdout
        .clone();
    assert!(
        text.contains("no openai profile is stored: the gateway has nothing to try"),
        "{text}"
    );
}

/// A pending refresh fence keeps its place (the runtime asks with
/// `includePendingOAuthRefresh`); a failed one is skipped, with the reason; a cooled-down
/// profile goes last with its reason. The old effective order listed the failed profile as
/// if the gateway would try it.
#[test]
fn fenced_profiles_are_placed_as_openclaw_places_them() {
    let fx = Fixture::new();
    let n = now();
    fx.state_db(
        &json!({"version": 1, "profiles": {
            "openai:cool": plus_oauth("cool", n + 86_400_000),
            "openai:pending": fenced(false),
            "openai:failed": fenced(true),
            "openai:ok": plus_oauth("ok", n + 86_400_000)}}),
        Some(&json!({"version": 1,
            "order": {"openai": ["openai:cool", "openai:pending", "openai:failed", "openai:ok"]},
            "usageStats": {"openai:cool": {"cooldownUntil": n + 600_000}}})),
    );
    let doc = cli::run(fx.home(), &[], &["--json", "order", "get"])
        .expect_code(0)
        .json();
    assert_eq!(
        doc["order"],
        json!([
            "openai:cool",
            "openai:pending",
            "openai:failed",
            "openai:ok"
        ])
    );
    assert_eq!(
        ids(&doc["effective"]),
        ["openai:pending", "openai:ok", "openai:cool"],
        "{doc:#}"
    );
    assert_eq!(
        doc["effective"][0]["reasons"][0]["reason"],
        "refresh_in_flight"
    );
    assert_eq!(
        doc["effective"][2]["reasons"][0]["reason"],
        "cooldown_until"
    );
    assert_eq!(ids(&doc["skipped"]), ["openai:failed"]);
    assert_eq!(doc["skipped"][0]["reasons"][0]["reason"], "refresh_failed");
    let text = cli::run(fx.home(), &[], &["order", "get"])
        .expect_code(0)
        .stdout
        .clone();
    assert!(
        text.contains(
            "Skipped now (not tried):\n  - openai:failed  (refresh failed: log in again)"
        ),
        "{text}"
    );
}
