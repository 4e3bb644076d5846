//! History and forecast after `usage`, the real binary end to end: one row per profile and
//! check in `<state>/codex-profiler/history.sqlite`, pruned by `CODEX_PROFILER_HISTORY_DAYS`,
//! no token in the file, the forecast in text and JSON; and a corrupt or locked history that
//! leaves the check's report and exit code alone, with a warning on stderr.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use codex_profiler::engine::history::{HistoryStore, Row, SqliteHistory, history_path};
use serde_json::Value;

use super::cli::{secrets, setup, tree};
use crate::support::cli::{self, Run};
use crate::support::history;

const DAY_MS: i64 = 86_400_000;
const ALICE: &str = "openai:alice@example.com";

fn state(home: &Path) -> PathBuf {
    home.join("state-dir")
}

fn run(home: &Path, url: &str, env: &[(&str, &str)], args: &[&str]) -> Run {
    let st = state(home);
    let mut all = vec!["--state-dir", st.to_str().unwrap()];
    all.extend_from_slice(args);
    let mut vars = vec![("CODEX_PROFILER_USAGE_URL", url)];
    vars.extend_from_slice(env);
    let r = cli::run(home, &vars, &all);
    let s = secrets();
    r.assert_no_secret(&s.iter().map(String::as_str).collect::<Vec<_>>());
    r
}

fn json_run(home: &Path, url: &str, env: &[(&str, &str)]) -> Value {
    let r = run(
        home,
        url,
        env,
        &["usage", "--format", "json", "--timeout-sec", "2"],
    );
    r.expect_code(0);
    r.json()
}

fn alice_row(at_ms: i64, used: f64) -> Row {
    Row {
        account_id: Some("acct-alice".into()),
        ..history::row(ALICE, at_ms, used)
    }
}

fn all_rows(home: &Path) -> Vec<Row> {
    let h = SqliteHistory::open_in(&state(home)).unwrap();
    let mut out = Vec::new();
    for r in h.latest().unwrap() {
        out.extend(h.rows(&r.profile, i64::MIN).unwrap());
    }
    out
}

#[test]
fn each_check_appends_a_row_per_profile_pruned_by_retention() {
    let (home, server) = setup();
    let now = chrono::Utc::now().timestamp_millis();
    let mut h = SqliteHistory::open_in(&state(home.path())).unwrap();
    h.append(&[
        alice_row(now - 40 * DAY_MS, 1.0),
        alice_row(now - 10 * DAY_MS, 2.0),
    ])
    .unwrap();
    drop(h);

    let doc = json_run(home.path(), &server.url, &[]);
    let rows = all_rows(home.path());
    // Six profiles checked; the 40-day-old row is past the default 30 days.
    assert_eq!(rows.len(), 7, "{rows:#?}");
    assert!(rows.iter().all(|r| r.at_ms > now - 11 * DAY_MS));
    let alice = rows.iter().rfind(|r| r.profile == ALICE).unwrap();
    assert_eq!(alice.account_id.as_deref(), Some("acct-alice"));
    assert_eq!(alice.plan.as_deref(), Some("plus"));
    assert_eq!(alice.credits_balance, Some(17.5));
    assert_eq!(alice.local_status, "ok");
    let w: Vec<_> = alice
        .windows
        .iter()
        .map(|w| {
            (
                w.limit.as_deref(),
                w.label.as_str(),
                w.used_percent,
                w.reset_at,
            )
        })
        .collect();
    assert_eq!(
        w,
        vec![
            // The fake's `reset_at`s lie years ahead of today's clock, which the usage
            // parser reads as unknown; the history keeps what the check knew.
            (None, "5h", Some(58.0), None),
            (None, "week", Some(12.0), None),
            (Some("codex_other"), "5h", Some(3.0), None),
        ]
    );
    let of = |name: &str| {
        rows.iter()
            .find(|r| r.profile == format!("openai:{name}@example.com"))
            .unwrap()
    };
    assert_eq!(of("bob").remote_error.as_deref(), Some("rate_limited"));
    assert!(of("bob").windows.is_empty());
    assert_eq!(
        of("dave").remote_error.as_deref(),
        Some("token_expired_locally")
    );
    assert_eq!(of("dave").local_status, "expired");

    // The forecast is there, and says it has too little to go on.
    let f = &doc["forecast"];
    assert_eq!(f["available"], true);
    assert_eq!(f["warnings"], serde_json::json!([]));
    assert_eq!(f["profiles"].as_array().unwrap().len(), 6);
    assert_eq!(
        f["profiles"][0]["windows"][0]["status"],
        "insufficient_data"
    );
    assert_eq!(f["lines"].as_array().unwrap().len(), 7);
    assert_eq!(f["pool"]["status"], "insufficient_data");

    // A shorter retention prunes the 10-day-old row on the next check.
    json_run(
        home.path(),
        &server.url,
        &[("CODEX_PROFILER_HISTORY_DAYS", "5")],
    );
    let rows = all_rows(home.path());
    assert_eq!(rows.len(), 12);
    assert!(rows.iter().all(|r| r.at_ms > now - DAY_MS));

    // No token in the history, WAL included.
    let dir = history_path(&state(home.path()))
        .parent()
        .unwrap()
        .to_path_buf();
    for e in std::fs::read_dir(dir).unwrap() {
        let bytes = std::fs::read(e.unwrap().path()).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for s in secrets() {
            assert!(!text.contains(&s), "a token is in the history");
        }
    }

    // A bad retention is a warning; the check still reports, nothing is written or pruned.
    let r = run(
        home.path(),
        &server.url,
        &[("CODEX_PROFILER_HISTORY_DAYS", "soon")],
        &["usage"],
    );
    r.expect_code(0);
    assert!(
        r.stderr.contains("CODEX_PROFILER_HISTORY_DAYS must be"),
        "{}",
        r.stderr
    );
    assert_eq!(all_rows(home.path()).len(), 12);
}

