//! The order the gateway tries, and the per-key merge of the state maps, as OpenClaw 2026.9.6
//! computes them. Confirmed in its bundled JS (`dist/`):
//! - `order-*.mjs` `resolveAuthProfileOrderWithMetadata`: the base list is the stored order
//!   (`store.order`, overlay over shared), else `openclaw.json` `auth.order`, else the ids of
//!   `auth.profiles` for the provider, else every stored profile of the provider; ids are
//!   de-duplicated. An explicit order (stored or `auth.order`) keeps its sequence for usable
//!   profiles; otherwise `orderProfilesByMode` sorts by type (oauth, token, api_key, other),
//!   then, for oauth only, unexpired before expired (`resolveTokenExpiryState`: `expires`
//!   a positive finite number <= now), then `usageStats.lastUsed` ascending (missing = 0);
//!   the sorts are stable. For every source, profiles in cooldown go last, sorted by when they
//!   become usable.
//! - `usage-state-*.mjs` `isProfileInCooldown` / `resolveProfileUnusableUntil`: unusable
//!   until = max(`blockedUntil`, `cooldownUntil`, `disabledUntil`) of the windows still
//!   active (`clearExpiredCooldowns` runs first); providers `openrouter` and `kilocode` never
//!   cool down. Model-scoped windows (`blockedScope: "model"`, a rate-limit cooldown with a
//!   `cooldownModel`) count here as if they applied to every model, as OpenClaw does when
//!   no model is given.
//! - an order whose ids all name missing profiles is repaired to the automatic order (for a
//!   stored order or `auth.profiles`, not `auth.order`); ids of missing profiles are dropped.
//!   Other eligibility checks (a pending refresh fence, an expired `token`, no credential, a
//!   mode that differs from `auth.profiles`) also drop a profile in OpenClaw; we keep those
//!   so they stay visible, and their health says why they are unusable.
//! - `persisted-*.mjs` `mergeAuthProfileStores` (shared store as base, the agent's own as
//!   override): `order`, `lastGood` and `usageStats` merge per key, the overlay winning, but
//!   only entries that survive normalisation count (`normalizeAuthProfileOrder`: a
//!   non-empty array of non-blank strings; `normalizeLastGood`: a non-blank string;
//!   `coerceProfileUsageStats`: an object with at least one known field of the right type),
//!   so an invalid overlay entry lets the shared one through. Provider keys compare
//!   lower-cased. When the overlay holds profiles of a provider but no order for it while
//!   the shared store has one, the overlay's profiles are put in front of the shared order.
//!   A merged `lastGood` naming a missing profile is dropped (not replaced by the shared one).

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::layer::{LayerDocs, LayerId};
use super::snapshot::entry_provider;
use crate::engine::health::UsageStats;

/// A provider key as OpenClaw compares them (`normalizeProviderId`).
pub(crate) fn provider_key(p: &str) -> String {
    p.trim().to_lowercase()
}

