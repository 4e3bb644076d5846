//! The forecast on scripted histories: steady burn, burst, reset in the middle, too little
//! data, a clock going backwards, and the pool.

use super::*;
use crate::engine::clock::Zone;
use crate::engine::history::WindowSample;

const MIN: i64 = 60_000;
/// Unix ms, a round time.
const T0: i64 = 1_800_000_000_000;
const FIVE_H: i64 = 18_000;

fn row(at_ms: i64, used: f64, reset_at_ms: i64) -> Row {
    Row {
        at_ms,
        profile: "openai:alice@example.com".into(),
        account_id: Some("acct-alice".into()),
        plan: Some("plus".into()),
        windows: vec![WindowSample {
            limit: None,
            label: "5h".into(),
            window_seconds: Some(FIVE_H),
            used_percent: Some(used),
            reset_at: Some(reset_at_ms / 1000),
        }],
        credits_balance: None,
        spend_remaining: None,
        limit_reached: Some(false),
        remote_error: None,
        local_status: "ok".into(),
    }
}

/// Checks every 5 minutes from `T0`, `used(i)` at the i-th, all in one window.
fn script(n: usize, reset_at_ms: i64, used: impl Fn(usize) -> f64) -> Vec<Row> {
    (0..n)
        .map(|i| row(T0 + i as i64 * 5 * MIN, used(i), reset_at_ms))
        .collect()
}

fn hist(rows: Vec<Row>) -> ProfileHistory {
    ProfileHistory {
        profile: "openai:alice@example.com".into(),
        label: "alice@example.com".into(),
        rows,
    }
}

fn one(rows: &[Row], now: i64) -> WindowForecast {
    window::estimate(rows, None, "5h", now)
}

fn sane(w: &WindowForecast) {
    for v in [w.runs_out_in_seconds, w.reset_in_seconds]
        .into_iter()
        .flatten()
    {
        assert!(v >= 0, "{w:?}");
    }
    if let Some([lo, hi]) = w.runs_out_range_seconds {
        let t = w.runs_out_in_seconds.unwrap();
        assert!(0 <= lo && lo <= t && t <= hi, "{w:?}");
    }
    for v in [w.rate_percent_per_hour, w.remaining_percent]
        .into_iter()
        .flatten()
    {
        assert!(v.is_finite() && v >= 0.0, "{w:?}");
    }
}

#[test]
fn steady_burn_runs_out_before_reset() {
    // 2 points per 5 minutes = 24 %/h; 30 % used at the newest check.
    let now = T0 + 50 * MIN;
    let rows = script(11, now + 4 * 60 * MIN, |i| 10.0 + 2.0 * i as f64);
    let w = one(&rows, now);
    sane(&w);
    assert_eq!(w.status, Status::RunsOut);
    assert_eq!(w.samples, 11);
    assert!((w.rate_percent_per_hour.unwrap() - 24.0).abs() < 1e-6);
    // 70 % left at 24 %/h: 2 h 55 min.
    assert_eq!(w.runs_out_in_seconds, Some(10_500));
    let [lo, hi] = w.runs_out_range_seconds.unwrap();
    assert!(lo < 10_500 && hi > 10_500 && hi - lo < 3600, "{lo} {hi}");
    let line = render::profile_line(&profile(&hist(rows), now), now, &Zone::utc());
    assert!(
        line.starts_with(
            "alice@example.com · 5h runs out in ~2h 55m (2h 40m–3h 15m), before its reset at"
        ),
        "{line}"
    );
}

#[test]
fn slow_burn_lasts_until_reset() {
    let now = T0 + 50 * MIN;
    let rows = script(11, now + 60 * MIN, |i| 10.0 + 0.5 * i as f64);
    let w = one(&rows, now);
    sane(&w);
    assert_eq!(w.status, Status::LastsUntilReset);
    assert_eq!(w.runs_out_in_seconds, None);
    let idle = one(&script(11, now + 60 * MIN, |_| 10.0), now);
    assert_eq!(idle.status, Status::Idle);
}

