//! Auto-order (issue 10 item 4): after a usage check, put the right profile first in the
//! provider's order, through the same preflight/backup/apply/verify path `order set` takes.
//! Off unless `CODEX_PROFILER_AUTO_ORDER` is `most-left` or `drain-first`.
//!
//! # Layout
//! - [`config`]: [`Strategy`], [`Settings`] (`CODEX_PROFILER_AUTO_ORDER`), and
//!   [`parse_alert_at`], the one parser of `CODEX_PROFILER_ALERT_AT` (the watcher's too).
//! - [`standing`]: each profile's standing this round (usable, unknown, limited, broken) and
//!   the ranking both strategies share.
//! - [`decide`]: the pure [`decide()`](decide::decide): keep the order (and why) or a new
//!   one (from, to, first before and after, why, each profile's standing, the pinned
//!   sessions).
//! - [`render`]: the decision in engine-side sentences.
//! - Here: [`apply`] (the change pipeline), [`run`] (decide over a fresh read, then apply)
//!   and [`after_round`] (what the watcher calls after each round).
//!
//! # Session pins
//! Verified in OpenClaw 2026.9.6's JS (`dist/session-override-*.mjs`,
//! `resolveSessionAuthProfileOverride`; `dist/auth-profile-override-provenance-*.mjs`): a
//! pin's source is `authProfileOverrideSource`, else `auto` when
//! `authProfileOverrideCompactionCount` is a number, else `user`. A `user` or `user-link` pin
//! is returned before the order is even looked at: an order change never moves it (only a
//! profile that is gone or of another provider clears it). An `auto` pin is sticky too: it
//! is cleared only when its profile leaves the order, and moved only when its profile is in
//! cooldown (to the next available one) or when an earlier profile of an explicit order
//! that had rate-limit failures is available again. New and unpinned sessions take the first
//! available profile of the order. So a reorder that keeps every profile in the order (as
//! this one does) changes the profile of new and unpinned sessions only; pinned sessions keep
//! theirs, and the decision names them. Auto-order never writes a session pin.

pub mod config;
pub mod decide;
pub mod render;
pub mod standing;

use serde::Serialize;

pub use config::{
    ALERT_AT_VAR, AUTO_ORDER_VAR, ConfigError, DEFAULT_ALERT_AT, Settings, Strategy,
    last_threshold, parse_alert_at,
};
pub use decide::{Decision, KeepWhy, MoveWhy, Round, Verdict, decide};

use crate::engine::change::{ChangeError, ChangeReport, ExecuteOptions, execute};
use crate::engine::profile::ProfileId;
use crate::engine::store::{Change, Store};
use crate::engine::usage::ProfileResult;

/// The action word of an auto-order change (backup names, reports).
pub const ACTION: &str = "order-auto";

/// What [`apply`] did.
#[derive(Debug, Clone, Serialize)]
pub struct Applied {
    /// The change report of the new order (a dry run's plan included); `None` when the
    /// decision keeps the order: nothing was planned or written.
    pub change: Option<ChangeReport>,
}

/// One round of auto-order: the decision and what applying it did.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// What was decided, and why.
    pub decision: Decision,
    /// The change report, when the decision reorders.
    pub change: Option<ChangeReport>,
}

impl Outcome {
    /// Whether a new order was written (not a dry run, not kept).
    pub fn reordered(&self) -> bool {
        self.change
            .as_ref()
            .is_some_and(|c| !c.dry_run && !c.written.is_empty())
    }
}

/// Apply a decision through the change pipeline (`order set`'s preflight, a backup of the
/// layer written, apply, verify). A kept order writes nothing; a dry run stops after
/// preflight (no backup). Refused when the order changed since the decision was made.
pub fn apply(store: &Store, decision: &Decision, dry_run: bool) -> Result<Applied, ChangeError> {
    let opts = ExecuteOptions {
        dry_run,
        action: ACTION,
        ..ExecuteOptions::default()
    };
    apply_with(store, decision, &opts)
}

/// [`apply`] with every option of a change (gateway-native mode, a queued restart).
pub fn apply_with(
    store: &Store,
    decision: &Decision,
    opts: &ExecuteOptions<'_>,
) -> Result<Applied, ChangeError> {
    let Some(to) = decision.new_order() else {
        return Ok(Applied { change: None });
    };
    let snap = store.load().map_err(ChangeError::store)?;
    let eff = snap.effective_order(&decision.provider);
    let mut now: Vec<String> = eff
        .members()
        .into_iter()
        .filter(|id| snap.raw_profile(id).is_some())
        .collect();
    let mut then = decision.from.clone();
    let first_now = eff.ids.first().cloned().or_else(|| now.first().cloned());
    now.sort();
    then.sort();
    if first_now != decision.first_before || now != then {
        return Err(ChangeError::Refused(format!(
            "the {} order changed since the usage check (another change came first): nothing was written; run auto-order again",
            decision.provider
        )));
    }
    let ids = to
        .iter()
        .map(|id| ProfileId::parse(id).map_err(|_| ChangeError::UnknownProfile(id.clone())))
        .collect::<Result<Vec<_>, _>>()?;
    let change = Change::SetOrder {
        provider: decision.provider.clone(),
        ids,
    };
    let mut opts = *opts;
    opts.action = ACTION;
    Ok(Applied {
        change: Some(execute(store, change, &opts)?),
    })
}

/// Decide over a fresh read of `store` (with its agent's session pins) and this round's
/// `results`, then apply with `opts`.
pub fn run(
    store: &Store,
    results: &[ProfileResult],
    strategy: Strategy,
    last_threshold: u8,
    opts: &ExecuteOptions<'_>,
) -> Result<Outcome, ChangeError> {
    let snap = store.load().map_err(ChangeError::store)?;
    let pins = crate::engine::rotation::pins(store);
    let provider = store.codex_provider();
    let decision = decide(
        &snap,
        &Round {
            provider: provider.as_str(),
            results,
            strategy,
            last_threshold,
            pins: &pins,
        },
    );
    let applied = apply_with(store, &decision, opts)?;
    Ok(Outcome {
        decision,
        change: applied.change,
    })
}

/// The watcher's hook after a round: `Ok(None)` when auto-order is off, else the outcome of
/// [`run`] (`dry_run` for `watch --once --dry-run`). Notify when
/// [`Outcome::reordered`] (or, on a dry run, when the decision reorders).
pub fn after_round(
    store: &Store,
    results: &[ProfileResult],
    settings: &Settings,
    dry_run: bool,
) -> Result<Option<Outcome>, ChangeError> {
    let Some(strategy) = settings.strategy else {
        return Ok(None);
    };
    let opts = ExecuteOptions {
        dry_run,
        action: ACTION,
        ..ExecuteOptions::default()
    };
    run(store, results, strategy, settings.last_threshold, &opts).map(Some)
}

#[cfg(test)]
mod tests;
