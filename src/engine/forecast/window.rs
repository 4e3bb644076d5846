//! One window of one profile: its burn rate and when it runs out at that pace.

use serde::Serialize;

use crate::engine::history::Row;

/// Fewest samples in the current window for a forecast (two intervals).
pub const MIN_SAMPLES: usize = 3;
/// Shortest span they must cover.
pub const MIN_SPAN_MS: i64 = 10 * 60_000;
/// A drop in used percent larger than this is a reset, not rounding.
const RESET_DROP: f64 = 1.0;
/// Below this pace (percent per hour) the window is idle.
const IDLE_RATE_PER_H: f64 = 0.05;
/// Relative spread the range keeps at least, so a steady burn still shows a range.
const MIN_SPREAD: f64 = 0.1;
/// A run-out further away than this is not a forecast anyone can use.
const MAX_HORIZON_S: f64 = 400.0 * 86_400.0;
/// Time constant when the window length is unknown.
const DEFAULT_TAU_S: f64 = 1800.0;
/// The longest time constant (a week's window would otherwise get 16.8 h).
const MAX_TAU_S: f64 = 7200.0;
/// How much history a window's estimate depends on: its whole window, but never more than
/// six of the longest time constant (older samples weigh under 0.25 %). This bounds what a
/// forecast reads to 12 h, whatever the retention.
pub const MEMORY_S: i64 = 6 * MAX_TAU_S as i64;

/// Seconds of history a forecast of a window of `window_s` needs (see [`MEMORY_S`]).
pub fn lookback_seconds(window_s: Option<i64>) -> i64 {
    window_s.unwrap_or(MEMORY_S).clamp(1, MEMORY_S)
}

/// What can be said about a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// At this pace it runs out before it resets (or its reset is unknown).
    RunsOut,
    /// At this pace it lasts until its reset.
    LastsUntilReset,
    /// No measurable use lately.
    Idle,
    /// Used up (or, at the pace of the last check, used up by now).
    Exhausted,
    /// Its reset time has passed since the newest check: quota is back.
    ResetSinceLastCheck,
    /// Too few checks in the current window to say.
    InsufficientData,
    /// The newest check is too old to project from.
    Stale,
}

/// The forecast of one window. Durations are whole seconds from `now`, never negative.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WindowForecast {
    /// `None` for the main rate limit, else the additional limit's name.
    pub limit: Option<String>,
    /// `5h`, `week`, ...
    pub label: String,
    /// The verdict.
    pub status: Status,
    /// Checks in the current window (since its last reset) within the history read.
    pub samples: usize,
    /// Used percent at the newest check.
    pub used_percent: Option<f64>,
    /// Remaining percent now, at this pace.
    pub remaining_percent: Option<f64>,
    /// Smoothed burn rate, percent of the window per hour.
    pub rate_percent_per_hour: Option<f64>,
    /// When it runs out at this pace (only with `runs_out`).
    #[serde(serialize_with = "super::ser_opt_iso", rename = "runs_out_at")]
    pub runs_out_at_ms: Option<i64>,
    /// Seconds until then.
    pub runs_out_in_seconds: Option<i64>,
    /// The range of that, `[soonest, latest]` seconds.
    pub runs_out_range_seconds: Option<[i64; 2]>,
    /// When the window resets.
    #[serde(serialize_with = "super::ser_opt_iso", rename = "reset_at")]
    pub reset_at_ms: Option<i64>,
    /// Seconds until then.
    pub reset_in_seconds: Option<i64>,
    /// The newest check's time.
    #[serde(serialize_with = "super::ser_opt_iso", rename = "as_of")]
    pub as_of_ms: Option<i64>,
    /// Rate range in percent per hour, `[low, high]` (used by the pool).
    #[serde(skip)]
    pub rate_range_per_hour: Option<[f64; 2]>,
}

#[derive(Debug, Clone, Copy)]
struct Sample {
    at_ms: i64,
    used: f64,
    reset_at_s: Option<i64>,
    window_s: Option<i64>,
}

/// The running estimate over the current window's samples.
#[derive(Debug, Clone, Copy)]
struct Ewma {
    samples: usize,
    span_ms: i64,
    rate: Option<f64>,
    var: f64,
}

impl Ewma {
    fn start() -> Ewma {
        Ewma {
            samples: 1,
            span_ms: 0,
            rate: None,
            var: 0.0,
        }
    }
}

fn tau_s(window_s: Option<i64>) -> f64 {
    window_s.map_or(DEFAULT_TAU_S, |w| (w as f64 / 10.0).clamp(300.0, MAX_TAU_S))
}

fn is_reset(prev: &Sample, next: &Sample) -> bool {
    if next.used + RESET_DROP < prev.used {
        return true;
    }
    match (
        prev.reset_at_s,
        next.reset_at_s,
        next.window_s.or(prev.window_s),
    ) {
        (Some(a), Some(b), Some(w)) => b.saturating_sub(a) >= w / 2,
        _ => false,
    }
}

