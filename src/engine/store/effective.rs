//! The order the gateway will try now, and why each profile sits where it does: the base list
//! (stored order, `openclaw.json` `auth.order`, `auth.profiles`, or every stored profile),
//! the profiles it skips (with the reason), and those it moves last or tries with a caveat.
//!
//! Confirmed in OpenClaw 2026.9.6's bundled JS (`dist/order-*.mjs`,
//! `resolveAuthProfileOrderWithMetadata` and `resolveAuthProfileEligibility`;
//! `dist/credential-state-*.mjs`, `evaluateStoredCredentialEligibility`): a profile of the
//! base list is tried only when it is *eligible*: stored (`profile_missing`), of the asked
//! provider (`provider_mismatch`), with a credential (`missing_credential`: an api_key without
//! `key`/`keyRef`, a token without `token`/`tokenRef`, an oauth without `access` and
//! `refresh`), and, for a `token`, not expired. A refresh fence (`access`/`refresh` starting
//! `openclaw-oauth-refresh-fence:v1:`, `expires: 1`) makes an oauth profile `expired`, hence
//! ineligible, except that the runtime paths (`model-fallback-runner-*.mjs`,
//! `prepare-auth-*.mjs`, `usage-*.mjs`) ask with `includePendingOAuthRefresh: true`, which
//! keeps a *pending* fence eligible (`isAuthProfileRuntimeSettlementCandidate`). So a pending
//! fence stays in its place (for an explicit order) or, sorted by mode, after the unexpired
//! OAuth profiles (its `expires: 1` is in the past); a *failed* fence is skipped. Eligible
//! profiles in cooldown, blocked or disabled go last, soonest usable first (see the `order`
//! module).

use std::collections::HashSet;

use serde::Serialize;
use serde_json::Value;

use super::StoreFormat;
use super::order::{
    Facts, arrange, dedupe, merged_order, oauth_expired, provider_key, unusable_until,
};
use super::snapshot::{EffectiveOrder, OrderSource, Snapshot, entry_provider};
use crate::engine::health::{UsageStats, iso_ms};
use crate::engine::profile::Fence;

/// Why a profile is skipped, moved last, or tried with a caveat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum OrderReason {
    /// `usageStats.blockedUntil` is in the future: tried last.
    BlockedUntil {
        /// RFC 3339.
        until: String,
    },
    /// `usageStats.cooldownUntil` is in the future: tried last.
    CooldownUntil {
        /// RFC 3339.
        until: String,
    },
    /// `usageStats.disabledUntil` is in the future: tried last.
    DisabledUntil {
        /// RFC 3339.
        until: String,
    },
    /// The token is past its expiry: an OAuth profile is still tried (the gateway refreshes
    /// it first; sorted after unexpired ones when no order is explicit), a token profile is
    /// skipped.
    Expired,
    /// A refresh is in flight: tried where it stands once the refresh settles.
    RefreshInFlight,
    /// The refresh failed and the refresh token is gone: skipped until a new login.
    RefreshFailed,
    /// The order names a profile the store does not hold: skipped.
    NotStored,
    /// The profile holds no usable credential: skipped.
    MissingCredential,
    /// The profile belongs to another provider: skipped.
    OtherProvider {
        /// Its provider.
        provider: String,
    },
}

impl OrderReason {
    /// Plain words for text output.
    pub fn describe(&self) -> String {
        match self {
            OrderReason::BlockedUntil { until } => format!("blocked until {until}"),
            OrderReason::CooldownUntil { until } => format!("in cooldown until {until}"),
            OrderReason::DisabledUntil { until } => format!("disabled until {until}"),
            OrderReason::Expired => "token expired".into(),
            OrderReason::RefreshInFlight => "refresh in flight".into(),
            OrderReason::RefreshFailed => "refresh failed: log in again".into(),
            OrderReason::NotStored => "not in the store".into(),
            OrderReason::MissingCredential => "no credential stored".into(),
            OrderReason::OtherProvider { provider } => format!("a {provider} profile"),
        }
    }

    /// Whether this reason moves a profile to the end of the order.
    pub fn moves_last(&self) -> bool {
        matches!(
            self,
            OrderReason::BlockedUntil { .. }
                | OrderReason::CooldownUntil { .. }
                | OrderReason::DisabledUntil { .. }
        )
    }
}

/// One profile of an effective order with what affects its place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderEntry {
    /// Profile id.
    pub id: String,
    /// Empty when nothing affects it.
    pub reasons: Vec<OrderReason>,
}

fn secret_string(e: &Value, key: &str) -> bool {
    e.get(key)
        .and_then(Value::as_str)
        .is_some_and(|s| !s.trim().is_empty())
}

