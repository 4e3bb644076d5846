//! The effective view of a store, merged the way the gateway merges it: profiles from the
//! overlay win per id; `order`, `lastGood` and `usageStats` from the overlay win per key
//! (provider or profile id) when OpenClaw would read the overlay's entry, and the effective
//! order is the one the gateway tries (rules and what was confirmed in OpenClaw's code: the
//! `order` module). Codex profiles are parsed out of it; malformed entries are reported in
//! `skipped` and never stop the others.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::{Map, Value};

use super::StoreInfo;
use super::config::{AuthConfig, string_list};
use super::effective::OrderEntry;
use super::layer::{LayerDocs, LayerId};
use super::order::{merged_last_good, merged_order, merged_usage};
use super::parse::parse_codex;
use crate::engine::health::{LocalHealth, UsageStats, local_health};
use crate::engine::profile::{CodexProfile, ProfileId};

/// A profile entry we could not read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// The profile id as stored.
    pub id: String,
    /// Why (names the field, never its value).
    pub reason: String,
}

/// Where an effective order came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum OrderSource {
    /// A stored order in this layer.
    Store {
        /// The layer holding it.
        layer: LayerId,
    },
    /// `openclaw.json` `auth.order`.
    ConfigOrder,
    /// The ids of `openclaw.json` `auth.profiles` (which hides other stored profiles).
    ConfigProfiles,
    /// No order anywhere: every stored profile of the provider.
    Automatic,
}

impl OrderSource {
    /// The stable JSON word (`store`, `config_order`, `config_profiles`, `automatic`), as the
    /// `source` tag serialises it.
    pub fn as_str(&self) -> &'static str {
        match self {
            OrderSource::Store { .. } => "store",
            OrderSource::ConfigOrder => "config_order",
            OrderSource::ConfigProfiles => "config_profiles",
            OrderSource::Automatic => "automatic",
        }
    }

    /// Plain words for text output.
    pub fn describe(&self) -> String {
        match self {
            OrderSource::Store { layer } => format!("stored order in {layer}"),
            OrderSource::ConfigOrder => "openclaw.json auth.order".into(),
            OrderSource::ConfigProfiles => {
                "openclaw.json auth.profiles (hides other stored profiles)".into()
            }
            OrderSource::Automatic => "automatic (no order stored or configured)".into(),
        }
    }
}

/// An effective order, where it came from, and why each profile sits where it does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EffectiveOrder {
    /// The profile ids the gateway tries, first tried first.
    pub ids: Vec<String>,
    /// Where the list came from.
    #[serde(flatten)]
    pub source: OrderSource,
    /// `ids` with what moved each one (cooldown, blocked, disabled) or what it is tried
    /// despite (an expired token, a refresh in flight).
    pub tried: Vec<OrderEntry>,
    /// Profiles of the list the gateway skips now, and why.
    pub skipped: Vec<OrderEntry>,
}

/// The effective store at one moment. `Debug` shows ids and layers, never token values.
#[derive(Clone)]
pub struct Snapshot {
    /// Which store this is.
    pub info: StoreInfo,
    /// Codex profiles, sorted by id.
    pub codex: Vec<CodexProfile>,
    /// Entries that could not be read.
    pub skipped: Vec<Skipped>,
    /// Every layer's documents, shared first.
    pub layers: Vec<(LayerId, LayerDocs)>,
    /// `openclaw.json`'s auth section.
    pub config: AuthConfig,
    /// When this was read, ms since the epoch.
    pub read_at_ms: i64,
    profiles: Map<String, Value>,
    memo: OrderMemo,
}

/// What local health needs of a provider's effective order: who it names, and `lastGood`.
struct Membership {
    members: HashSet<String>,
    last_good: Option<String>,
}

/// Memberships computed so far, per provider (who an order names does not depend on the
/// time): health asks once per profile, the order is computed once per provider.
#[derive(Default)]
struct OrderMemo(Mutex<HashMap<String, Arc<Membership>>>);

