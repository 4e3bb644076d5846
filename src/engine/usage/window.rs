//! One rate-limit window of a usage reply, and the sanity rules every number of a reply goes
//! through: a window is named by its length (`limit_window_seconds`), never by its position
//! (a weekly-only `primary_window` exists), and absurd values (a reset years away, a negative
//! percentage, NaN) become unknown instead of being shown as `106751991167300d`.

use serde::Serialize;
use serde_json::Value;

use crate::engine::health::iso_ms;
use crate::engine::lenient::number;

/// Seconds in an hour, for window labels.
const HOUR_S: f64 = 3600.0;

/// The furthest reset believed: a little over a year (billing periods are at most that).
/// Anything later is a broken value, shown as unknown.
pub const MAX_RESET_S: i64 = 400 * 86_400;

/// The label of a window whose length the endpoint did not give.
pub const UNKNOWN_LENGTH_LABEL: &str = "limit";

/// Which limit a window belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowKind {
    /// `rate_limit`: the Codex limits themselves.
    Codex,
    /// `code_review_rate_limit`: the code review limits, metered apart.
    CodeReview,
    /// One entry of `additional_rate_limits`, named by `name`.
    Additional,
}

/// One rate-limit window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UsageWindow {
    /// `5h`, `day`, `week` (from `limit_window_seconds`), or `limit` when the endpoint did not
    /// say how long the window is.
    pub label: String,
    /// `used_percent`, at most 100; unknown when missing, negative or not a number.
    pub used_percent: Option<f64>,
    /// `100 - used_percent`.
    pub remaining_percent: Option<f64>,
    /// `reset_at` (unix seconds) as RFC 3339 UTC; unknown when absurd.
    #[serde(serialize_with = "ser_unix_s")]
    pub reset_at: Option<i64>,
    /// `reset_after_seconds`, else computed from `reset_at` at the time of the check; unknown
    /// when negative or more than [`MAX_RESET_S`] away.
    pub reset_after_seconds: Option<i64>,
    /// Which limit this window belongs to.
    pub kind: WindowKind,
    /// `code_review` or the additional limit's name; `None` for the Codex windows.
    pub name: Option<String>,
    /// `limit_window_seconds`, when given and positive.
    pub limit_window_seconds: Option<i64>,
}

/// Serialise unix seconds as RFC 3339 UTC (null when unknown).
pub fn ser_unix_s<S: serde::Serializer>(v: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match v.and_then(|secs| iso_ms(secs.saturating_mul(1000))) {
        Some(t) => s.serialize_str(&t),
        None => s.serialize_none(),
    }
}

/// The label SPEC section 5 gives a window: under 24 h `<n>h`, from 168 h `week`, else `day`.
pub fn window_label(limit_window_seconds: f64) -> String {
    let hours = (limit_window_seconds / HOUR_S).round().max(1.0);
    if hours < 24.0 {
        format!("{}h", hours as i64)
    } else if hours >= 168.0 {
        "week".to_owned()
    } else {
        "day".to_owned()
    }
}

/// A percentage as reported: unknown when negative (or not a finite number), at most 100.
pub fn percent(v: Option<&Value>) -> Option<f64> {
    number(v).filter(|p| *p >= 0.0).map(|p| p.min(100.0))
}

/// A reset time and the seconds until it, from `reset_at` (unix s) and
/// `reset_after_seconds`, each dropped when absurd. The delay falls back to `reset_at - now`
/// (a reset a moment ago counts as now).
pub fn reset(at: Option<&Value>, after: Option<&Value>, now_s: i64) -> (Option<i64>, Option<i64>) {
    let at = number(at)
        .filter(|a| (*a - now_s as f64).abs() <= MAX_RESET_S as f64)
        .map(|a| a as i64);
    let after = number(after)
        .filter(|s| (0.0..=MAX_RESET_S as f64).contains(s))
        .map(|s| s as i64)
        .or_else(|| at.map(|a| a.saturating_sub(now_s).max(0)));
    (at, after)
}

/// Read one window object; `None` when it is missing, null or not an object.
pub fn window(
    v: Option<&Value>,
    kind: WindowKind,
    name: Option<&str>,
    now_s: i64,
) -> Option<UsageWindow> {
    let v = v.filter(|v| v.is_object())?;
    let used = percent(v.get("used_percent"));
    let (reset_at, reset_after_seconds) =
        reset(v.get("reset_at"), v.get("reset_after_seconds"), now_s);
    // Under a second is no window length (and would be reported as `0`).
    let length = number(v.get("limit_window_seconds")).filter(|s| *s >= 1.0);
    Some(UsageWindow {
        label: length.map_or_else(|| UNKNOWN_LENGTH_LABEL.to_owned(), window_label),
        used_percent: used,
        remaining_percent: used.map(|u| 100.0 - u),
        reset_at,
        reset_after_seconds,
        kind,
        name: name.map(str::to_owned),
        limit_window_seconds: length.map(|s| s as i64),
    })
}

/// The windows of one `rate_limit`-shaped object (`primary_window`, `secondary_window`).
pub fn windows(
    rate_limit: Option<&Value>,
    kind: WindowKind,
    name: Option<&str>,
    now_s: i64,
) -> Vec<UsageWindow> {
    let get = |k: &str| rate_limit.and_then(|r| r.get(k));
    [get("primary_window"), get("secondary_window")]
        .into_iter()
        .filter_map(|w| window(w, kind, name, now_s))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_800_000_000;

    #[test]
    fn labels_follow_spec() {
        assert_eq!(window_label(5.0 * 3600.0), "5h");
        assert_eq!(window_label(60.0), "1h");
        assert_eq!(window_label(23.0 * 3600.0), "23h");
        assert_eq!(window_label(24.0 * 3600.0), "day");
        assert_eq!(window_label(167.0 * 3600.0), "day");
        assert_eq!(window_label(604_800.0), "week");
    }

    #[test]
    fn absurd_resets_and_percentages_are_unknown() {
        let w = json!({"used_percent": -5, "limit_window_seconds": 18000,
            "reset_after_seconds": 9_223_372_036_854_775_807_i64, "reset_at": 1e300});
        let w = window(Some(&w), WindowKind::Codex, None, NOW).unwrap();
        assert_eq!((w.used_percent, w.remaining_percent), (None, None));
        assert_eq!((w.reset_at, w.reset_after_seconds), (None, None));
        let w = json!({"used_percent": "NaN", "reset_after_seconds": -30});
        let w = window(Some(&w), WindowKind::Codex, None, NOW).unwrap();
        assert_eq!((w.used_percent, w.reset_after_seconds), (None, None));
        // Years away: unknown; a moment ago: now.
        assert_eq!(
            reset(Some(&json!(NOW + 5 * 365 * 86_400)), None, NOW),
            (None, None)
        );
        assert_eq!(
            reset(Some(&json!(NOW - 3)), None, NOW),
            (Some(NOW - 3), Some(0))
        );
    }

    #[test]
    fn length_not_position_names_a_window() {
        let rl = json!({"primary_window": {"used_percent": 20, "limit_window_seconds": 604800},
            "secondary_window": {"used_percent": 1}});
        let ws = windows(Some(&rl), WindowKind::Codex, None, NOW);
        assert_eq!(ws[0].label, "week");
        assert_eq!(ws[0].limit_window_seconds, Some(604_800));
        assert_eq!(ws[1].label, UNKNOWN_LENGTH_LABEL);
    }
}