fn has_ref(e: &Value, key: &str) -> bool {
    e.get(key).is_some_and(Value::is_object)
}

/// OpenClaw's eligibility check (with `includePendingOAuthRefresh`): `Err` skips the profile,
/// `Ok` may carry a caveat.
fn eligibility(
    entry: Option<&Value>,
    id: &str,
    key: &str,
    now: i64,
) -> Result<Option<OrderReason>, OrderReason> {
    let e = entry.ok_or(OrderReason::NotStored)?;
    let provider = entry_provider(id, e);
    if provider_key(provider) != key {
        return Err(OrderReason::OtherProvider {
            provider: provider.to_owned(),
        });
    }
    let expires = e.get("expires");
    let past = |v: Option<&Value>| v.and_then(Value::as_f64).is_some_and(|t| t <= now as f64);
    match e.get("type").and_then(Value::as_str) {
        Some("api_key") => (secret_string(e, "key") || has_ref(e, "keyRef"))
            .then_some(None)
            .ok_or(OrderReason::MissingCredential),
        Some("token") => {
            if !(secret_string(e, "token") || has_ref(e, "tokenRef")) {
                return Err(OrderReason::MissingCredential);
            }
            // `resolveTokenExpiryState`: absent is fine; anything else must be a positive
            // finite number in the future.
            let invalid = expires.is_some_and(|v| {
                v.as_f64()
                    .is_none_or(|t| !t.is_finite() || t <= 0.0 || t > 8.64e15)
            });
            if invalid || past(expires) {
                return Err(OrderReason::Expired);
            }
            Ok(None)
        }
        _ => {
            let fence = ["access", "refresh"]
                .iter()
                .filter_map(|k| e.get(*k).and_then(Value::as_str))
                .map(Fence::of_token)
                .fold(Fence::None, |acc, f| match (acc, f) {
                    (Fence::Failed, _) | (_, Fence::Failed) => Fence::Failed,
                    (Fence::Refreshing, _) | (_, Fence::Refreshing) => Fence::Refreshing,
                    _ => Fence::None,
                });
            match fence {
                Fence::Failed => Err(OrderReason::RefreshFailed),
                Fence::Refreshing => Ok(Some(OrderReason::RefreshInFlight)),
                Fence::None if !secret_string(e, "access") && !secret_string(e, "refresh") => {
                    Err(OrderReason::MissingCredential)
                }
                Fence::None => Ok(oauth_expired(Some(e), now).then_some(OrderReason::Expired)),
            }
        }
    }
}

/// The list an effective order starts from.
struct Base {
    ids: Vec<String>,
    source: OrderSource,
    explicit: bool,
    skipped: Vec<OrderEntry>,
}

/// The active unusable windows of a profile, as reasons.
fn windows(u: &UsageStats, now: i64) -> Vec<OrderReason> {
    let at = |t: Option<i64>| {
        t.filter(|t| *t > now)
            .map(|t| iso_ms(t).unwrap_or_else(|| t.to_string()))
    };
    let mut out = Vec::new();
    if let Some(until) = at(u.blocked_until) {
        out.push(OrderReason::BlockedUntil { until });
    }
    if let Some(until) = at(u.cooldown_until) {
        out.push(OrderReason::CooldownUntil { until });
    }
    if let Some(until) = at(u.disabled_until) {
        out.push(OrderReason::DisabledUntil { until });
    }
    out
}

impl Snapshot {
    /// The order the gateway tries for `provider` now (as of [`Snapshot::read_at_ms`]); see
    /// [`Snapshot::effective_order_at`].
    pub fn effective_order(&self, provider: &str) -> EffectiveOrder {
        self.effective_order_at(provider, self.read_at_ms)
    }

    /// The order the gateway tries for `provider` at `now_ms`: the stored order (merged over
    /// layers), else config `auth.order`, else config `auth.profiles` ids, else every stored
    /// profile of the provider; the last two sorted oauth before token before api_key,
    /// unexpired first, least recently used first. Ineligible profiles are skipped (see the
    /// module doc); for every source, profiles in cooldown, blocked or disabled go last,
    /// soonest usable first.
    pub fn effective_order_at(&self, provider: &str, now_ms: i64) -> EffectiveOrder {
        let Base {
            ids,
            source,
            explicit,
            mut skipped,
        } = self.base_list(provider);
        let key = provider_key(provider);
        let mut eligible = Vec::with_capacity(ids.len());
        for id in ids {
            match eligibility(self.raw_profile(&id), &id, &key, now_ms) {
                Err(reason) => skipped.push(OrderEntry {
                    id,
                    reasons: vec![reason],
                }),
                Ok(caveat) => {
                    let facts = Facts {
                        entry: self.raw_profile(&id),
                        usage: self.usage_stats(&id),
                    };
                    eligible.push((id, facts, caveat));
                }
            }
        }
        let arranged = arrange(eligible, explicit, now_ms);
        let mut ids = Vec::with_capacity(arranged.len());
        let mut tried = Vec::with_capacity(arranged.len());
        for (id, f, caveat) in arranged {
            let mut reasons = if unusable_until(&f, &id, now_ms).is_some() {
                windows(&f.usage, now_ms)
            } else {
                Vec::new()
            };
            reasons.extend(caveat);
            ids.push(id.clone());
            tried.push(OrderEntry { id, reasons });
        }
        EffectiveOrder {
            ids,
            source,
            tried,
            skipped,
        }
    }