impl Clone for OrderMemo {
    fn clone(&self) -> Self {
        // A clone may be changed by its owner (tests, restore previews): start afresh.
        OrderMemo::default()
    }
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `profiles` holds raw entries with tokens: only their ids are shown.
        f.debug_struct("Snapshot")
            .field("info", &self.info)
            .field("codex", &self.codex)
            .field("skipped", &self.skipped)
            .field("layers", &self.layers)
            .field("profile_ids", &self.profiles.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// For a per-key state map (`order`, `lastGood`, `usageStats`): the value and the layer it
/// came from, the last layer (the overlay) winning.
fn state_entry<'a>(
    layers: &'a [(LayerId, LayerDocs)],
    map: &str,
    key: &str,
) -> Option<(&'a Value, &'a LayerId)> {
    layers.iter().rev().find_map(|(id, docs)| {
        docs.state_map(map)
            .and_then(|m| m.get(key))
            .map(|v| (v, id))
    })
}

impl Snapshot {
    /// Merge layers (shared first) into the effective view.
    pub fn build(
        info: StoreInfo,
        layers: Vec<(LayerId, LayerDocs)>,
        config: AuthConfig,
        read_at_ms: i64,
    ) -> Snapshot {
        let mut profiles = Map::new();
        for (_, docs) in &layers {
            if let Some(m) = docs.profiles() {
                for (k, v) in m {
                    profiles.insert(k.clone(), v.clone());
                }
            }
        }
        let mut codex = Vec::new();
        let mut skipped = Vec::new();
        for (id, entry) in &profiles {
            match parse_codex(id, entry) {
                Ok(Some(p)) => codex.push(p),
                Ok(None) => {}
                Err(reason) => skipped.push(Skipped {
                    id: id.clone(),
                    reason,
                }),
            }
        }
        codex.sort_by(|a, b| a.id.cmp(&b.id));
        Snapshot {
            info,
            codex,
            skipped,
            layers,
            config,
            read_at_ms,
            profiles,
            memo: OrderMemo::default(),
        }
    }

    /// Codex profile ids, sorted.
    pub fn codex_ids(&self) -> Vec<ProfileId> {
        self.codex.iter().map(|p| p.id.clone()).collect()
    }

    /// A Codex profile by id.
    pub fn profile(&self, id: &ProfileId) -> Option<&CodexProfile> {
        // `codex` is sorted by id.
        self.codex
            .binary_search_by(|p| p.id.cmp(id))
            .ok()
            .and_then(|i| self.codex.get(i))
    }

    /// When `provider` has no stored order (the gateway follows `openclaw.json` or its
    /// automatic order), retiring `id` must store one to take it out of service: the current
    /// effective order without `id` (possibly empty). `None` when an order is stored (removing
    /// the id from it is enough) or `id` is not in the effective order anyway.
    pub fn order_to_store_on_retire(&self, provider: &str, id: &str) -> Option<Vec<String>> {
        if self.stored_order(provider).is_some() {
            return None;
        }
        // Every profile the order names stays, skipped ones too (a failed refresh is back
        // after a new login): only `id` leaves.
        let ids = self.effective_order(provider).members();
        ids.iter()
            .any(|x| x == id)
            .then(|| ids.into_iter().filter(|x| x != id).collect())
    }

    /// The stored profiles that would still be named by some layer's stored order for
    /// `provider` once `id` is removed from every one of them (what retire does). Empty means
    /// no stored order would name a usable entry any more, and the gateway would fall back to
    /// its automatic order, which uses every stored profile again, retired ones included.
    pub fn stored_order_left_after_retire(&self, provider: &str, id: &str) -> Vec<String> {
        let mut left: Vec<String> = Vec::new();
        for (_, docs) in &self.layers {
            let Some(list) = docs.state_map("order").and_then(|o| o.get(provider)) else {
                continue;
            };
            for other in string_list(list).unwrap_or_default() {
                if other != id && self.profiles.contains_key(&other) && !left.contains(&other) {
                    left.push(other);
                }
            }
        }
        left
    }

