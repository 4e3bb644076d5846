//! Clearing a stale block: which fields of a `usageStats` entry go, and which layers hold
//! the entry the gateway reads.
//!
//! What goes is what OpenClaw 2026.9.6 itself removes when a window is over
//! (`clearExpiredCooldowns` in `dist/usage-state-*.mjs`): each of `cooldownUntil`,
//! `blockedUntil` and `disabledUntil` with its companion fields (`cooldownReason`,
//! `cooldownClassification`, `cooldownModel`; `blockedReason`, `blockedSource`,
//! `blockedModel`, `blockedScope`; `disabledReason`), and once no window is left,
//! `errorCount = 0` and `failureCounts` cut down to its `rate_limit` count. Unblocking treats
//! every window as over (the usage endpoint said so, or the admin forced it). Every other
//! field (`lastUsed`, `lastFailureAt`, `lastProbeAt`, unknown ones) stays.

use serde_json::{Map, Value, json};

use super::layer::LayerId;
use super::order::merged_usage;
use super::snapshot::Snapshot;

/// Each window's `...Until` field and its companions, as `clearExpiredCooldowns` clears them.
pub const WINDOWS: [(&str, &[&str]); 3] = [
    (
        "cooldownUntil",
        &["cooldownReason", "cooldownClassification", "cooldownModel"],
    ),
    (
        "blockedUntil",
        &[
            "blockedReason",
            "blockedSource",
            "blockedModel",
            "blockedScope",
        ],
    ),
    ("disabledUntil", &["disabledReason"]),
];

/// Whether a `usageStats` entry holds a window to clear (any `...Until` field, whatever its
/// value: a malformed one is cleared too).
pub fn has_block(entry: &Value) -> bool {
    entry
        .as_object()
        .is_some_and(|o| WINDOWS.iter().any(|(until, _)| o.contains_key(*until)))
}

/// Clear every window of one entry as OpenClaw does when it is over; returns whether
/// anything changed. Idempotent, and a no-op on an entry without a window.
pub fn clear_entry(entry: &mut Map<String, Value>) -> bool {
    let mut mutated = false;
    for (until, companions) in WINDOWS {
        if entry.shift_remove(until).is_some() {
            mutated = true;
            for c in companions {
                entry.shift_remove(*c);
            }
        }
    }
    if mutated {
        // `if (profileMutated && !resolveProfileUnusableUntil(stats))`: no window is left.
        entry.insert("errorCount".into(), json!(0));
        let rate_limit = entry
            .get("failureCounts")
            .and_then(|f| f.get("rate_limit"))
            .filter(|n| n.as_f64().is_some_and(|n| n != 0.0))
            .cloned();
        match rate_limit {
            Some(n) => {
                entry.insert("failureCounts".into(), json!({ "rate_limit": n }));
            }
            None => {
                entry.shift_remove("failureCounts");
            }
        }
    }
    mutated
}

/// Clear `usageStats[id]` in one layer's state document; returns whether anything changed.
pub(crate) fn clear_in_state(state: &mut Value, id: &str) -> bool {
    match state
        .get_mut("usageStats")
        .and_then(|u| u.get_mut(id))
        .and_then(Value::as_object_mut)
    {
        Some(entry) => clear_entry(entry),
        None => false,
    }
}

/// The layers to write so the entry the gateway reads for `id` holds no window: the layer
/// that owns the merged entry (the overlay's, unless it holds nothing OpenClaw reads), and,
/// where clearing it leaves nothing OpenClaw reads there, the next layer whose entry then
/// takes effect, and so on. Top layer first.
pub(crate) fn layers_to_clear(snap: &Snapshot, id: &str) -> Vec<LayerId> {
    let mut layers = snap.layers.clone();
    let mut out = Vec::new();
    // Each round clears one layer's windows, so at most one round per layer.
    for _ in 0..layers.len() {
        let Some(entry) = merged_usage(&layers, id).filter(|e| has_block(e)) else {
            break;
        };
        let owner = layers.iter().rposition(|(_, d)| {
            d.state_map("usageStats")
                .and_then(|m| m.get(id))
                .is_some_and(|v| std::ptr::eq(v, entry))
        });
        let Some(i) = owner else { break };
        clear_in_state(&mut layers[i].1.state, id);
        out.push(layers[i].0.clone());
    }
    out
}

/// The windows the gateway reads for `id`, as `field until (reason)` phrases for a plan.
pub fn describe_blocks(snap: &Snapshot, id: &str) -> Vec<String> {
    let Some(entry) = merged_usage(&snap.layers, id).and_then(Value::as_object) else {
        return Vec::new();
    };
    WINDOWS
        .iter()
        .filter_map(|(until, companions)| {
            let v = entry.get(*until)?;
            let when = v
                .as_i64()
                .and_then(crate::engine::health::iso_ms)
                .unwrap_or_else(|| v.to_string());
            let reason = companions
                .first()
                .and_then(|c| entry.get(*c))
                .and_then(Value::as_str)
                .map(|r| format!(" ({r})"))
                .unwrap_or_default();
            Some(format!("{until} {when}{reason}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clears_windows_and_companions_and_keeps_the_rest() {
        let mut e = json!({
            "lastUsed": 5, "lastFailureAt": 6, "lastProbeAt": 7, "futureField": {"x": 1},
            "errorCount": 3, "failureCounts": {"rate_limit": 2, "auth": 1},
            "blockedUntil": 9, "blockedReason": "subscription_limit", "blockedSource": "wham",
            "blockedModel": "m", "blockedScope": "model",
            "cooldownUntil": 8, "cooldownReason": "rate_limit",
            "cooldownClassification": "c", "cooldownModel": "m",
            "disabledUntil": 10, "disabledReason": "billing",
        });
        let m = e.as_object_mut().unwrap();
        assert!(clear_entry(m));
        assert_eq!(
            e,
            json!({"lastUsed": 5, "lastFailureAt": 6, "lastProbeAt": 7,
                "futureField": {"x": 1}, "errorCount": 0, "failureCounts": {"rate_limit": 2}})
        );
        let again = e.clone();
        assert!(!clear_entry(e.as_object_mut().unwrap()), "idempotent");
        assert_eq!(e, again);
    }

    #[test]
    fn an_entry_without_a_window_is_left_alone() {
        let mut e = json!({"errorCount": 4, "failureCounts": {"auth": 1}, "cooldownReason": "x"});
        let before = e.clone();
        assert!(!clear_entry(e.as_object_mut().unwrap()));
        assert_eq!(
            e, before,
            "a reason without its window is not OpenClaw's to clear either"
        );
        assert!(!has_block(&e));
    }

    #[test]
    fn failure_counts_without_rate_limits_go() {
        let mut e = json!({"cooldownUntil": 1, "failureCounts": {"auth": 1, "rate_limit": 0}});
        clear_entry(e.as_object_mut().unwrap());
        assert_eq!(e, json!({"errorCount": 0}));
    }

    #[test]
    fn only_the_named_profile_changes() {
        let mut state = json!({"usageStats": {"a": {"cooldownUntil": 1}, "b": {"cooldownUntil": 2}},
            "order": {"p": ["a"]}});
        assert!(clear_in_state(&mut state, "a"));
        assert_eq!(
            state,
            json!({"usageStats": {"a": {"errorCount": 0}, "b": {"cooldownUntil": 2}},
                "order": {"p": ["a"]}})
        );
        assert!(!clear_in_state(&mut state, "missing"));
    }
}