fn non_blank(v: &Value) -> Option<String> {
    v.as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Keep the first of each id (linear: a set remembers what was seen).
pub(crate) fn dedupe(ids: Vec<String>) -> Vec<String> {
    let mut seen: HashSet<String> = HashSet::with_capacity(ids.len());
    ids.into_iter()
        .filter(|id| seen.insert(id.clone()))
        .collect()
}

/// A layer's value for `provider` in a provider-keyed state map, normalised by `norm`; when
/// several keys match, the last valid one wins (as in OpenClaw's `reduce`).
fn provider_entry<T>(
    docs: &LayerDocs,
    map: &str,
    provider: &str,
    norm: impl Fn(&Value) -> Option<T>,
) -> Option<T> {
    let key = provider_key(provider);
    docs.state_map(map)?
        .iter()
        .filter(|(k, _)| provider_key(k) == key)
        .filter_map(|(_, v)| norm(v))
        .last()
}

fn order_list(v: &Value) -> Option<Vec<String>> {
    let list: Vec<String> = v.as_array()?.iter().filter_map(non_blank).collect();
    (!list.is_empty()).then_some(list)
}

/// The merged stored order of `provider` and the layer it comes from (see the module doc),
/// exactly as `openclaw models auth order get` reports it: a layer's list is taken as stored
/// (`normalizeAuthProfileOrder` trims and drops blanks but keeps duplicates and ids of
/// missing profiles); only where an overlay holds profiles of the provider does
/// `mergeProfileOrderWithOverridePrecedence` de-duplicate (`uniqueStrings`).
pub(crate) fn merged_order(
    layers: &[(LayerId, LayerDocs)],
    provider: &str,
) -> Option<(Vec<String>, LayerId)> {
    let key = provider_key(provider);
    let mut merged: Option<(Vec<String>, LayerId)> = None;
    for (i, (layer, docs)) in layers.iter().enumerate() {
        let own: Vec<String> = if i == 0 {
            Vec::new()
        } else {
            docs.profiles()
                .into_iter()
                .flatten()
                .filter(|(id, e)| provider_key(entry_provider(id, e)) == key)
                .map(|(id, _)| id.clone())
                .collect()
        };
        if let Some(ids) = provider_entry(docs, "order", provider, order_list) {
            let ids = if own.is_empty() { ids } else { dedupe(ids) };
            merged = Some((ids, layer.clone()));
        } else if !own.is_empty()
            && let Some((ids, _)) = merged.as_mut()
        {
            *ids = dedupe(own.into_iter().chain(ids.drain(..)).collect());
        }
    }
    merged
}

/// The merged `lastGood` of `provider`, if it names an existing profile.
pub(crate) fn merged_last_good(
    layers: &[(LayerId, LayerDocs)],
    provider: &str,
    profiles: &Map<String, Value>,
) -> Option<String> {
    layers
        .iter()
        .rev()
        .find_map(|(_, d)| provider_entry(d, "lastGood", provider, non_blank))
        .filter(|id| profiles.contains_key(id))
}

/// Whether a `usageStats` entry survives OpenClaw's `coerceProfileUsageStats` (an object
/// with at least one known field of the right type).
fn usage_entry_counts(v: &Value) -> bool {
    const NUMBERS: [&str; 7] = [
        "lastUsed",
        "blockedUntil",
        "cooldownUntil",
        "disabledUntil",
        "errorCount",
        "lastFailureAt",
        "lastProbeAt",
    ];
    const TEXTS: [&str; 7] = [
        "blockedReason",
        "blockedSource",
        "blockedModel",
        "cooldownReason",
        "cooldownModel",
        "disabledReason",
        "cooldownClassification",
    ];
    let Some(o) = v.as_object() else {
        return false;
    };
    NUMBERS.iter().any(|k| {
        o.get(*k)
            .and_then(Value::as_f64)
            .is_some_and(f64::is_finite)
    }) || TEXTS
        .iter()
        .any(|k| o.get(*k).and_then(non_blank).is_some())
        || o.get("blockedScope").and_then(Value::as_str) == Some("model")
        || o.get("failureCounts").is_some_and(Value::is_object)
}

/// The merged `usageStats` entry of a profile: the last layer whose entry counts.
pub(crate) fn merged_usage<'a>(layers: &'a [(LayerId, LayerDocs)], id: &str) -> Option<&'a Value> {
    layers
        .iter()
        .rev()
        .filter_map(|(_, d)| d.state_map("usageStats").and_then(|m| m.get(id)))
        .find(|v| usage_entry_counts(v))
}

/// What ordering needs to know about one profile.
pub(crate) struct Facts<'a> {
    /// The raw entry, if the profile exists.
    pub entry: Option<&'a Value>,
    /// Its effective usage stats.
    pub usage: UsageStats,
}

/// When a profile becomes usable again, if it is in cooldown, blocked or disabled at `now`.
pub(crate) fn unusable_until(f: &Facts<'_>, id: &str, now: i64) -> Option<i64> {
    let provider = f.entry.map_or("", |e| entry_provider(id, e));
    // OpenClaw leaves cooldowns of these providers to the provider itself.
    if matches!(provider_key(provider).as_str(), "openrouter" | "kilocode") {
        return None;
    }
    f.usage.unusable_until(now)
}

fn type_score(e: Option<&Value>) -> u8 {
    match e.and_then(|e| e.get("type")).and_then(Value::as_str) {
        Some("oauth") => 0,
        Some("token") => 1,
        Some("api_key") => 2,
        _ => 3,
    }
}

/// `resolveTokenExpiryState(...) === "expired"` for an oauth entry.
pub(crate) fn oauth_expired(e: Option<&Value>, now: i64) -> bool {
    let Some(e) = e.filter(|e| e.get("type").and_then(Value::as_str) == Some("oauth")) else {
        return false;
    };
    e.get("expires")
        .and_then(Value::as_f64)
        .is_some_and(|t| t.is_finite() && t > 0.0 && t <= 8.64e15 && t <= now as f64)
}