#[test]
fn a_burst_brings_the_run_out_closer_and_widens_the_range() {
    let now = T0 + 70 * MIN;
    let reset = now + 4 * 60 * MIN;
    let steady = script(15, reset, |i| 10.0 + i as f64);
    let burst = script(15, reset, |i| {
        if i < 12 {
            10.0 + i as f64
        } else {
            21.0 + 8.0 * (i - 11) as f64
        }
    });
    let (s, b) = (one(&steady, now), one(&burst, now));
    sane(&s);
    sane(&b);
    assert_eq!(b.status, Status::RunsOut);
    assert!(b.rate_percent_per_hour > s.rate_percent_per_hour);
    // The smoothed rate follows the burst but does not jump all the way to it (96 %/h).
    let rate = b.rate_percent_per_hour.unwrap();
    assert!(rate > 40.0 && rate < 96.0, "{rate}");
    let spread = |w: &WindowForecast| {
        let [lo, hi] = w.runs_out_range_seconds.unwrap_or([0, 0]);
        (hi - lo) as f64 / w.runs_out_in_seconds.unwrap_or(1) as f64
    };
    assert!(spread(&b) > spread(&s), "{b:?}");
}

#[test]
fn a_reset_in_the_middle_restarts_the_rate() {
    let old_reset = T0 + 60 * MIN;
    let new_reset = old_reset + FIVE_H * 1000;
    // A fast old window, then the reset: used drops and `reset_at` moves a window forward.
    let mut rows = script(12, old_reset, |i| 30.0 + 5.0 * i as f64);
    let after = |k: i64, used: f64| row(old_reset + k * 5 * MIN, used, new_reset);
    rows.push(after(1, 1.0));
    rows.push(after(2, 1.5));
    let now = old_reset + 10 * MIN;
    let w = one(&rows, now);
    assert_eq!(w.status, Status::InsufficientData);
    assert_eq!(w.samples, 2, "only the new window counts");
    for k in 3..8 {
        rows.push(after(k, 1.0 + 0.5 * (k - 1) as f64));
    }
    let now = old_reset + 35 * MIN;
    let w = one(&rows, now);
    sane(&w);
    // 0.5 points per 5 minutes = 6 %/h: the old window's 60 %/h is forgotten.
    assert!(
        (w.rate_percent_per_hour.unwrap() - 6.0).abs() < 1e-6,
        "{w:?}"
    );
    assert_eq!(w.status, Status::LastsUntilReset);
    // A reset seen by `reset_at` alone (the old window ended unused).
    let mut quiet = script(5, old_reset, |_| 0.0);
    quiet.push(after(1, 0.0));
    assert_eq!(one(&quiet, old_reset + 5 * MIN).samples, 1);
}

#[test]
fn too_little_history_says_so() {
    let now = T0 + 10 * MIN;
    let reset = now + 60 * MIN;
    assert_eq!(one(&[], now).status, Status::InsufficientData);
    for n in 1..3 {
        let w = one(&script(n, reset, |i| 10.0 * i as f64), now);
        assert_eq!(w.status, Status::InsufficientData);
        assert_eq!(w.samples, n);
        assert_eq!(w.runs_out_in_seconds, None);
    }
    // Three checks, but within two minutes.
    let close: Vec<Row> = (0..3)
        .map(|i| row(T0 + i * MIN, 10.0 + i as f64, reset))
        .collect();
    assert_eq!(one(&close, T0 + 2 * MIN).status, Status::InsufficientData);
    let line = render::profile_line(&profile(&hist(close), now), now, &Zone::utc());
    assert_eq!(
        line,
        "alice@example.com · not enough history yet (3 checks in this window)"
    );
}

