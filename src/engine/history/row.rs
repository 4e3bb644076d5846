//! One history row: what one usage check learned about one profile. No token, code or URL.

use serde::Serialize;

use crate::engine::usage::{ProfileResult, RemoteUsage, UsageWindow};

/// One (check, profile) row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// When the check ran, ms since the epoch (the checking machine's clock).
    pub at_ms: i64,
    /// Profile id.
    pub profile: String,
    /// ChatGPT account id, if known.
    pub account_id: Option<String>,
    /// Plan, if known.
    pub plan: Option<String>,
    /// Every window the endpoint reported: the main ones, then additional limits'.
    pub windows: Vec<WindowSample>,
    /// Credits balance.
    pub credits_balance: Option<f64>,
    /// Spend remaining, where the endpoint reports a spend limit.
    pub spend_remaining: Option<f64>,
    /// `rate_limit.limit_reached`.
    pub limit_reached: Option<bool>,
    /// `remote_error` class, when the check failed.
    pub remote_error: Option<String>,
    /// Local token status (`ok`, `expiring`, `expired`, ...).
    pub local_status: String,
}

/// One window in a row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WindowSample {
    /// `None` for the main rate limit, else the additional limit's name.
    pub limit: Option<String>,
    /// `5h`, `day`, `week`, `primary`, ...
    pub label: String,
    /// Window length in seconds, if known.
    pub window_seconds: Option<i64>,
    /// Used percent, 0..=100.
    pub used_percent: Option<f64>,
    /// When the window resets, unix seconds.
    pub reset_at: Option<i64>,
}

impl Row {
    /// The row for one profile's check result at `at_ms`. This is the only place that reads
    /// the usage check's parsed types, so a change there is a change here only.
    pub fn from_result(r: &ProfileResult, at_ms: i64) -> Row {
        let usage = r.remote_usage.as_ref();
        let (windows, spend_remaining) = samples(usage);
        Row {
            at_ms,
            profile: r.profile.clone(),
            account_id: r.account_id.clone(),
            plan: r.plan.clone(),
            windows,
            credits_balance: usage.and_then(|u| u.credits_balance),
            spend_remaining,
            limit_reached: usage.and_then(|u| u.limit_reached),
            remote_error: r.remote_error.map(|e| e.as_str().to_owned()),
            local_status: r.local.status.as_str().to_owned(),
        }
    }

    /// The window `label` of limit `limit` (`None`: the main rate limit), if this check saw it.
    pub fn window(&self, limit: Option<&str>, label: &str) -> Option<&WindowSample> {
        self.windows
            .iter()
            .find(|w| w.limit.as_deref() == limit && w.label == label)
    }

    /// The windows of the main rate limit.
    pub fn main_windows(&self) -> impl Iterator<Item = &WindowSample> {
        self.windows.iter().filter(|w| w.limit.is_none())
    }
}

/// What a reply holds that the history keeps: every window (the Codex ones unnamed, code
/// review and additional limits by name, each with its length from `limit_window_seconds`)
/// and the remaining amount of the tightest spend limit.
fn samples(usage: Option<&RemoteUsage>) -> (Vec<WindowSample>, Option<f64>) {
    let Some(u) = usage else {
        return (Vec::new(), None);
    };
    let sample = |w: &UsageWindow| WindowSample {
        limit: w.name.clone(),
        label: w.label.clone(),
        window_seconds: w
            .limit_window_seconds
            .or_else(|| window_seconds_for_label(&w.label)),
        used_percent: w.used_percent,
        reset_at: w.reset_at,
    };
    let windows = u
        .windows
        .iter()
        .chain(&u.other_windows)
        .map(sample)
        .collect();
    let spend_remaining = u
        .spend
        .as_ref()
        .and_then(|s| s.limits.iter().filter_map(|l| l.remaining).reduce(f64::min));
    (windows, spend_remaining)
}

/// A window's length from its label (`5h`, `day`, `week`), for results that carry only the
/// label. `day` stands for the whole 24 h..168 h band; `primary`/`secondary` are unknown.
pub fn window_seconds_for_label(label: &str) -> Option<i64> {
    match label {
        "day" => Some(86_400),
        "week" => Some(604_800),
        _ => label
            .strip_suffix('h')
            .and_then(|h| h.parse::<i64>().ok())
            .filter(|h| (1..24).contains(h))
            .map(|h| h * 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_lengths_from_labels() {
        assert_eq!(window_seconds_for_label("5h"), Some(18_000));
        assert_eq!(window_seconds_for_label("day"), Some(86_400));
        assert_eq!(window_seconds_for_label("week"), Some(604_800));
        assert_eq!(window_seconds_for_label("primary"), None);
        assert_eq!(window_seconds_for_label("99h"), None);
    }

    fn fixture(name: &str) -> RemoteUsage {
        let path = format!("{}/tests/fixtures/usage/{name}", env!("CARGO_MANIFEST_DIR"));
        let body = std::fs::read(path).unwrap();
        crate::engine::usage::parse::parse(&body, 1_800_000_000).unwrap()
    }

    #[test]
    fn code_review_and_additional_windows_are_kept_by_name_with_their_length() {
        let u = fixture("code_review.json");
        let (windows, _) = samples(Some(&u));
        assert_eq!(windows.len(), u.windows.len() + u.other_windows.len());
        assert!(
            windows
                .iter()
                .any(|w| w.limit.as_deref() == Some("code_review"))
        );
        for (w, src) in windows.iter().zip(u.windows.iter().chain(&u.other_windows)) {
            assert_eq!(w.window_seconds, src.limit_window_seconds, "{w:?}");
        }
    }

    #[test]
    fn the_tightest_spend_limit_is_the_spend_remaining() {
        let u = fixture("usage_based.json");
        let (_, spend) = samples(Some(&u));
        let tightest = u
            .spend
            .as_ref()
            .unwrap()
            .limits
            .iter()
            .filter_map(|l| l.remaining)
            .fold(f64::INFINITY, f64::min);
        assert_eq!(spend, Some(tightest));
    }
}
