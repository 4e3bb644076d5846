//! Unit tests of `doctor`: the safe fixes its findings carry.

use serde_json::json;

use super::*;
use crate::engine::store::AuthConfig;

const NOW: i64 = 1_000_000;

fn entry() -> Value {
    json!({"type": "oauth", "provider": "openai", "access": "a.b.c", "expires": NOW * 10})
}

fn remedies(state: Value) -> Vec<(&'static str, Vec<Remedy>)> {
    let mut failed = entry();
    failed["access"] = "openclaw-oauth-refresh-fence:v1:failed:x".into();
    let store = json!({"version": 1, "profiles": {
        "openai:a": entry(), "openai:b": entry(), "openai:c": failed}});
    let snap = Snapshot::of_shared_state_db(store, state, AuthConfig::default(), NOW);
    examine(Path::new("/nonexistent"), "openai", &snap)
        .into_iter()
        .map(|f| (f.code, f.remedies))
        .collect()
}

/// The fixes a chat offers are the ones the CLI names: an order with only stored ids, an
/// order that adds who was left out, a login or a retire after a failed refresh.
#[test]
fn findings_carry_their_safe_fixes() {
    let found = remedies(json!({"order": {"openai": ["openai:a", "openai:gone", "openai:c"]}}));
    let of = |code: &str| {
        found
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, r)| r.clone())
            .unwrap_or_else(|| panic!("no {code} in {found:?}"))
    };
    let order = |ids: &[&str]| Remedy::SetOrder {
        provider: "openai".into(),
        ids: ids.iter().map(|s| (*s).to_owned()).collect(),
    };
    assert_eq!(
        of("order_points_nowhere"),
        [order(&["openai:a", "openai:c"])]
    );
    assert_eq!(
        of("left_out_of_stored_order"),
        [order(&["openai:a", "openai:c", "openai:b"])]
    );
    assert_eq!(
        of("failed_refresh_fence"),
        [
            Remedy::Login {
                profile: "openai:c".into()
            },
            Remedy::Retire {
                profile: "openai:c".into()
            }
        ]
    );
}