#[test]
fn a_clock_going_backwards_gives_no_negative_rate_or_forecast() {
    let reset = T0 + 4 * 60 * MIN;
    let mut rows = script(4, reset, |i| 10.0 + 2.0 * i as f64);
    // The clock jumps back an hour; checks go on, usage still rises.
    for k in 0..6 {
        rows.push(row(
            T0 - 60 * MIN + k * 5 * MIN,
            18.0 + 2.0 * k as f64,
            reset,
        ));
    }
    for now in [T0 - 30 * MIN, T0 + 15 * MIN, T0 - 90 * MIN] {
        let w = one(&rows, now);
        sane(&w);
        assert_eq!(w.status, Status::RunsOut, "{w:?}");
        assert!(
            (w.rate_percent_per_hour.unwrap() - 24.0).abs() < 1e-6,
            "{w:?}"
        );
        assert!(w.runs_out_in_seconds.unwrap() <= w.reset_in_seconds.unwrap());
    }
    // Two checks with the same time are not an infinite rate.
    let mut same = script(4, reset, |i| 10.0 + i as f64);
    same.push(row(T0 + 15 * MIN, 40.0, reset));
    sane(&one(&same, T0 + 15 * MIN));
}

#[test]
fn exhausted_and_reset_windows() {
    let now = T0 + 20 * MIN;
    let w = one(&script(5, now + 30 * MIN, |i| 80.0 + 5.0 * i as f64), now);
    assert_eq!(w.status, Status::Exhausted);
    assert_eq!(
        render::window_text(&w, now, &Zone::utc()),
        format!(
            "5h used up, resets at {} (in 30 min)",
            render::clock(now + 30 * MIN, now, &Zone::utc())
        )
    );
    let w = one(&script(5, now - MIN, |i| 10.0 + i as f64), now);
    assert_eq!(w.status, Status::ResetSinceLastCheck);
    // A reset years away for a 5h window is not believed (nor printed).
    let w = one(
        &script(5, now + 1000 * 86_400_000, |i| 10.0 + i as f64),
        now,
    );
    assert_eq!(
        (w.status, w.reset_at_ms, w.reset_in_seconds),
        (Status::RunsOut, None, None)
    );
    assert!(!render::window_text(&w, now, &Zone::utc()).contains("reset"));
    // An old newest check is not projected from.
    let w = one(
        &script(5, now + 10 * FIVE_H * 1000, |i| 10.0 + i as f64),
        now + 3 * 60 * MIN,
    );
    assert_eq!(w.status, Status::Stale);
}

fn named(name: &str, rows: Vec<Row>) -> ProfileHistory {
    let rows = rows
        .into_iter()
        .map(|mut r| {
            r.profile = format!("openai:{name}@example.com");
            r
        })
        .collect();
    ProfileHistory {
        profile: format!("openai:{name}@example.com"),
        label: format!("{name}@example.com"),
        rows,
    }
}

#[test]
fn the_pool_adds_up_usable_profiles_and_names_the_next_recovery() {
    let now = T0 + 50 * MIN;
    let far = now + 290 * MIN;
    // alice 24 %/h with 70 % left, bob 12 %/h with 80 % left: 150 % at 36 %/h = 4 h 10 min.
    let alice = named("alice", script(11, far, |i| 10.0 + 2.0 * i as f64));
    let bob = named("bob", script(11, far, |i| 10.0 + i as f64));
    let f = forecast(&[alice.clone(), bob.clone()], now);
    assert_eq!(f.pool.status, PoolStatus::RunsOut);
    assert_eq!(f.pool.usable_profiles, 2);
    assert_eq!(f.pool.runs_out_in_seconds, Some(15_000));
    assert_eq!(f.pool.window.as_deref(), Some("5h"));
    let [lo, hi] = f.pool.runs_out_range_seconds.unwrap();
    assert!(lo < 15_000 && 15_000 < hi);
    // alice's window runs out (in 2 h 55 min) long before it resets: that reset is when her
    // quota comes back.
    let rec = f.pool.next_recovery.clone().unwrap();
    assert_eq!((rec.label.as_str(), rec.at_ms), ("alice@example.com", far));

    // carol is used up: not usable, and her reset is the next recovery.
    let carol_reset = now + 25 * MIN;
    let carol = named("carol", script(11, carol_reset, |i| 50.0 + 5.0 * i as f64));
    let f = forecast(&[alice.clone(), bob, carol.clone()], now);
    assert_eq!(f.pool.usable_profiles, 2);
    let rec = f.pool.next_recovery.clone().unwrap();
    assert_eq!(
        (rec.label.as_str(), rec.window.as_str()),
        ("carol@example.com", "5h")
    );
    assert_eq!(rec.in_seconds, 25 * 60);
    let line = render::pool_line(&f.pool, now, &Zone::utc());
    assert!(
        line.starts_with("pool (2 usable profiles) · all usable quota runs out in ~4h 10m"),
        "{line}"
    );
    assert!(
        line.ends_with("next recovery: carol@example.com 5h at 09:15 UTC (in 25 min)"),
        "{line}"
    );

    // A usable profile without enough history: the pool does not guess.
    let dave = named("dave", script(2, far, |i| i as f64));
    let f = forecast(&[alice, dave, carol.clone()], now);
    assert_eq!(f.pool.status, PoolStatus::InsufficientData);
    assert_eq!(f.pool.profiles_without_forecast, 1);
    let f = forecast(&[carol], now);
    assert_eq!(f.pool.status, PoolStatus::NoUsableProfiles);
    assert!(render::pool_line(&f.pool, now, &Zone::utc()).contains("no usable profile now"));
}

