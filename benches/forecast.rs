//! Forecast over 30 days of history for 50 profiles (plain binary, `harness = false`).
//!
//! Builds a real `history.sqlite` with one check every 5 minutes for 30 days for 50 profiles
//! (432,000 rows, two windows each, resets every 5 hours and every week), then times, each as
//! the median of several rounds in the same run:
//!
//! - **baseline**: a bare `SELECT` of the same rows the forecast reads (every profile's rows
//!   of the lookback span, joined with their windows, columns read, nothing built);
//! - **forecast**: what a usage check does after appending: [`history::histories`] (rows of
//!   each profile since the lookback) and [`forecast::forecast`] (every window and the pool);
//! - **forecast, 30 days**: the same reading all 30 days, to show what the lookback saves;
//! - **compute only**: [`forecast::forecast`] over rows already in memory.
//!
//! Run: `cargo bench --bench forecast`. Under `cargo test` (no `--bench` argument) it runs a
//! small smoke round (2 profiles, 2 days).

use std::hint::black_box;
use std::time::{Duration, Instant};

use codex_profiler::engine::forecast;
use codex_profiler::engine::history::{self, HistoryStore, Row, SqliteHistory, lookback_since};

#[path = "support/history_rows.rs"]
mod history_rows;
use history_rows::row;

const MIN_MS: i64 = 60_000;
const DAY_MS: i64 = 86_400_000;
/// Two hours into a 5h window.
const NOW: i64 = 1_800_007_200_000;

struct Size {
    profiles: usize,
    days: i64,
    rounds: usize,
}

fn build(dir: &std::path::Path, size: &Size) -> SqliteHistory {
    let mut h = SqliteHistory::open_in(dir).unwrap_or_else(|e| panic!("{e}"));
    let checks = size.days * DAY_MS / (5 * MIN_MS);
    // One transaction per check time, as the usage hook appends.
    let mut batch = Vec::new();
    for c in 0..checks {
        let at = NOW - (checks - 1 - c) * 5 * MIN_MS;
        batch.extend((0..size.profiles).map(|p| row(p, at)));
        if batch.len() >= 5000 {
            h.append(&batch).unwrap_or_else(|e| panic!("{e}"));
            batch.clear();
        }
    }
    h.append(&batch).unwrap_or_else(|e| panic!("{e}"));
    h
}

fn baseline(conn: &rusqlite::Connection, targets: &[(String, String)], since: i64) -> usize {
    let mut stmt = conn
        .prepare_cached(
            "SELECT c.id, c.at_ms, w.label, w.window_seconds, w.used_percent, w.reset_at
             FROM checks c LEFT JOIN check_windows w ON w.check_id = c.id
             WHERE c.profile = ?1 AND c.at_ms >= ?2 ORDER BY c.id, w.slot",
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let mut n = 0;
    for (p, _) in targets {
        let mut rows = stmt
            .query(rusqlite::params![p, since])
            .unwrap_or_else(|e| panic!("{e}"));
        while let Some(r) = rows.next().unwrap_or_else(|e| panic!("{e}")) {
            let id: i64 = r.get(0).unwrap_or_default();
            let at: i64 = r.get(1).unwrap_or_default();
            let label: Option<String> = r.get(2).unwrap_or_default();
            let secs: Option<i64> = r.get(3).unwrap_or_default();
            let used: Option<f64> = r.get(4).unwrap_or_default();
            let reset: Option<i64> = r.get(5).unwrap_or_default();
            black_box((id, at, label, secs, used, reset));
            n += 1;
        }
    }
    n
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time(rounds: usize, mut f: impl FnMut()) -> Duration {
    median(
        (0..rounds)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .collect(),
    )
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let size = if bench {
        Size {
            profiles: 50,
            days: 30,
            rounds: 15,
        }
    } else {
        Size {
            profiles: 2,
            days: 2,
            rounds: 2,
        }
    };
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let t = Instant::now();
    let h = build(dir.path(), &size);
    let built = t.elapsed();
    let targets: Vec<(String, String)> = (0..size.profiles)
        .map(|p| (format!("openai:bench{p}@example.com"), format!("bench{p}")))
        .collect();
    let latest: Vec<Row> = targets.iter().map(|_| row(0, NOW)).collect();
    let since = lookback_since(&latest, NOW);
    let all_since = NOW - size.days * DAY_MS - DAY_MS;

    let read =
        |since: i64| history::histories(&h, &targets, since).unwrap_or_else(|e| panic!("{e}"));
    let in_memory = read(since);
    let rows_read: usize = in_memory.iter().map(|p| p.rows.len()).sum();
    let f = forecast::forecast(&in_memory, NOW);
    assert_eq!(f.profiles.len(), size.profiles);
    assert!(
        f.profiles.iter().all(|p| p
            .windows
            .iter()
            .all(|w| w.status != forecast::Status::InsufficientData)),
        "the scripted history is enough for a forecast"
    );
    let conn = rusqlite::Connection::open(h.path()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(baseline(&conn, &targets, since), rows_read * 2);

    let base = time(size.rounds, || {
        black_box(baseline(&conn, &targets, since));
    });
    let full = time(size.rounds, || {
        black_box(forecast::forecast(&read(since), NOW));
    });
    let full_30 = time(size.rounds, || {
        black_box(forecast::forecast(&read(all_since), NOW));
    });
    let compute = time(size.rounds * 4, || {
        black_box(forecast::forecast(&in_memory, NOW));
    });
    println!(
        "forecast benchmark: {} profiles, {} days every 5 min ({} rows; built in {:.1} s), \
         lookback reads {rows_read} rows; median of {} rounds\n",
        size.profiles,
        size.days,
        size.profiles as i64 * size.days * 288,
        built.as_secs_f64(),
        size.rounds
    );
    println!("| case | time | vs baseline |");
    println!("|---|---|---|");
    let r = |d: Duration| format!("{:.2}x", d.as_secs_f64() / base.as_secs_f64());
    println!(
        "| baseline: bare SELECT of the same rows | {} | 1.00x |",
        ms(base)
    );
    println!(
        "| forecast: read rows + forecast | {} | {} |",
        ms(full),
        r(full)
    );
    println!(
        "| forecast reading all {} days | {} | {} |",
        size.days,
        ms(full_30),
        r(full_30)
    );
    println!(
        "| forecast compute only (rows in memory) | {} | {} |",
        ms(compute),
        r(compute)
    );
}
