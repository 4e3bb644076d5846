//! Unit tests of rotation guidance over built snapshots.

use serde_json::{Value, json};

use super::findings::{duration, ordinals};
use super::*;
use crate::engine::change::session::SessionOrigin;
use crate::engine::store::config::AuthConfig;

const NOW: i64 = 1_700_000_000_000;

fn oauth() -> Value {
    json!({"type": "oauth", "provider": "openai", "access": "a.b.c", "refresh": "r", "expires": NOW + 3_600_000})
}

fn snap(n: usize, state: Value, config: Value) -> Snapshot {
    let profiles: serde_json::Map<String, Value> =
        (1..=n).map(|i| (format!("openai:p{i}"), oauth())).collect();
    let store = json!({"version": 1, "profiles": profiles});
    Snapshot::of_shared_state_db(store, state, AuthConfig::from_value(&config), NOW)
}

fn with_fallback() -> Value {
    json!({"agents": {"defaults": {"model": {"primary": "openai/gpt-5.5", "fallbacks": ["anthropic/claude-sonnet-4-6"]}}}})
}

fn codes(r: &Rotation) -> Vec<&'static str> {
    r.findings.iter().map(|f| f.code).collect()
}

#[test]
fn a_fallback_caps_a_turn_at_two_profiles() {
    let r = analyse(&snap(4, json!({}), with_fallback()), "openai", "main", &[]);
    assert_eq!(r.usable_now, 4);
    assert_eq!(r.tried_per_turn, 2);
    assert_eq!(
        r.fallback_model.as_deref(),
        Some("anthropic/claude-sonnet-4-6")
    );
    let f = &r.findings[0];
    assert_eq!(f.code, "fallback_caps_rotation");
    assert!(f.message.contains("the third and fourth"), "{}", f.message);
    assert!(
        f.message.contains("anthropic/claude-sonnet-4-6"),
        "{}",
        f.message
    );
    assert!(f.message.contains("openai:p3, openai:p4"), "{}", f.message);
}

#[test]
fn without_a_fallback_every_usable_profile_is_tried() {
    let r = analyse(&snap(4, json!({}), json!({})), "openai", "main", &[]);
    assert_eq!((r.usable_now, r.tried_per_turn), (4, 4));
    assert_eq!(r.fallback_model, None);
    assert!(codes(&r).is_empty(), "{:?}", codes(&r));
    // An agent whose model is a bare string has no fallbacks, whatever the defaults say.
    let mut cfg = with_fallback();
    cfg["agents"]["list"] = json!([{"id": "main", "model": "openai/gpt-5.5"}]);
    let r = analyse(&snap(4, json!({}), cfg), "openai", "main", &[]);
    assert_eq!(r.tried_per_turn, 4);
}

#[test]
fn two_usable_profiles_with_a_fallback_lose_nothing() {
    let r = analyse(&snap(2, json!({}), with_fallback()), "openai", "main", &[]);
    assert_eq!(r.tried_per_turn, 2);
    assert!(!codes(&r).contains(&"fallback_caps_rotation"));
}

#[test]
fn a_block_is_stated_with_its_length_and_the_unblock_command() {
    let state =
        json!({"usageStats": {"openai:p1": {"blockedUntil": NOW + 2 * 3_600_000 + 5 * 60_000}}});
    let r = analyse(&snap(3, state, json!({})), "openai", "main", &[]);
    assert_eq!(r.usable_now, 2);
    assert_eq!(r.try_order.last().map(String::as_str), Some("openai:p1"));
    let f = r
        .findings
        .iter()
        .find(|f| f.code == "profile_blocked")
        .unwrap();
    assert!(f.message.contains("another 2 h 5 min"), "{}", f.message);
    assert!(
        f.fix
            .as_deref()
            .unwrap()
            .contains("codex-profiler unblock openai:p1")
    );
}

#[test]
fn config_order_pins_home_scope_and_nothing_usable() {
    let cfg = json!({"auth": {"order": {"openai": ["openai:p2", "openai:p1"]}},
        "plugins": {"entries": {"codex": {"config": {"appServer": {"homeScope": "user"}}}}}});
    let pin = SessionOverride {
        session_key: "agent:main:telegram:1".into(),
        profile: "openai:gone".into(),
        source: Some("user".into()),
        origin: SessionOrigin::AgentDb,
        compaction_count: None,
    };
    let r = analyse(&snap(3, json!({}), cfg), "openai", "main", &[pin]);
    let c = codes(&r);
    assert!(c.contains(&"config_order_hides_stored"), "{c:?}");
    assert!(c.contains(&"codex_home_scope_user"), "{c:?}");
    assert!(c.contains(&"session_pin"), "{c:?}");
    assert!(r.home_scope_user);
    let all_blocked = json!({"usageStats": {"openai:p1": {"cooldownUntil": NOW + 1000}}});
    let r = analyse(&snap(1, all_blocked, json!({})), "openai", "main", &[]);
    assert!(codes(&r).contains(&"no_usable_profile"));
}

#[test]
fn words() {
    assert_eq!(ordinals(3, 4), "the third and fourth");
    assert_eq!(ordinals(3, 3), "the third");
    assert_eq!(ordinals(3, 5), "the third, fourth and fifth");
    assert_eq!(ordinals(3, 12), "the third to the 12th");
    assert_eq!(duration(40_000), "40 s");
    assert_eq!(duration(3 * 60_000), "3 min");
    assert_eq!(duration(26 * 3_600_000), "1 d 2 h");
}

/// OpenClaw resolves a pin without `authProfileOverrideSource` as `auto` only when it carries
/// a compaction count (automatic pins always do), else as the user's.
#[test]
fn a_pin_without_a_source_is_the_users_unless_it_has_a_compaction_count() {
    let pin = |key: &str, compaction: Option<i64>| SessionOverride {
        session_key: key.into(),
        profile: "openai:p1".into(),
        source: None,
        origin: SessionOrigin::AgentDb,
        compaction_count: compaction,
    };
    let pins = [pin("k-user", None), pin("k-auto", Some(3))];
    let r = analyse(&snap(2, json!({}), json!({})), "openai", "main", &pins);
    let source_of = |key: &str| {
        r.findings
            .iter()
            .find(|f| f.facts.get("session").map(String::as_str) == Some(key))
            .and_then(|f| f.facts.get("source").cloned())
    };
    assert_eq!(source_of("k-user").as_deref(), Some("user"));
    assert_eq!(source_of("k-auto").as_deref(), Some("auto"));
}