#[test]
fn the_forecast_reads_the_history_in_text_and_json() {
    let (home, server) = setup();
    let now = chrono::Utc::now().timestamp_millis();
    // Alice burnt 2 points every 5 minutes up to the 58 % the server reports: 24 %/h, so
    // her 42 % left last about 1 h 45 min, well before the window's reset.
    let rows = history::burning_to_58(ALICE, now);
    SqliteHistory::open_in(&state(home.path()))
        .unwrap()
        .append(&rows)
        .unwrap();

    let r = run(
        home.path(),
        &server.url,
        &[],
        &["usage", "--timeout-sec", "2"],
    );
    r.expect_code(0);
    let out = &r.stdout;
    assert!(
        out.contains("6 checked: 2 usable, 0 limited, 4 failed\nForecast:\n"),
        "{out}"
    );
    assert!(
        out.contains("  alice@example.com · 5h runs out in ~1h 45m ("),
        "{out}"
    );
    // The server's fixture resets years away: not believed, so not compared or printed.
    assert!(!out.contains("reset at Mar 17"), "{out}");
    assert!(out.contains("· week lasts at this pace"), "{out}");
    assert!(
        out.contains("  frank@example.com · not enough history yet (1 check in this window)\n"),
        "{out}"
    );
    assert!(
        out.contains("  pool (2 usable profiles) · not enough history yet for 1 of them"),
        "{out}"
    );

    let doc = json_run(home.path(), &server.url, &[]);
    let alice = &doc["forecast"]["profiles"][0];
    assert_eq!(alice["profile"], ALICE);
    assert_eq!(alice["usable"], true);
    let w = &alice["windows"][0];
    assert_eq!(w["label"], "5h");
    assert_eq!(w["status"], "runs_out");
    assert_eq!(w["samples"], 13);
    let t = w["runs_out_in_seconds"].as_i64().unwrap();
    assert!((6000..=6400).contains(&t), "{w}");
    let range = w["runs_out_range_seconds"].as_array().unwrap();
    assert!(range[0].as_i64().unwrap() <= t && t <= range[1].as_i64().unwrap());
    assert!(w["runs_out_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(w["reset_at"], Value::Null);
    // The existing fields are untouched.
    assert_eq!(doc["summary"]["profiles_checked"], 6);
    assert_eq!(
        doc["profiles"][0]["remote_usage"]["windows"][0]["label"],
        "5h"
    );
}

#[test]
fn a_corrupt_history_leaves_the_check_and_the_gateway_alone() {
    let (home, server) = setup();
    let path = history_path(&state(home.path()));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let junk = b"not a database, just bytes that happen to be here. ".repeat(100);
    std::fs::write(&path, &junk).unwrap();
    let gateway = tree(&state(home.path()));

    let r = run(
        home.path(),
        &server.url,
        &[],
        &["usage", "--timeout-sec", "2"],
    );
    r.expect_code(0);
    assert!(
        r.stdout.contains("alice@example.com · plus · 5h 42% left"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("6 checked: 2 usable, 0 limited, 4 failed\n")
    );
    assert!(r.stdout.contains("Forecast: unavailable"), "{}", r.stdout);
    assert!(
        r.stderr
            .contains("codex-profiler: warning: history skipped")
            && r.stderr.contains("not a database"),
        "{}",
        r.stderr
    );
    let doc = json_run(home.path(), &server.url, &[]);
    assert_eq!(doc["ok"], true);
    assert_eq!(doc["forecast"]["available"], false);
    assert_eq!(doc["forecast"]["warnings"].as_array().unwrap().len(), 1);
    assert_eq!(
        std::fs::read(&path).unwrap(),
        junk,
        "the corrupt file was changed"
    );
    assert_eq!(
        tree(&state(home.path())),
        gateway,
        "the gateway's files changed"
    );
}

#[test]
fn a_locked_history_is_skipped_without_stalling_the_check() {
    let (home, server) = setup();
    json_run(home.path(), &server.url, &[]);
    assert_eq!(all_rows(home.path()).len(), 6);
    let other = rusqlite::Connection::open(history_path(&state(home.path()))).unwrap();
    other.execute_batch("BEGIN EXCLUSIVE").unwrap();

    let started = Instant::now();
    let r = run(
        home.path(),
        &server.url,
        &[],
        &["usage", "--format", "json", "--timeout-sec", "2"],
    );
    let took = started.elapsed();
    r.expect_code(0);
    assert!(
        r.stderr
            .contains("codex-profiler: warning: history not recorded")
            && r.stderr.contains("locked"),
        "{}",
        r.stderr
    );
    let doc = r.json();
    assert_eq!(doc["summary"]["remote_ok_count"], 2);
    // Readers are not blocked (WAL): the forecast still uses the history there is.
    assert_eq!(doc["forecast"]["available"], true);
    assert_eq!(doc["forecast"]["profiles"][0]["windows"][0]["samples"], 2);
    assert!(took < Duration::from_secs(10), "{took:?}");
    other.execute_batch("ROLLBACK").unwrap();
    drop(other);
    assert_eq!(
        all_rows(home.path()).len(),
        6,
        "nothing was written while locked"
    );
}