    /// The list the gateway starts from (see [`Snapshot::effective_order_at`]), which does
    /// not depend on the time: the stored order, config `auth.order`, config `auth.profiles`
    /// ids or every stored profile, de-duplicated, with an order naming only missing
    /// profiles repaired to the automatic one (its ids then listed as skipped).
    fn base_list(&self, provider: &str) -> Base {
        let (ids, source, explicit) =
            if let Some((ids, layer)) = merged_order(&self.layers, provider) {
                (ids, OrderSource::Store { layer }, true)
            } else if let Some(ids) = self.config.order_for(provider) {
                (ids.to_vec(), OrderSource::ConfigOrder, true)
            } else {
                let listed = self.config.profile_ids_for(provider);
                if listed.is_empty() {
                    let all = self.provider_profile_ids(provider);
                    (all, OrderSource::Automatic, false)
                } else {
                    (listed, OrderSource::ConfigProfiles, false)
                }
            };
        let ids = dedupe(ids);
        let all_missing = ids.iter().all(|id| self.raw_profile(id).is_none());
        if !ids.is_empty() && all_missing && !matches!(source, OrderSource::ConfigOrder) {
            // OpenClaw repairs an order of only missing profiles to the automatic one.
            let skipped = ids
                .into_iter()
                .map(|id| OrderEntry {
                    id,
                    reasons: vec![OrderReason::NotStored],
                })
                .collect();
            return Base {
                ids: self.provider_profile_ids(provider),
                source: OrderSource::Automatic,
                explicit: false,
                skipped,
            };
        }
        Base {
            ids,
            source,
            explicit,
            skipped: Vec::new(),
        }
    }

    /// The ids [`EffectiveOrder::members`] holds, as a set, without the time-dependent work
    /// (eligibility windows and sorting cannot add or remove a member).
    pub(crate) fn order_members(&self, provider: &str) -> HashSet<String> {
        let key = provider_key(provider);
        self.base_list(provider)
            .ids
            .into_iter()
            .filter(|id| {
                self.raw_profile(id)
                    .is_some_and(|e| provider_key(entry_provider(id, e)) == key)
            })
            .collect()
    }

    /// Why the gateway reads no order of `provider` for this store, if it does not:
    /// database stores (OpenClaw 2026.6 and later) know Codex profiles as `openai` only, and
    /// do not alias `openai-codex` (only `openclaw doctor --fix` renames those profiles).
    pub fn unused_provider(&self, provider: &str) -> Option<String> {
        (self.info.format != StoreFormat::Json && provider_key(provider) == "openai-codex").then(|| {
            "the gateway does not use provider openai-codex for a database store (its Codex profiles are openai; `openclaw doctor --fix` migrates openai-codex ones): use --provider openai".to_owned()
        })
    }

    /// Every stored profile id of `provider`, in stored order.
    pub(crate) fn provider_profile_ids(&self, provider: &str) -> Vec<String> {
        let key = provider_key(provider);
        self.raw_profiles()
            .iter()
            .filter(|(id, e)| provider_key(entry_provider(id, e)) == key)
            .map(|(id, _)| id.clone())
            .collect()
    }
}

impl EffectiveOrder {
    /// The stored profiles this order names, tried or skipped for now (a profile skipped for
    /// a failed refresh is back once logged in again): the tried ones first, in try order.
    pub fn members(&self) -> Vec<String> {
        let mut seen: HashSet<&str> = HashSet::new();
        self.ids
            .iter()
            .chain(
                self.skipped
                    .iter()
                    .filter(|e| {
                        !e.reasons.iter().any(|r| {
                            matches!(
                                r,
                                OrderReason::NotStored | OrderReason::OtherProvider { .. }
                            )
                        })
                    })
                    .map(|e| &e.id),
            )
            .filter(|id| seen.insert(id.as_str()))
            .cloned()
            .collect()
    }
}

#[cfg(test)]
#[path = "effective_tests.rs"]
mod tests;
