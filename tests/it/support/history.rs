//! Usage history rows as the loopback usage server's `full_payload` would leave them, for
//! seeding a history before a check.

use codex_profiler::engine::history::{Row, WindowSample};

/// `reset_at` of `full_payload`'s 5h window.
pub const RESET_5H: i64 = 1_900_007_980;
/// `reset_at` of its week window.
pub const RESET_WEEK: i64 = 1_900_399_600;

/// A row for `profile` checked at `at_ms`, its 5h window `used_5h` percent used, the week at
/// 12 % (as `full_payload` says).
pub fn row(profile: &str, at_ms: i64, used_5h: f64) -> Row {
    let window = |label: &str, secs: i64, used: f64, reset: i64| WindowSample {
        limit: None,
        label: label.into(),
        window_seconds: Some(secs),
        used_percent: Some(used),
        reset_at: Some(reset),
    };
    Row {
        at_ms,
        profile: profile.into(),
        account_id: None,
        plan: Some("plus".into()),
        windows: vec![
            window("5h", 18_000, used_5h, RESET_5H),
            window("week", 604_800, 12.0, RESET_WEEK),
        ],
        credits_balance: Some(17.5),
        spend_remaining: None,
        limit_reached: Some(false),
        remote_error: None,
        local_status: "ok".into(),
    }
}

/// Eleven checks 5 minutes apart ending 5 minutes ago, burning 2 points each, up to the 58 %
/// the server reports next: 24 %/h, so the 42 % left last about 1 h 45 min.
pub fn burning_to_58(profile: &str, now_ms: i64) -> Vec<Row> {
    (0..11)
        .map(|i| {
            row(
                profile,
                now_ms - (55 - 5 * i) * 60_000,
                36.0 + 2.0 * i as f64,
            )
        })
        .collect()
}
