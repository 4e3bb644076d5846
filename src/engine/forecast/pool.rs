//! The pool: all usable profiles together. At the current pace the gateway moves from one
//! profile to the next as each runs out, so per kind of window (`5h`, `week`) the pool's
//! remaining quota is the sum of the usable profiles' remaining percent, burnt at the sum of
//! their rates; the pool runs out with its first kind to run out. Resets that come before
//! are not counted: the next recovery is reported beside it.

use std::collections::BTreeMap;

use serde::Serialize;

use super::window::Status;
use super::{ProfileForecast, WindowForecast};

/// What can be said about the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PoolStatus {
    /// All usable quota runs out at the current pace.
    RunsOut,
    /// It does not run out at the current pace.
    Lasts,
    /// Some usable profile has too little history to say.
    InsufficientData,
    /// No profile is usable now.
    NoUsableProfiles,
}

/// When quota next comes back: the earliest reset of a window that is used up or runs out.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recovery {
    /// Profile id.
    pub profile: String,
    /// Its shown name.
    pub label: String,
    /// The window (`5h`, `week`).
    pub window: String,
    /// When it resets.
    #[serde(serialize_with = "super::ser_iso", rename = "at")]
    pub at_ms: i64,
    /// Seconds from now.
    pub in_seconds: i64,
}

/// The pool forecast.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PoolForecast {
    /// The verdict.
    pub status: PoolStatus,
    /// Profiles usable now.
    pub usable_profiles: usize,
    /// Usable profiles with too little (or too old) history.
    pub profiles_without_forecast: usize,
    /// The kind of window that runs out first (with `runs_out`).
    pub window: Option<String>,
    /// When all usable quota runs out.
    #[serde(serialize_with = "super::ser_opt_iso", rename = "runs_out_at")]
    pub runs_out_at_ms: Option<i64>,
    /// Seconds until then.
    pub runs_out_in_seconds: Option<i64>,
    /// `[soonest, latest]` seconds.
    pub runs_out_range_seconds: Option<[i64; 2]>,
    /// The next recovery, if any window is used up or runs out.
    pub next_recovery: Option<Recovery>,
}

const MAX_HORIZON_S: f64 = 400.0 * 86_400.0;
const IDLE_RATE_PER_H: f64 = 0.05;

fn has_forecast(w: &WindowForecast) -> bool {
    matches!(
        w.status,
        Status::RunsOut | Status::LastsUntilReset | Status::Idle
    )
}

fn next_recovery(profiles: &[ProfileForecast], now_ms: i64) -> Option<Recovery> {
    profiles
        .iter()
        .flat_map(|p| {
            p.windows
                .iter()
                .filter(|w| w.limit.is_none())
                .filter(move |w| {
                    !p.usable || matches!(w.status, Status::Exhausted | Status::RunsOut)
                })
                .filter_map(move |w| {
                    let at = w.reset_at_ms.filter(|at| *at > now_ms)?;
                    Some(Recovery {
                        profile: p.profile.clone(),
                        label: p.label.clone(),
                        window: w.label.clone(),
                        at_ms: at,
                        in_seconds: (at - now_ms) / 1000,
                    })
                })
        })
        .min_by_key(|r| r.at_ms)
}

/// Forecast the pool from the profiles' forecasts.
pub fn pool(profiles: &[ProfileForecast], now_ms: i64) -> PoolForecast {
    let usable: Vec<&ProfileForecast> = profiles.iter().filter(|p| p.usable).collect();
    let mut out = PoolForecast {
        status: PoolStatus::NoUsableProfiles,
        usable_profiles: usable.len(),
        profiles_without_forecast: 0,
        window: None,
        runs_out_at_ms: None,
        runs_out_in_seconds: None,
        runs_out_range_seconds: None,
        next_recovery: next_recovery(profiles, now_ms),
    };
    if usable.is_empty() {
        return out;
    }
    out.profiles_without_forecast = usable
        .iter()
        .filter(|p| {
            p.windows
                .iter()
                .any(|w| w.limit.is_none() && !has_forecast(w))
        })
        .count();
    if out.profiles_without_forecast > 0 {
        out.status = PoolStatus::InsufficientData;
        return out;
    }
    // Per kind of window: (remaining, rate, low rate, high rate), percent and percent/h.
    let mut kinds: BTreeMap<&str, [f64; 4]> = BTreeMap::new();
    for w in usable
        .iter()
        .flat_map(|p| p.windows.iter().filter(|w| w.limit.is_none()))
    {
        let k = kinds.entry(w.label.as_str()).or_default();
        k[0] += w.remaining_percent.unwrap_or(0.0);
        k[1] += w.rate_percent_per_hour.unwrap_or(0.0);
        let [lo, hi] = w.rate_range_per_hour.unwrap_or([0.0, 0.0]);
        k[2] += lo;
        k[3] += hi;
    }
    let secs = |remaining: f64, per_h: f64| -> Option<i64> {
        let s = remaining / per_h * 3600.0;
        (per_h >= IDLE_RATE_PER_H && s.is_finite() && s <= MAX_HORIZON_S).then(|| s.round() as i64)
    };
    let first = kinds
        .iter()
        .filter_map(|(label, [rem, rate, lo, hi])| {
            let t = secs(*rem, *rate)?;
            let late = secs(*rem, *lo).unwrap_or(MAX_HORIZON_S as i64);
            Some((
                t,
                *label,
                [secs(*rem, *hi).unwrap_or(t).min(t), late.max(t)],
            ))
        })
        .min_by_key(|(t, _, _)| *t);
    match first {
        Some((t, label, range)) => {
            out.status = PoolStatus::RunsOut;
            out.window = Some(label.to_owned());
            out.runs_out_in_seconds = Some(t);
            out.runs_out_at_ms = Some(now_ms.saturating_add(t.saturating_mul(1000)));
            out.runs_out_range_seconds = Some(range);
        }
        None => out.status = PoolStatus::Lasts,
    }
    out
}
