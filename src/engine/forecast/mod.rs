//! Forecast: from the usage history, per profile and window, the burn rate and when the
//! window runs out at that pace (with a range), compared with its reset; and for the pool,
//! when all usable quota runs out and the next recovery. Pure: rows and `now` in, values out.
//!
//! # Design
//! - [`window::estimate`] walks one window's samples in append order with an exponentially
//!   weighted rate (time constant a tenth of the window) that restarts when the window resets
//!   (`reset_at` moves forward by half a window or more, or used percent drops). Intervals
//!   whose clock did not move forward are skipped, so a clock jump never yields a negative
//!   rate; too few samples give [`Status::InsufficientData`] instead of a guess.
//! - [`pool::pool`] adds up the usable profiles' remaining quota and rates per window kind.
//! - [`render`] turns the values into the lines the CLI and the chat show; times in UTC.
//!
//! Files: `window.rs` (one window), `pool.rs` (all profiles), `render.rs` (text).

pub mod pool;
pub mod render;
pub mod window;

use serde::{Serialize, Serializer};

pub use pool::{PoolForecast, PoolStatus, Recovery};
pub use window::{Status, WindowForecast};

use crate::engine::history::Row;

/// One profile's history, as the forecast takes it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileHistory {
    /// Profile id.
    pub profile: String,
    /// The name shown (see `usage::report::labels`).
    pub label: String,
    /// Its rows in append order, the newest last.
    pub rows: Vec<Row>,
}

/// The forecast of one profile.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProfileForecast {
    /// Profile id.
    pub profile: String,
    /// The name shown.
    pub label: String,
    /// Whether its newest check says it can serve requests now (checked fine, token usable,
    /// no limit reached, no window used up).
    pub usable: bool,
    /// One forecast per window of its newest check that reported windows.
    pub windows: Vec<WindowForecast>,
}

/// The whole forecast: the top-level `forecast` of `usage --format json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Forecast {
    /// The `now` it was made for.
    #[serde(rename = "generated_at", serialize_with = "ser_iso")]
    pub now_ms: i64,
    /// Per profile, in the order given.
    pub profiles: Vec<ProfileForecast>,
    /// The pool of usable profiles.
    pub pool: PoolForecast,
}

/// Local statuses under which the gateway still sends requests with the token.
const USABLE_LOCAL: [&str; 2] = ["ok", "expiring"];

/// Forecast one profile from its rows.
pub fn profile(h: &ProfileHistory, now_ms: i64) -> ProfileForecast {
    let newest = h.rows.last();
    let with_windows = h.rows.iter().rev().find(|r| !r.windows.is_empty());
    let windows: Vec<WindowForecast> = with_windows
        .map(|r| {
            r.windows
                .iter()
                .map(|w| window::estimate(&h.rows, w.limit.as_deref(), &w.label, now_ms))
                .collect()
        })
        .unwrap_or_default();
    let usable = newest.is_some_and(|r| {
        r.remote_error.is_none()
            && USABLE_LOCAL.contains(&r.local_status.as_str())
            && r.limit_reached != Some(true)
            && !r.windows.is_empty()
    }) && !windows
        .iter()
        .any(|w| w.limit.is_none() && w.status == Status::Exhausted);
    ProfileForecast {
        profile: h.profile.clone(),
        label: h.label.clone(),
        usable,
        windows,
    }
}

/// Forecast every profile and the pool.
pub fn forecast(histories: &[ProfileHistory], now_ms: i64) -> Forecast {
    let profiles: Vec<ProfileForecast> = histories.iter().map(|h| profile(h, now_ms)).collect();
    let pool = pool::pool(&profiles, now_ms);
    Forecast {
        now_ms,
        profiles,
        pool,
    }
}

/// Milliseconds as RFC 3339 UTC.
pub(crate) fn ser_iso<S: Serializer>(ms: &i64, s: S) -> Result<S::Ok, S::Error> {
    match crate::engine::health::iso_ms(*ms) {
        Some(t) => s.serialize_str(&t),
        None => s.serialize_none(),
    }
}

/// Optional milliseconds as RFC 3339 UTC.
pub(crate) fn ser_opt_iso<S: Serializer>(ms: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match ms.and_then(crate::engine::health::iso_ms) {
        Some(t) => s.serialize_str(&t),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests;
