//! The watcher's rules, pure: from the previous [`WatchState`], this round's
//! [`Observation`]s (each profile's usage result with its local health) and the forecast,
//! the [`ChangeSet`] to notify and the state to keep once it was delivered.
//!
//! Every "once" is keyed by a value the endpoint or the store gave (a window's reset time,
//! a token's expiry, a block's end), never by the clock, so a clock that jumps backwards
//! repeats nothing, and no duration is computed from the previous round's time. A profile
//! seen for the first time (or every profile, in a fresh state's first round) is recorded
//! without events. A check that failed for a passing reason (timeout, 5xx, 429) changes
//! nothing: a flapping network is not news.

use std::collections::BTreeMap;

use super::config::WatchConfig;
use super::event::{ChangeSet, Event, Who};
use super::state::{ProfileState, Status, WatchState, WindowState};
use crate::engine::forecast::{ProfileForecast, Status as ForecastStatus};
use crate::engine::health::TokenStatus;
use crate::engine::usage::{ProfileResult, RemoteError, RemoteUsage, UsageWindow};

/// A window whose length is unknown is taken to be this long when telling cycles apart.
const UNKNOWN_WINDOW_S: i64 = 3600;
/// A drop in used percent larger than this is a reset (the forecast's rule too).
const RESET_DROP: f64 = 1.0;

/// One profile's check, as the rules take it.
#[derive(Debug, Clone)]
pub struct Observation {
    /// The usage result (local health included).
    pub result: ProfileResult,
    /// The name shown.
    pub label: String,
    /// Token expiry (ms), when known.
    pub token_expires_at_ms: Option<i64>,
    /// When the gateway lets it serve again (the latest future `blockedUntil`,
    /// `cooldownUntil`, `disabledUntil`, ms), when it keeps it out now.
    pub unusable_until_ms: Option<i64>,
}

/// The key of a window in the state and the events: `5h`, `week`, `code_review 5h`.
pub fn window_key(name: Option<&str>, label: &str) -> String {
    match name {
        Some(n) => format!("{n} {label}"),
        None => label.to_owned(),
    }
}

/// Apply the rules to one round.
pub fn evaluate(
    prev: &WatchState,
    observations: &[Observation],
    forecasts: &[ProfileForecast],
    config: &WatchConfig,
    now_ms: i64,
) -> (ChangeSet, WatchState) {
    let mut next = prev.clone();
    next.version = super::state::VERSION;
    let mut events = Vec::new();
    // Workspace id -> (labels of its profiles, newly out, reached type).
    let mut workspaces: BTreeMap<String, (Vec<String>, bool, Option<String>)> = BTreeMap::new();
    for o in observations {
        let id = &o.result.profile;
        let before = prev.profiles.get(id);
        let record_only = prev.is_fresh() || before.is_none();
        let mut ps = before.cloned().unwrap_or_default();
        let mut found = Vec::new();
        let forecast = forecasts.iter().find(|f| &f.profile == id);
        observe(&mut ps, o, forecast, config, now_ms, &mut found);
        if let (Some(account), Some(u)) = (&o.result.account_id, &o.result.remote_usage) {
            let entry = workspaces.entry(account.clone()).or_default();
            entry.0.push(o.label.clone());
            let newly = u.workspace_out && !before.is_some_and(|b| b.workspace_out);
            entry.1 |= newly && !record_only;
            if u.workspace_out {
                entry.2.clone_from(&u.rate_limit_reached_type);
            }
        }
        if let Some(u) = &o.result.remote_usage {
            ps.workspace_out = u.workspace_out;
        }
        if !record_only {
            events.extend(found);
        }
        next.profiles.insert(id.clone(), ps);
    }
    for (account_id, (labels, newly, reached_type)) in workspaces {
        if newly {
            events.push(Event::WorkspaceOut {
                account_id,
                labels,
                reached_type,
            });
        }
    }
    next.last_round_ms = Some(prev.last_round_ms.map_or(now_ms, |t| t.max(now_ms)));
    let changes = ChangeSet {
        now_ms,
        profiles_checked: observations.len(),
        baseline: prev.is_fresh(),
        events,
    };
    (changes, next)
}

fn observe(
    ps: &mut ProfileState,
    o: &Observation,
    forecast: Option<&ProfileForecast>,
    config: &WatchConfig,
    now_ms: i64,
    out: &mut Vec<Event>,
) {
    let r = &o.result;
    let who = Who {
        profile: r.profile.clone(),
        label: o.label.clone(),
    };
    token(ps, o, &who, out);
    match (&r.remote_usage, r.remote_error) {
        (Some(u), _) => {
            ps.retry_not_before_ms = None;
            answered(ps, u, &who, config, out);
            stale_block(ps, r.is_usable(), o.unusable_until_ms, now_ms, &who, out);
        }
        (
            None,
            Some(
                e @ (RemoteError::AuthNotAcceptedByUsageEndpoint
                | RemoteError::ForbiddenByUsageEndpoint),
            ),
        ) => {
            if !ps.rejecting {
                out.push(Event::EndpointRejecting {
                    who: who.clone(),
                    error: e.as_str().to_owned(),
                });
            }
            ps.rejecting = true;
            ps.status = Status::Failed;
        }
        (None, Some(RemoteError::RateLimited)) => {
            let wait_ms = r.retry_after_seconds.map_or(0, |s| s.saturating_mul(1000));
            let wait_ms = i64::try_from(wait_ms).unwrap_or(i64::MAX);
            ps.retry_not_before_ms = Some(now_ms.saturating_add(wait_ms));
        }
        // Passing faults and local skips (expired, fenced) say nothing about quota.
        (None, _) => {}
    }
    if let Some(f) = forecast {
        ahead(ps, f, config, now_ms, &who, out);
    }
}