    /// The effective raw entry of any profile.
    pub fn raw_profile(&self, id: &str) -> Option<&Value> {
        self.profiles.get(id)
    }

    /// Every effective raw entry, by id, in stored order.
    pub(crate) fn raw_profiles(&self) -> &Map<String, Value> {
        &self.profiles
    }

    /// Every profile id of every provider, in stored order.
    pub fn all_profile_ids(&self) -> Vec<String> {
        self.profiles.keys().cloned().collect()
    }

    /// The stored order of `provider` exactly as the gateway reads it and
    /// `openclaw models auth order get` reports it (merged over layers; ids as stored, even
    /// of missing profiles), and the layer it comes from. `None` when no order is stored.
    pub fn merged_stored_order(&self, provider: &str) -> Option<(Vec<String>, LayerId)> {
        merged_order(&self.layers, provider)
    }

    /// The stored order for `provider` and the layer holding it (overlay first).
    pub fn stored_order(&self, provider: &str) -> Option<(Vec<String>, LayerId)> {
        let (v, layer) = state_entry(&self.layers, "order", provider)?;
        Some((string_list(v).unwrap_or_default(), layer.clone()))
    }

    /// `lastGood[provider]`, merged over layers (overlay first), if it names a profile.
    pub fn last_good(&self, provider: &str) -> Option<String> {
        merged_last_good(&self.layers, provider, &self.profiles)
    }

    /// The effective `usageStats` entry of a profile (the overlay's, unless it holds nothing
    /// OpenClaw would read).
    pub fn usage_stats(&self, id: &str) -> UsageStats {
        UsageStats::from_value(merged_usage(&self.layers, id))
    }

    /// Local health with `in_order` (named by the order the gateway follows, tried or
    /// skipped for now) and `last_good` filled in. Who the provider's order names is computed
    /// once per snapshot, however many profiles ask.
    pub fn health(&self, p: &CodexProfile, now_ms: i64) -> LocalHealth {
        let m = self.membership(p.provider.as_str());
        let id = p.id.as_str();
        local_health(
            p,
            &self.usage_stats(id),
            m.members.contains(id),
            m.last_good.as_deref() == Some(id),
            now_ms,
        )
    }

    fn membership(&self, provider: &str) -> Arc<Membership> {
        let mut memo = self.memo.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(m) = memo.get(provider) {
            return Arc::clone(m);
        }
        let m = Arc::new(Membership {
            members: self.order_members(provider),
            last_good: self.last_good(provider),
        });
        memo.insert(provider.to_owned(), Arc::clone(&m));
        m
    }
}

/// A raw entry's provider: its `provider` field, else the id's prefix.
pub(crate) fn entry_provider<'a>(id: &'a str, e: &'a Value) -> &'a str {
    e.get("provider")
        .and_then(Value::as_str)
        .unwrap_or_else(|| id.split_once(':').map_or("", |(p, _)| p))
}

#[cfg(test)]
impl Snapshot {
    /// For unit tests: a snapshot of one shared state-db layer (`/s/openclaw.sqlite`) holding
    /// the cells `store` and `state`, read at `now_ms` under `config`.
    pub(crate) fn of_shared_state_db(
        store: Value,
        state: Value,
        config: AuthConfig,
        now_ms: i64,
    ) -> Snapshot {
        use super::StoreFormat;
        use super::layer::LayerScope;
        let layer = LayerId {
            format: StoreFormat::StateDb,
            path: "/s/openclaw.sqlite".into(),
            scope: LayerScope::Shared,
        };
        let info = StoreInfo {
            format: StoreFormat::StateDb,
            path: layer.path.clone(),
        };
        Snapshot::build(
            info,
            vec![(layer, LayerDocs { store, state })],
            config,
            now_ms,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_source_words_are_the_json_tags() {
        for s in [
            OrderSource::ConfigOrder,
            OrderSource::ConfigProfiles,
            OrderSource::Automatic,
        ] {
            let v = serde_json::to_value(&s).unwrap();
            assert_eq!(v["source"], s.as_str());
        }
    }
}
