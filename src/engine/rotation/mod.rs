//! Rotation guidance: how many Codex profiles are usable now, what the gateway will try on a
//! rate limit and in which order, and what stands in the way, from this gateway's own state
//! (the [`Snapshot`], `openclaw.json` and the session overrides). Pure analysis: the caller
//! reads the store and the overrides; nothing here does I/O.
//!
//! Verified in OpenClaw 2026.9.6's bundled JS (`node_modules/openclaw/dist`):
//! - `embedded-agent-*.mjs`, `createEmbeddedRunFailoverRetryController`:
//!   `MAX_RATE_LIMIT_PROFILE_ROTATIONS = 1`; `advanceRateLimitAuthProfile` throws a
//!   `FailoverError` ("escalating to model fallback") once `rateLimitProfileRotations >= 1 &&
//!   fallbackConfigured`. So with a fallback a rate-limited turn tries two profiles, then the
//!   fallback model; without one it keeps advancing through the order. A constant, not a
//!   setting.
//! - `fallbackConfigured = modelFallbackAvailability.kind === "active"`, from
//!   `resolveModelFallbackAvailability` (`agent-scope-*.mjs`); the fallbacks themselves are
//!   resolved by [`AuthConfig::fallbacks_for`](crate::engine::store::AuthConfig::fallbacks_for).
//! - `setup-inference-*.mjs`: `appServer.homeScope === "user"` skips the auth-profile lookup;
//!   per OpenClaw's docs (`docs/plugins/codex-harness-reference/auth.md`) the app-server then
//!   uses `$CODEX_HOME` or `~/.codex` and "OpenClaw skips its auth-profile bridge".
//! - `order-*.mjs` never reads `lastGood`: it does not move a profile in the order.
//! - Session pins (`authProfileOverride`, `session-override-*.mjs`): per OpenClaw's docs
//!   (`docs/concepts/model-failover.md`, "Session stickiness") the pinned profile is tried first
//!   while eligible; while it is in cooldown the next eligible one is tried and the pin stays.
//!   Cooldowns there: 30 s, 1 min, then 5 min per failure; billing disables ten minutes.

mod findings;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::engine::change::doctor::Severity;
use crate::engine::change::session::{SessionOverride, read_overrides};
use crate::engine::store::config::FallbackSource;
use crate::engine::store::{EffectiveOrder, Snapshot, Store, StoreError};

/// `MAX_RATE_LIMIT_PROFILE_ROTATIONS` in OpenClaw 2026.9.6: other profiles tried on a rate
/// limit before the model fallback.
pub const RATE_LIMIT_ROTATIONS: usize = 1;

/// One thing that shapes or blocks rotation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RotationFinding {
    /// Stable code.
    pub code: &'static str,
    /// Info or action.
    pub severity: Severity,
    /// What was found and what it means (names profiles, never secrets).
    pub message: String,
    /// The command that helps, if any.
    pub fix: Option<String>,
    /// The facts the message was made from, for chat templates (ids, model, times).
    pub facts: BTreeMap<String, String>,
}

/// The guidance for one provider.
#[derive(Debug, Clone, Serialize)]
pub struct Rotation {
    /// The provider (`openai`).
    pub provider: String,
    /// The agent the fallbacks were resolved for.
    pub agent: String,
    /// Profiles the gateway can use now (tried, not blocked, cooling down or disabled).
    pub usable_now: usize,
    /// The order the gateway tries (blocked ones last).
    pub try_order: Vec<String>,
    /// Where the order comes from (`store`, `config_order`, `config_profiles`, `automatic`).
    pub order_source: &'static str,
    /// The first model fallback, when one is configured.
    pub fallback_model: Option<String>,
    /// Every configured model fallback, in order.
    pub fallbacks: Vec<String>,
    /// Where the fallbacks come from, when there are any.
    pub fallback_source: Option<FallbackSource>,
    /// How many profiles a rate-limited turn tries before giving up on Codex.
    pub tried_per_turn: usize,
    /// The profile last recorded as good (informational: it does not move the order).
    pub last_good: Option<String>,
    /// The Codex harness uses `~/.codex/auth.json`, not these profiles.
    pub home_scope_user: bool,
    /// Everything that stands in the way, or is worth knowing.
    pub findings: Vec<RotationFinding>,
}

/// The ids of `eff` the gateway can use now: tried, with no active block window.
pub fn usable_ids(eff: &EffectiveOrder) -> Vec<String> {
    eff.tried
        .iter()
        .filter(|e| !e.reasons.iter().any(|r| r.moves_last()))
        .map(|e| e.id.clone())
        .collect()
}

/// The session pins of the store's agent (an unreadable session store is logged and treated
/// as holding none: the guidance is still worth giving).
pub fn pins(store: &Store) -> Vec<SessionOverride> {
    read_overrides(store.state_dir(), store.agent()).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "session overrides unreadable; rotation guidance without pins");
        Vec::new()
    })
}

/// Load the store and analyse it for its Codex provider and agent.
pub fn for_store(store: &Store) -> Result<(Snapshot, Rotation), StoreError> {
    let snap = store.load()?;
    let r = analyse(
        &snap,
        store.codex_provider().as_str(),
        store.agent(),
        &pins(store),
    );
    Ok((snap, r))
}

/// Analyse `snap` for `provider` as the gateway runs `agent`, with the sessions' pins.
pub fn analyse(snap: &Snapshot, provider: &str, agent: &str, pins: &[SessionOverride]) -> Rotation {
    let eff = snap.effective_order(provider);
    let usable = usable_ids(&eff);
    let (fallbacks, source) = snap.config.fallbacks_for(agent);
    let fallback_model = fallbacks.first().cloned();
    let tried_per_turn = if fallback_model.is_some() {
        usable.len().min(RATE_LIMIT_ROTATIONS + 1)
    } else {
        usable.len()
    };
    let home_scope_user = snap.config.codex_home_scope.as_deref() == Some("user");
    let found = findings::all(
        &findings::Ctx {
            snap,
            provider,
            eff: &eff,
            usable: &usable,
            fallback_model: fallback_model.as_deref(),
            fallback_source: source,
            pins,
        },
        home_scope_user,
    );
    Rotation {
        provider: provider.to_owned(),
        agent: agent.to_owned(),
        usable_now: usable.len(),
        try_order: eff.ids.clone(),
        order_source: eff.source.as_str(),
        fallback_source: fallback_model.is_some().then_some(source),
        fallback_model,
        fallbacks,
        tried_per_turn,
        last_good: snap.last_good(provider),
        home_scope_user,
        findings: found,
    }
}

#[cfg(test)]
mod tests;