/// Estimate the window `(limit, label)` from a profile's rows (append order) at `now_ms`.
pub fn estimate(rows: &[Row], limit: Option<&str>, label: &str, now_ms: i64) -> WindowForecast {
    let samples: Vec<Sample> = rows
        .iter()
        .filter_map(|r| {
            let w = r.window(limit, label)?;
            Some(Sample {
                at_ms: r.at_ms,
                used: w.used_percent.filter(|u| u.is_finite())?.clamp(0.0, 100.0),
                reset_at_s: w.reset_at,
                window_s: w.window_seconds.filter(|s| *s > 0),
            })
        })
        .collect();
    let mut out = WindowForecast {
        limit: limit.map(str::to_owned),
        label: label.to_owned(),
        status: Status::InsufficientData,
        samples: 0,
        used_percent: None,
        remaining_percent: None,
        rate_percent_per_hour: None,
        runs_out_at_ms: None,
        runs_out_in_seconds: None,
        runs_out_range_seconds: None,
        reset_at_ms: None,
        reset_in_seconds: None,
        as_of_ms: None,
        rate_range_per_hour: None,
    };
    let Some((first, rest)) = samples.split_first() else {
        return out;
    };
    let (mut last, mut est) = (*first, Ewma::start());
    for s in rest {
        if is_reset(&last, s) {
            (last, est) = (*s, Ewma::start());
            continue;
        }
        est.samples += 1;
        let dt_ms = s.at_ms.saturating_sub(last.at_ms);
        if dt_ms > 0 {
            // A drop within RESET_DROP is rounding: no burn, never a negative rate.
            let r = (s.used - last.used).max(0.0) / (dt_ms as f64 / 1000.0);
            match est.rate {
                None => est.rate = Some(r),
                Some(rate) => {
                    let alpha = 1.0 - (-(dt_ms as f64 / 1000.0) / tau_s(s.window_s)).exp();
                    let diff = r - rate;
                    est.rate = Some(rate + alpha * diff);
                    est.var = (1.0 - alpha) * (est.var + alpha * diff * diff);
                }
            }
            est.span_ms = est.span_ms.saturating_add(dt_ms);
        }
        // dt <= 0: the clock went backwards (or two checks share a time); the interval says
        // nothing about pace, but the newer level is the one to project from.
        last = *s;
    }
    fill(&mut out, &last, &est, now_ms);
    out
}

/// A reset further from its check than the window is long (plus slack for clock skew) is
/// not believed: it would print "resets in 3 years" for a 5h window.
fn plausible_reset_ms(last: &Sample) -> Option<i64> {
    let at = last.reset_at_s?.saturating_mul(1000);
    let slack_ms = 10 * 60_000;
    match last.window_s {
        Some(w) if at.saturating_sub(last.at_ms) > w.saturating_mul(1100) + slack_ms => None,
        _ => Some(at),
    }
}

fn fill(out: &mut WindowForecast, last: &Sample, est: &Ewma, now_ms: i64) {
    out.samples = est.samples;
    out.used_percent = Some(last.used);
    out.as_of_ms = Some(last.at_ms);
    out.reset_at_ms = plausible_reset_ms(last);
    out.reset_in_seconds = out
        .reset_at_ms
        .map(|r| (r.saturating_sub(now_ms) / 1000).max(0));
    // A clock behind the newest check counts as "no time passed".
    let age_s = (now_ms.saturating_sub(last.at_ms)).max(0) as f64 / 1000.0;
    let stale_after_s = last
        .window_s
        .map_or(1800.0, |w| (w as f64 / 4.0).clamp(1800.0, 6.0 * 3600.0));
    if out.reset_at_ms.is_some_and(|r| r <= now_ms) {
        out.status = Status::ResetSinceLastCheck;
        return;
    }
    if last.used >= 100.0 {
        out.status = Status::Exhausted;
        out.remaining_percent = Some(0.0);
        return;
    }
    if age_s > stale_after_s {
        out.status = Status::Stale;
        return;
    }
    let rate = match est.rate {
        Some(r) if est.samples >= MIN_SAMPLES && est.span_ms >= MIN_SPAN_MS && r.is_finite() => r,
        _ => {
            out.status = Status::InsufficientData;
            return;
        }
    };
    let per_h = |r: f64| r * 3600.0;
    let sd = est.var.max(0.0).sqrt();
    let hi = (rate + sd).max(rate * (1.0 + MIN_SPREAD));
    let lo = (rate - sd).min(rate * (1.0 - MIN_SPREAD)).max(0.0);
    // Rounded to 0.001, far finer than any line shows, so JSON readers get clean numbers.
    let shown = |v: f64| (v * 1000.0).round() / 1000.0;
    out.rate_percent_per_hour = Some(shown(per_h(rate)));
    out.rate_range_per_hour = Some([per_h(lo), per_h(hi)]);
    let remaining = (100.0 - last.used - rate * age_s).clamp(0.0, 100.0);
    out.remaining_percent = Some(shown(remaining));
    if remaining <= 0.0 {
        out.status = Status::Exhausted;
        return;
    }
    if per_h(rate) < IDLE_RATE_PER_H || remaining / rate > MAX_HORIZON_S {
        out.status = Status::Idle;
        return;
    }
    let secs = |r: f64| {
        if r > 0.0 {
            (remaining / r).min(MAX_HORIZON_S).round() as i64
        } else {
            MAX_HORIZON_S as i64
        }
    };
    let t = secs(rate);
    let at = now_ms.saturating_add(t.saturating_mul(1000));
    if out.reset_at_ms.is_some_and(|r| at >= r) {
        out.status = Status::LastsUntilReset;
        return;
    }
    out.status = Status::RunsOut;
    out.runs_out_in_seconds = Some(t);
    out.runs_out_at_ms = Some(at);
    out.runs_out_range_seconds = Some([secs(hi), secs(lo)]);
}
