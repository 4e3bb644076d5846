//! The SQLite history against real files: append order, windows, latest, prune, file modes,
//! schema version, and faults (newer schema, corrupt file, another writer).

use std::os::unix::fs::PermissionsExt;
use std::time::Instant;

use super::*;

fn row(profile: &str, at_ms: i64, used: f64) -> Row {
    Row {
        at_ms,
        profile: profile.into(),
        account_id: Some("acct-1".into()),
        plan: Some("plus".into()),
        windows: vec![
            WindowSample {
                limit: None,
                label: "5h".into(),
                window_seconds: Some(18_000),
                used_percent: Some(used),
                reset_at: Some(1_800_000_000),
            },
            WindowSample {
                limit: Some("codex_other".into()),
                label: "week".into(),
                window_seconds: Some(604_800),
                used_percent: None,
                reset_at: None,
            },
        ],
        credits_balance: Some(17.5),
        spend_remaining: None,
        limit_reached: Some(false),
        remote_error: None,
        local_status: "ok".into(),
    }
}

#[test]
fn rows_come_back_whole_in_append_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = SqliteHistory::open_in(dir.path()).unwrap();
    let failed = Row {
        windows: vec![],
        remote_error: Some("rate_limited".into()),
        credits_balance: None,
        limit_reached: None,
        ..row("openai:bob", 2_000, 0.0)
    };
    // The third row's clock is behind the second's: order of appending is kept.
    let rows = [
        row("openai:alice", 1_000, 10.0),
        row("openai:alice", 3_000, 20.0),
        failed.clone(),
        row("openai:alice", 2_500, 25.0),
    ];
    h.append(&rows[..2]).unwrap();
    h.append(&rows[2..]).unwrap();
    let alice = h.rows("openai:alice", 0).unwrap();
    assert_eq!(
        alice,
        vec![rows[0].clone(), rows[1].clone(), rows[3].clone()]
    );
    assert_eq!(
        h.rows("openai:alice", 2_600).unwrap(),
        vec![rows[1].clone()]
    );
    assert_eq!(h.rows("openai:bob", 0).unwrap(), vec![failed.clone()]);
    assert_eq!(h.latest().unwrap(), vec![rows[3].clone(), failed]);
}

#[test]
fn prune_deletes_old_checks_and_their_windows() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = SqliteHistory::open_in(dir.path()).unwrap();
    let rows: Vec<Row> = (0..10)
        .map(|i| row("openai:a", i * 100, i as f64))
        .collect();
    h.append(&rows).unwrap();
    assert_eq!(h.prune(500).unwrap(), 5);
    assert_eq!(h.prune(500).unwrap(), 0);
    assert_eq!(h.rows("openai:a", 0).unwrap(), rows[5..].to_vec());
    let windows: i64 = h
        .conn
        .query_row("SELECT count(*) FROM check_windows", [], |r| r.get(0))
        .unwrap();
    assert_eq!(windows, 10);
}

#[test]
fn file_is_private_versioned_and_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = SqliteHistory::open_in(dir.path()).unwrap();
    h.append(&[row("openai:a", 1, 1.0)]).unwrap();
    let path = history_path(dir.path());
    assert_eq!(h.path(), path);
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(path.parent().unwrap()), 0o700);
    assert_eq!(mode(&path.with_extension("sqlite-wal")), 0o600);
    let version: i64 = h
        .conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    let jm: String = h
        .conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(jm, "wal");
    drop(h);
    // Reopening keeps the rows (no second migration).
    let h = SqliteHistory::open(&path).unwrap();
    assert_eq!(h.rows("openai:a", 0).unwrap().len(), 1);
}

#[test]
fn a_newer_or_corrupt_file_is_refused_and_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let newer = dir.path().join("newer.sqlite");
    rusqlite::Connection::open(&newer)
        .unwrap()
        .execute_batch("PRAGMA user_version = 99; CREATE TABLE future (x TEXT) STRICT;")
        .unwrap();
    let before = std::fs::read(&newer).unwrap();
    let e = SqliteHistory::open(&newer).unwrap_err();
    assert!(
        matches!(e, HistoryError::NewerSchema { found: 99, .. }),
        "{e}"
    );
    assert_eq!(std::fs::read(&newer).unwrap(), before);

    let corrupt = dir.path().join("corrupt.sqlite");
    let junk =
        b"this is not a database, but it is 100 bytes long so that SQLite reads a header.........."
            .repeat(50);
    std::fs::write(&corrupt, &junk).unwrap();
    let e = SqliteHistory::open(&corrupt).unwrap_err().to_string();
    assert!(e.contains("not a database"), "{e}");
    assert_eq!(std::fs::read(&corrupt).unwrap(), junk);
}

#[test]
fn another_writer_makes_append_fail_fast_while_reads_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = SqliteHistory::open_in(dir.path()).unwrap();
    h.append(&[row("openai:a", 1, 1.0)]).unwrap();
    let other = rusqlite::Connection::open(history_path(dir.path())).unwrap();
    other.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let started = Instant::now();
    let e = h
        .append(&[row("openai:a", 2, 2.0)])
        .unwrap_err()
        .to_string();
    assert!(e.contains("locked"), "{e}");
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    // WAL: a reader is not blocked by the writer.
    assert_eq!(h.rows("openai:a", 0).unwrap().len(), 1);
    other.execute_batch("ROLLBACK").unwrap();
    h.append(&[row("openai:a", 2, 2.0)]).unwrap();
}