/// Erratic histories (jumps of the clock both ways, drops, duplicates): every value stays
/// finite and non-negative, and no line shows NaN or a minus sign before a number.
#[test]
fn erratic_histories_never_print_nonsense() {
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move |m: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % m
    };
    for _ in 0..300 {
        let mut at = T0;
        let mut used = 0.0;
        let reset = T0 + (next(600) as i64) * MIN;
        let rows: Vec<Row> = (0..(next(20) + 1))
            .map(|_| {
                at += (next(40) as i64 - 12) * MIN;
                used = (used + next(30) as f64 - 5.0).clamp(0.0, 120.0);
                row(at, used, reset)
            })
            .collect();
        let now = T0 + (next(400) as i64 - 100) * MIN;
        let f = forecast(&[hist(rows)], now);
        for w in &f.profiles[0].windows {
            sane(w);
        }
        let json = serde_json::to_string(&f).unwrap();
        assert!(!json.contains("NaN") && !json.contains("inf"), "{json}");
        for line in render::lines(&f) {
            assert!(
                !line.contains("NaN") && !line.contains("~-") && !line.contains("(-"),
                "{line}"
            );
        }
    }
}

/// A forecast reads at most `MEMORY_S` (+ margin) of history: for a week window three days
/// into its week, the estimate from the last 13 hours matches the one from all of them.
#[test]
fn the_bounded_lookback_matches_the_whole_history() {
    let week_s = 604_800;
    let reset = T0 + 5 * 86_400_000;
    let all: Vec<Row> = (0..864)
        .map(|i| {
            let mut r = row(T0 + i * 5 * MIN, 0.0, reset);
            r.windows[0] = WindowSample {
                limit: None,
                label: "week".into(),
                window_seconds: Some(week_s),
                // An uneven pace: faster in the day than at night.
                used_percent: Some(i as f64 * 0.02 + ((i % 288) as f64 / 288.0) * 3.0),
                reset_at: Some(reset / 1000),
            };
            r
        })
        .collect();
    let now = all.last().unwrap().at_ms;
    let since = now - (window::lookback_seconds(Some(week_s)) + 3600) * 1000;
    let recent: Vec<Row> = all.iter().filter(|r| r.at_ms >= since).cloned().collect();
    assert!(recent.len() < all.len() / 4);
    let (a, b) = (
        window::estimate(&all, None, "week", now),
        window::estimate(&recent, None, "week", now),
    );
    let (ra, rb) = (
        a.rate_percent_per_hour.unwrap(),
        b.rate_percent_per_hour.unwrap(),
    );
    assert!((ra - rb).abs() <= ra * 0.01, "{ra} vs {rb}");
    assert_eq!(a.status, b.status);
}