/// Order `items` (id, facts, anything carried along) the way the gateway tries them.
/// `explicit`: keep the given sequence for usable profiles (a stored order or `auth.order`);
/// otherwise sort by mode. Either way, unusable profiles go last, soonest usable first.
pub(crate) fn arrange<'a, T>(
    items: Vec<(String, Facts<'a>, T)>,
    explicit: bool,
    now: i64,
) -> Vec<(String, Facts<'a>, T)> {
    let mut usable = Vec::new();
    let mut waiting = Vec::new();
    for item in items {
        match unusable_until(&item.1, &item.0, now) {
            Some(until) => waiting.push((until, item)),
            None => usable.push(item),
        }
    }
    if !explicit {
        // `sort_by_key` is stable, like JS `toSorted`.
        usable.sort_by_key(|(_, f, _)| {
            (
                type_score(f.entry),
                oauth_expired(f.entry, now),
                f.usage.last_used.unwrap_or(0),
            )
        });
    }
    waiting.sort_by_key(|(until, _)| *until);
    usable
        .into_iter()
        .chain(waiting.into_iter().map(|(_, item)| item))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_000_000;

    fn arrange_with(ids: &[&str], explicit: bool, profiles: &Value, usage: &Value) -> Vec<String> {
        let items = ids
            .iter()
            .map(|id| {
                let f = Facts {
                    entry: profiles.get(id),
                    usage: UsageStats::from_value(usage.get(id)),
                };
                (id.to_string(), f, ())
            })
            .collect();
        arrange(items, explicit, NOW)
            .into_iter()
            .map(|(id, _, _)| id)
            .collect()
    }

    #[test]
    fn automatic_sorts_by_type_then_expiry_then_least_recently_used() {
        let profiles = json!({
            "p:key": {"type": "api_key", "provider": "p"},
            "p:tok": {"type": "token", "provider": "p"},
            "p:old": {"type": "oauth", "provider": "p", "expires": NOW - 1},
            "p:new": {"type": "oauth", "provider": "p", "expires": NOW + 1},
            "p:new2": {"type": "oauth", "provider": "p", "expires": NOW + 1},
            "p:odd": {"type": "weird", "provider": "p"}
        });
        let usage = json!({"p:new": {"lastUsed": 50}, "p:new2": {"lastUsed": 10}});
        let ids = ["p:odd", "p:key", "p:tok", "p:old", "p:new", "p:new2"];
        assert_eq!(
            arrange_with(&ids, false, &profiles, &usage),
            ["p:new2", "p:new", "p:old", "p:tok", "p:key", "p:odd"]
        );
        // An explicit order keeps its sequence.
        assert_eq!(arrange_with(&ids, true, &profiles, &usage), ids);
    }

    #[test]
    fn unusable_profiles_go_last_soonest_first_for_every_source() {
        let profiles = json!({
            "p:a": {"type": "oauth", "provider": "p"},
            "p:b": {"type": "oauth", "provider": "p"},
            "p:c": {"type": "oauth", "provider": "p"},
            "p:d": {"type": "oauth", "provider": "p"},
            "openrouter:x": {"type": "api_key", "provider": "openrouter"}
        });
        let usage = json!({
            // Unusable until max(...) = NOW + 900 although its cooldown ends sooner.
            "p:a": {"cooldownUntil": NOW + 100, "disabledUntil": NOW + 900},
            "p:b": {"blockedUntil": NOW + 500},
            // Expired windows do not count.
            "p:c": {"cooldownUntil": NOW - 5, "blockedUntil": NOW},
            "openrouter:x": {"cooldownUntil": NOW + 50}
        });
        let ids = ["p:a", "p:b", "p:c", "openrouter:x", "p:d"];
        for explicit in [true, false] {
            let got = arrange_with(&ids, explicit, &profiles, &usage);
            assert_eq!(got[3..], ["p:b", "p:a"], "explicit={explicit}");
        }
        assert_eq!(
            arrange_with(&ids, true, &profiles, &usage),
            ["p:c", "openrouter:x", "p:d", "p:b", "p:a"]
        );
    }

    fn layer(n: &str, store: Value, state: Value) -> (LayerId, LayerDocs) {
        let id = LayerId::shared(super::super::StoreFormat::AgentDb, std::path::Path::new(n));
        (id, LayerDocs { store, state })
    }

    #[test]
    fn invalid_overlay_entries_let_the_shared_ones_through() {
        let shared = layer(
            "/s",
            json!({"profiles": {"openai:a": {}, "openai:b": {}}}),
            json!({"order": {"openai": ["openai:a"]}, "lastGood": {"openai": "openai:a"},
                   "usageStats": {"openai:a": {"lastUsed": 5}}}),
        );
        let overlay = layer(
            "/o",
            json!({"profiles": {}}),
            json!({"order": {"OpenAI": []}, "lastGood": {"openai": "  "},
                   "usageStats": {"openai:a": {"unknown": 1}}}),
        );
        let layers = vec![shared, overlay];
        let profiles = json!({"openai:a": {}, "openai:b": {}});
        let profiles = profiles.as_object().unwrap();
        assert_eq!(merged_order(&layers, "openai").unwrap().0, ["openai:a"]);
        assert_eq!(
            merged_last_good(&layers, "openai", profiles).as_deref(),
            Some("openai:a")
        );
        assert_eq!(
            merged_usage(&layers, "openai:a"),
            Some(&json!({"lastUsed": 5}))
        );
    }

    #[test]
    fn overlay_profiles_go_in_front_of_the_shared_order_and_dangling_last_good_is_dropped() {
        let shared = layer(
            "/s",
            json!({"profiles": {"openai:a": {"provider": "openai"}}}),
            json!({"order": {"openai": ["openai:a", "openai:a"]}, "lastGood": {"openai": "openai:a"}}),
        );
        let overlay = layer(
            "/o",
            json!({"profiles": {"openai:z": {"provider": "openai"}, "x:y": {"provider": "x"}}}),
            json!({"lastGood": {"openai": "openai:gone"}}),
        );
        let layers = vec![shared.clone(), overlay];
        let (ids, from) = merged_order(&layers, "openai").unwrap();
        assert_eq!(ids, ["openai:z", "openai:a"]);
        assert_eq!(from, shared.0);
        let profiles = json!({"openai:a": {}, "openai:z": {}});
        assert_eq!(
            merged_last_good(&layers, "openai", profiles.as_object().unwrap()),
            None
        );
    }
}