fn token(ps: &mut ProfileState, o: &Observation, who: &Who, out: &mut Vec<Event>) {
    let status = o.result.local.status;
    let key = o.token_expires_at_ms;
    match (status, key) {
        (TokenStatus::Expiring, Some(at)) if ps.expiring_sent_for != Some(at) => {
            out.push(Event::TokenExpiresSoon {
                who: who.clone(),
                expires_at_ms: at,
            });
            ps.expiring_sent_for = Some(at);
        }
        (TokenStatus::Expired, _) => {
            let k = key.unwrap_or(i64::MIN);
            if ps.expired_sent_for != Some(k) {
                out.push(Event::TokenExpired { who: who.clone() });
                ps.expired_sent_for = Some(k);
            }
        }
        _ => {}
    }
    let failed = status == TokenStatus::RefreshFailed;
    if failed && !ps.refresh_failed {
        out.push(Event::RefreshFailed { who: who.clone() });
    }
    ps.refresh_failed = failed;
}

fn answered(
    ps: &mut ProfileState,
    u: &RemoteUsage,
    who: &Who,
    config: &WatchConfig,
    out: &mut Vec<Event>,
) {
    if ps.rejecting {
        out.push(Event::EndpointAccepting { who: who.clone() });
        ps.rejecting = false;
    }
    let status = if u.limited {
        Status::Limited
    } else {
        Status::Usable
    };
    match (ps.status, status) {
        (Status::Limited, Status::Limited) => {}
        (_, Status::Limited) => {
            let full = u
                .all_windows()
                .find(|w| w.used_percent.is_some_and(|p| p >= 100.0));
            out.push(Event::Limited {
                who: who.clone(),
                window: full.map(|w| window_key(w.name.as_deref(), &w.label)),
                reset_at_ms: full
                    .and_then(|w| w.reset_at)
                    .map(|s| s.saturating_mul(1000)),
            });
        }
        (Status::Limited, Status::Usable) => out.push(Event::UsableAgain { who: who.clone() }),
        _ => {}
    }
    ps.status = status;
    for w in u.all_windows() {
        let key = window_key(w.name.as_deref(), &w.label);
        let ws = ps.windows.entry(key.clone()).or_default();
        if let Some(t) = crossed(ws, w, &config.alert_at) {
            out.push(Event::ThresholdCrossed {
                who: who.clone(),
                window: key,
                threshold: t,
                used_percent: w.used_percent.unwrap_or_default(),
                reset_at_ms: w.reset_at.map(|s| s.saturating_mul(1000)),
            });
        }
    }
}

/// Move `ws` to this check of its window (starting a new cycle at a reset) and return the
/// highest threshold newly crossed in the cycle.
fn crossed(ws: &mut WindowState, w: &UsageWindow, alert_at: &[u8]) -> Option<u8> {
    let half = w.limit_window_seconds.unwrap_or(UNKNOWN_WINDOW_S) / 2;
    let moved = matches!((ws.reset_at_s, w.reset_at), (Some(old), Some(new)) if new > old.saturating_add(half.max(60)));
    let dropped = matches!((ws.used_percent, w.used_percent), (Some(old), Some(new)) if new < old - RESET_DROP);
    if moved || dropped || ws.reset_at_s.is_none() {
        if moved || dropped {
            ws.threshold = 0;
        }
        ws.reset_at_s = w.reset_at.or(ws.reset_at_s);
    }
    ws.used_percent = w.used_percent.or(ws.used_percent);
    let used = w.used_percent?;
    let top = alert_at
        .iter()
        .copied()
        .filter(|t| used >= f64::from(*t))
        .max()?;
    (top > ws.threshold).then(|| {
        ws.threshold = top;
        top
    })
}

fn stale_block(
    ps: &mut ProfileState,
    usable: bool,
    until: Option<i64>,
    now_ms: i64,
    who: &Who,
    out: &mut Vec<Event>,
) {
    match until.filter(|u| usable && *u > now_ms) {
        Some(u) => {
            if ps.stale_block_until != Some(u) {
                out.push(Event::StaleBlock {
                    who: who.clone(),
                    until_ms: u,
                });
            }
            ps.stale_block_until = Some(u);
        }
        None => ps.stale_block_until = None,
    }
}

fn ahead(
    ps: &mut ProfileState,
    f: &ProfileForecast,
    config: &WatchConfig,
    now_ms: i64,
    who: &Who,
    out: &mut Vec<Event>,
) {
    let horizon_ms = i64::try_from(config.ahead.as_millis()).unwrap_or(i64::MAX);
    for w in &f.windows {
        let (Some(runs_out), Some(reset)) = (w.runs_out_at_ms, w.reset_at_ms) else {
            continue;
        };
        let soon = runs_out >= now_ms && runs_out.saturating_sub(now_ms) <= horizon_ms;
        if w.status != ForecastStatus::RunsOut || runs_out >= reset || !soon {
            continue;
        }
        let key = window_key(w.limit.as_deref(), &w.label);
        let ws = ps.windows.entry(key.clone()).or_default();
        // The cycle is the window's reset as first seen in it (see `crossed`).
        let cycle = ws.reset_at_s.unwrap_or(reset / 1000);
        if ws.ahead_sent_for == Some(cycle) {
            continue;
        }
        ws.ahead_sent_for = Some(cycle);
        out.push(Event::RunsOutSoon {
            who: who.clone(),
            window: key,
            runs_out_at_ms: runs_out,
            reset_at_ms: reset,
        });
    }
}
