//! Unit tests of the effective order with reasons: OpenClaw's eligibility rules and where a
//! refresh-fenced profile goes.

use serde_json::{Value, json};

use super::*;
use crate::engine::store::config::AuthConfig;

const NOW: i64 = 1_000_000;
const FENCE: &str = "openclaw-oauth-refresh-fence:v1:0123456789abcdef0123456789abcdef";

fn snap(profiles: Value, state: Value) -> Snapshot {
    let store = json!({"version": 1, "profiles": profiles});
    Snapshot::of_shared_state_db(store, state, AuthConfig::default(), NOW)
}

fn oauth(expires: i64) -> Value {
    json!({"type": "oauth", "provider": "openai", "access": "a.b.c", "refresh": "r", "expires": expires})
}

fn fence(failed: bool) -> Value {
    let f = if failed { "failed:" } else { "" };
    json!({"type": "oauth", "provider": "openai", "access": format!("{FENCE}:{f}access:00"),
        "refresh": format!("{FENCE}:{f}refresh:00"), "expires": 1})
}

fn reasons(e: &[OrderEntry], id: &str) -> Vec<OrderReason> {
    e.iter()
        .find(|x| x.id == id)
        .map(|x| x.reasons.clone())
        .unwrap_or_else(|| panic!("{id} not listed"))
}

#[test]
fn automatic_order_puts_a_pending_fence_after_unexpired_oauth_and_skips_a_failed_one() {
    let s = snap(
        json!({
            "openai:pending": fence(false),
            "openai:failed": fence(true),
            "openai:ok": oauth(NOW * 10),
            "openai:tok": {"type": "token", "provider": "openai", "token": "t"},
        }),
        json!({}),
    );
    let o = s.effective_order("openai");
    assert_eq!(o.ids, ["openai:ok", "openai:pending", "openai:tok"]);
    assert_eq!(
        reasons(&o.tried, "openai:pending"),
        [OrderReason::RefreshInFlight]
    );
    assert_eq!(
        reasons(&o.skipped, "openai:failed"),
        [OrderReason::RefreshFailed]
    );
    // Still named by the order: a new login brings it back.
    assert!(o.members().contains(&"openai:failed".to_owned()));
    assert_eq!(s.order_members("openai"), o.members().into_iter().collect());
}

#[test]
fn ineligible_profiles_are_skipped_with_the_reason() {
    let s = snap(
        json!({
            "openai:old-tok": {"type": "token", "provider": "openai", "token": "t", "expires": NOW - 1},
            "openai:empty-key": {"type": "api_key", "provider": "openai", "key": " "},
            "openai:no-tokens": {"type": "oauth", "provider": "openai"},
            "openai:expired": oauth(NOW - 1),
            "anthropic:x": {"type": "api_key", "provider": "anthropic", "key": "k"},
        }),
        json!({"order": {"openai": ["openai:gone", "anthropic:x", "openai:old-tok",
            "openai:empty-key", "openai:no-tokens", "openai:expired"]}}),
    );
    let o = s.effective_order("openai");
    assert_eq!(o.ids, ["openai:expired"]);
    assert_eq!(reasons(&o.tried, "openai:expired"), [OrderReason::Expired]);
    assert_eq!(reasons(&o.skipped, "openai:gone"), [OrderReason::NotStored]);
    assert_eq!(
        reasons(&o.skipped, "anthropic:x"),
        [OrderReason::OtherProvider {
            provider: "anthropic".into()
        }]
    );
    assert_eq!(
        reasons(&o.skipped, "openai:old-tok"),
        [OrderReason::Expired]
    );
    assert_eq!(
        reasons(&o.skipped, "openai:empty-key"),
        [OrderReason::MissingCredential]
    );
    assert_eq!(
        reasons(&o.skipped, "openai:no-tokens"),
        [OrderReason::MissingCredential]
    );
    assert!(!o.members().contains(&"openai:gone".to_owned()));
    assert_eq!(s.order_members("openai"), o.members().into_iter().collect());
}

#[test]
fn every_active_window_is_a_reason_and_health_uses_one_order() {
    let s = snap(
        json!({"openai:a": oauth(NOW * 10), "openai:b": oauth(NOW * 10)}),
        json!({"order": {"openai": ["openai:a", "openai:b"]},
            "usageStats": {"openai:a": {"blockedUntil": NOW + 5, "cooldownUntil": NOW + 9,
                "disabledUntil": NOW - 1}}}),
    );
    let o = s.effective_order("openai");
    assert_eq!(o.ids, ["openai:b", "openai:a"]);
    let r = reasons(&o.tried, "openai:a");
    assert_eq!(r.len(), 2, "{r:?}");
    assert!(r.iter().all(OrderReason::moves_last));
    for p in &s.codex {
        assert!(s.health(p, NOW).in_order);
    }
}
