//! The effective view of a store, merged the way the gateway merges it: profiles from the
//! overlay win per id; `order`, `lastGood` and `usageStats` from the overlay win per key
//! (provider or profile id). Codex profiles are parsed out of it; malformed entries are
//! reported in `skipped` and never stop the others.

use serde::Serialize;
use serde_json::{Map, Value};

use super::StoreInfo;
use super::config::{AuthConfig, string_list};
use super::layer::{LayerDocs, LayerId};
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

/// An effective order and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EffectiveOrder {
    /// Profile ids, first preferred.
    pub ids: Vec<String>,
    /// Where the list came from.
    #[serde(flatten)]
    pub source: OrderSource,
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
        }
    }

    /// Codex profile ids, sorted.
    pub fn codex_ids(&self) -> Vec<ProfileId> {
        self.codex.iter().map(|p| p.id.clone()).collect()
    }

    /// A Codex profile by id.
    pub fn profile(&self, id: &ProfileId) -> Option<&CodexProfile> {
        self.codex.iter().find(|p| &p.id == id)
    }

    /// The effective raw entry of any profile.
    pub fn raw_profile(&self, id: &str) -> Option<&Value> {
        self.profiles.get(id)
    }

    /// Every profile id of every provider, in stored order.
    pub fn all_profile_ids(&self) -> Vec<String> {
        self.profiles.keys().cloned().collect()
    }

    /// The stored order for `provider` and the layer holding it (overlay first).
    pub fn stored_order(&self, provider: &str) -> Option<(Vec<String>, LayerId)> {
        let (v, layer) = state_entry(&self.layers, "order", provider)?;
        Some((string_list(v).unwrap_or_default(), layer.clone()))
    }

    /// The order the gateway follows for `provider`: stored order, else config `auth.order`,
    /// else config `auth.profiles` ids, else every stored profile of the provider (oauth
    /// before token before api_key, unexpired first, least recently used first).
    pub fn effective_order(&self, provider: &str) -> EffectiveOrder {
        if let Some((ids, layer)) = self.stored_order(provider) {
            return EffectiveOrder {
                ids,
                source: OrderSource::Store { layer },
            };
        }
        if let Some(ids) = self.config.order_for(provider) {
            return EffectiveOrder {
                ids: ids.to_vec(),
                source: OrderSource::ConfigOrder,
            };
        }
        let listed = self.config.profile_ids_for(provider);
        if !listed.is_empty() {
            return EffectiveOrder {
                ids: listed,
                source: OrderSource::ConfigProfiles,
            };
        }
        EffectiveOrder {
            ids: self.automatic_order(provider),
            source: OrderSource::Automatic,
        }
    }

    fn automatic_order(&self, provider: &str) -> Vec<String> {
        let now = self.read_at_ms;
        let mut ids: Vec<(u8, bool, i64, String)> = self
            .profiles
            .iter()
            .filter(|(id, e)| entry_provider(id, e) == provider)
            .map(|(id, e)| {
                let rank = match e.get("type").and_then(Value::as_str) {
                    Some("oauth") => 0,
                    Some("token") => 1,
                    _ => 2,
                };
                let expired = e
                    .get("expires")
                    .and_then(Value::as_i64)
                    .is_some_and(|t| t > 0 && t <= now);
                let last = self.usage_stats(id).last_used.unwrap_or(0);
                (rank, expired, last, id.clone())
            })
            .collect();
        ids.sort();
        ids.into_iter().map(|(.., id)| id).collect()
    }

    /// `lastGood[provider]`, overlay first.
    pub fn last_good(&self, provider: &str) -> Option<String> {
        state_entry(&self.layers, "lastGood", provider)
            .and_then(|(v, _)| v.as_str().map(str::to_owned))
    }

    /// The effective `usageStats` entry of a profile.
    pub fn usage_stats(&self, id: &str) -> UsageStats {
        UsageStats::from_value(state_entry(&self.layers, "usageStats", id).map(|(v, _)| v))
    }

    /// Local health with `in_order` and `last_good` filled in.
    pub fn health(&self, p: &CodexProfile, now_ms: i64) -> LocalHealth {
        let provider = p.provider.as_str();
        let in_order = self
            .effective_order(provider)
            .ids
            .iter()
            .any(|i| i == p.id.as_str());
        let last_good = self.last_good(provider).as_deref() == Some(p.id.as_str());
        local_health(
            p,
            &self.usage_stats(p.id.as_str()),
            in_order,
            last_good,
            now_ms,
        )
    }
}

/// A raw entry's provider: its `provider` field, else the id's prefix.
pub(crate) fn entry_provider<'a>(id: &'a str, e: &'a Value) -> &'a str {
    e.get("provider")
        .and_then(Value::as_str)
        .unwrap_or_else(|| id.split_once(':').map_or("", |(p, _)| p))
}
