//! Unit tests of the pure part of `layers`: the walk order and the runtime/usage rules.

use serde_json::json;

use super::*;
use crate::engine::change::session::SessionOrigin;
use crate::engine::store::AuthConfig;

const NOW: i64 = 1_000_000;

fn snap(state: serde_json::Value) -> Snapshot {
    let entry =
        |p: &str| json!({"type": "oauth", "provider": p, "access": "a.b.c", "expires": NOW * 10});
    let store = json!({"version": 1, "profiles": {
        "openai:a": entry("openai"), "openai:b": entry("openai"), "openai-codex:c": entry("openai-codex"),
    }});
    snap_of(store, state)
}

fn snap_of(store: serde_json::Value, state: serde_json::Value) -> Snapshot {
    Snapshot::of_shared_state_db(store, state, AuthConfig::default(), NOW)
}

fn pin(profile: &str) -> SessionOverride {
    SessionOverride {
        session_key: "k".into(),
        profile: profile.into(),
        source: Some("user".into()),
        origin: SessionOrigin::AgentDb,
        compaction_count: None,
    }
}

#[test]
fn unusable_profiles_are_walked_last() {
    let s = snap(json!({"order": {"openai": ["openai:a", "openai:b"]},
        "usageStats": {"openai:a": {"blockedUntil": NOW + 5}}}));
    let (order, unusable) = runtime_order(&s, "openai");
    assert_eq!(order, ["openai:b", "openai:a"]);
    assert_eq!(unusable, [("openai:a".to_owned(), NOW + 5)]);
    // An expired block no longer counts.
    let s = snap(json!({"order": {"openai": ["openai:a", "openai:b"]},
        "usageStats": {"openai:a": {"blockedUntil": NOW - 5}}}));
    assert_eq!(runtime_order(&s, "openai").0, ["openai:a", "openai:b"]);
}

#[test]
fn an_openai_override_is_also_the_usage_source_but_a_legacy_one_is_not() {
    let s = snap(json!({"order": {"openai": ["openai:a", "openai:b"]}}));
    let r = build(&s, "openai", Some("k"), Some(pin("openai:b")), &[], None);
    assert_eq!(r.layers[3].profile.as_deref(), Some("openai:b"));
    assert_eq!(r.layers[4].profile.as_deref(), Some("openai:b"));
    assert!(
        !r.disagreements
            .iter()
            .any(|d| d.starts_with("usage is read"))
    );

    let r = build(
        &s,
        "openai",
        Some("k"),
        Some(pin("openai-codex:c")),
        &[],
        None,
    );
    assert_eq!(r.layers[3].profile.as_deref(), Some("openai-codex:c"));
    assert_eq!(r.layers[4].profile.as_deref(), Some("openai:a"));
    assert!(
        r.disagreements
            .iter()
            .any(|d| d.starts_with("usage is read from openai:a"))
    );

    // An override naming a missing profile is ignored by the runtime.
    let r = build(&s, "openai", Some("k"), Some(pin("openai:gone")), &[], None);
    assert_eq!(r.layers[3].profile.as_deref(), Some("openai:a"));
}

/// A token profile first in the order is the runtime profile, named as a token profile; the
/// usage source is the first *OAuth* profile (the old view took the token profile and called
/// it "the first OAuth profile").
#[test]
fn a_token_profile_is_named_as_one_and_is_not_the_usage_source() {
    let store = json!({"version": 1, "profiles": {
        "openai:tok": {"type": "token", "provider": "openai", "token": "t"},
        "openai:a": {"type": "oauth", "provider": "openai", "access": "a.b.c", "expires": NOW * 10},
    }});
    let state = json!({"order": {"openai": ["openai:tok", "openai:a"]}});
    let s = snap_of(store, state);
    let r = build(&s, "openai", None, None, &[], None);
    assert_eq!(r.layers[3].profile.as_deref(), Some("openai:tok"));
    assert_eq!(r.layers[3].detail, "openai:tok (token profile)");
    assert_eq!(r.layers[4].profile.as_deref(), Some("openai:a"));
    assert_eq!(r.layers[4].detail, "openai:a (OAuth profile)");
    assert_eq!(r.layers[4].source, "first OAuth profile of the auth order");
    assert!(
        r.disagreements.iter().any(|d| d
            .starts_with("usage is read from openai:a while the runtime profile is openai:tok")),
        "{:?}",
        r.disagreements
    );
}
