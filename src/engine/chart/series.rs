//! Rows to series: one [`Series`] per (profile, window) in the order the windows were first
//! seen, a gap for every check that did not report the window, resets flagged as the forecast
//! detects them, and the forecast as a line.

use super::{ForecastLine, Point, Series};
use crate::engine::forecast::{self, ProfileHistory, Status, WindowForecast};
use crate::engine::history::{Row, window_seconds_for_label};

/// A drop in used percent larger than this is a reset (as `forecast::window` decides).
const RESET_DROP: f64 = 1.0;

/// Every profile's series, rows taken at or after `since_ms`, the forecast made at `now_ms`.
pub fn build(histories: &[ProfileHistory], since_ms: i64, now_ms: i64) -> Vec<Series> {
    histories
        .iter()
        .flat_map(|h| profile_series(h, since_ms, now_ms))
        .collect()
}

fn profile_series(h: &ProfileHistory, since_ms: i64, now_ms: i64) -> Vec<Series> {
    // The history keeps append order (for the forecast); a chart is drawn in time order.
    let mut rows: Vec<&Row> = h.rows.iter().filter(|r| r.at_ms >= since_ms).collect();
    rows.sort_by_key(|r| r.at_ms);
    let mut keys: Vec<(Option<String>, String)> = Vec::new();
    for w in rows.iter().flat_map(|r| r.windows.iter()) {
        if !keys.iter().any(|(l, n)| *l == w.limit && *n == w.label) {
            keys.push((w.limit.clone(), w.label.clone()));
        }
    }
    let fc = forecast::profile(h, now_ms);
    keys.into_iter()
        .map(|(limit, window)| {
            let points = points(&rows, limit.as_deref(), &window);
            let forecast = fc
                .windows
                .iter()
                .find(|w| w.limit == limit && w.label == window)
                .and_then(line);
            let window_seconds = rows
                .iter()
                .find_map(|r| r.window(limit.as_deref(), &window)?.window_seconds)
                .or_else(|| window_seconds_for_label(&window));
            Series {
                profile: h.profile.clone(),
                label: h.label.clone(),
                limit,
                window,
                window_seconds,
                points,
                forecast,
            }
        })
        .collect()
}

fn points(rows: &[&Row], limit: Option<&str>, label: &str) -> Vec<Point> {
    let mut out: Vec<Point> = Vec::with_capacity(rows.len());
    let mut prev: Option<(f64, Option<i64>, Option<i64>)> = None;
    for r in rows {
        let w = r.window(limit, label);
        let used = w
            .and_then(|w| w.used_percent)
            .filter(|u| u.is_finite())
            .map(|u| u.clamp(0.0, 100.0));
        let reset_at_ms = w.and_then(|w| w.reset_at).map(|s| s.saturating_mul(1000));
        let window_ms = w
            .and_then(|w| w.window_seconds)
            .filter(|s| *s > 0)
            .map(|s| s.saturating_mul(1000));
        let reset = match (prev, used) {
            (Some((p_used, p_reset, p_window)), Some(u)) => {
                u + RESET_DROP < p_used
                    || match (p_reset, reset_at_ms, window_ms.or(p_window)) {
                        (Some(a), Some(b), Some(len)) => b.saturating_sub(a) >= len / 2,
                        _ => false,
                    }
            }
            _ => false,
        };
        if let Some(u) = used {
            prev = Some((u, reset_at_ms, window_ms));
        }
        out.push(Point {
            at_ms: r.at_ms,
            remaining_percent: used.map(|u| 100.0 - u),
            reset_at_ms,
            reset,
        });
    }
    out
}

/// The forecast as a line from the newest check at its pace, to the run-out or the reset.
fn line(w: &WindowForecast) -> Option<ForecastLine> {
    let from_ms = w.as_of_ms?;
    let from_percent = 100.0 - w.used_percent?;
    let rate_per_ms = w.rate_percent_per_hour? / 3_600_000.0;
    let to_ms = match w.status {
        Status::RunsOut => w.runs_out_at_ms?,
        Status::LastsUntilReset => w.reset_at_ms?,
        _ => return None,
    };
    if to_ms <= from_ms || !rate_per_ms.is_finite() {
        return None;
    }
    let to_percent = (from_percent - rate_per_ms * (to_ms - from_ms) as f64).clamp(0.0, 100.0);
    Some(ForecastLine {
        from_ms,
        from_percent,
        to_ms,
        to_percent: if w.status == Status::RunsOut {
            0.0
        } else {
            to_percent
        },
        status: w.status,
    })
}
