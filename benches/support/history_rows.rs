//! The synthetic usage history the forecast and chart benchmarks read: one row per profile
//! and check, a 5h window filling at a per-profile pace and a week window filling slowly.

use codex_profiler::engine::history::{Row, WindowSample};

/// One check of profile `p` at `at_ms`: a 5h window filling at a per-profile pace and a week
/// window filling slowly, both resetting on schedule.
pub fn row(p: usize, at_ms: i64) -> Row {
    let window = |label: &str, secs: i64, pace: f64| {
        let start = at_ms.div_euclid(secs * 1000) * secs * 1000;
        let used = ((at_ms - start) as f64 / 60_000.0 * pace).min(100.0);
        WindowSample {
            limit: None,
            label: label.into(),
            window_seconds: Some(secs),
            used_percent: Some(used.round()),
            reset_at: Some((start + secs * 1000) / 1000),
        }
    };
    let pace = 0.1 + (p % 7) as f64 * 0.05;
    Row {
        at_ms,
        profile: format!("openai:bench{p}@example.com"),
        account_id: Some(format!("acct-{p}")),
        plan: Some("plus".into()),
        windows: vec![
            window("5h", 18_000, pace),
            window("week", 604_800, pace / 40.0),
        ],
        credits_balance: Some(10.0),
        spend_remaining: None,
        limit_reached: Some(false),
        remote_error: None,
        local_status: "ok".into(),
    }
}
