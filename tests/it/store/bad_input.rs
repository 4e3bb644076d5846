//! Bad input: each case gives one clear sentence on stderr (and the JSON error), a non-zero
//! exit, and writes nothing (bytes compared).

use std::time::Duration;

use codex_profiler::engine::profile::ProfileId;
use codex_profiler::engine::store::{Change, StoreError};
use serde_json::{Map, json};

use super::open_auto;
use crate::support::cli;
use crate::support::fixtures::{Fixture, oauth_profile};

/// Run `--json profiles` and check the failure shape: exit 1, one line on stderr, the code.
fn fails_with(fx: &Fixture, args: &[&str], code: &str) -> String {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    all.push("profiles");
    let run = cli::run(fx.home(), &[], &all);
    run.expect_code(1);
    let doc = run.json();
    assert_eq!(doc["ok"], false);
    assert_eq!(doc["error"], code, "{}", run.stderr);
    let lines: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("codex-profiler:"))
        .collect();
    assert_eq!(lines.len(), 1, "{}", run.stderr);
    run.stderr
}

#[test]
fn missing_state_dir() {
    let fx = Fixture::new();
    let missing = fx.home().join("nope");
    let err = fails_with(
        &fx,
        &["--state-dir", missing.to_str().unwrap()],
        "no_state_dir",
    );
    assert!(err.contains("does not exist"));
    assert!(!missing.exists());
}

#[test]
fn no_store_names_the_fix() {
    let fx = Fixture::new();
    let err = fails_with(&fx, &[], "no_store");
    assert!(
        err.contains("openclaw doctor") && err.contains("--store json"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_dir(fx.state_dir()).unwrap().count(),
        0,
        "nothing created"
    );
}

#[test]
fn json_store_that_is_not_json() {
    let fx = Fixture::new();
    let path = fx.json_path("main");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, b"{\"version\": 1, \"profiles\": {").unwrap();
    fails_with(&fx, &[], "not_json");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        b"{\"version\": 1, \"profiles\": {"
    );
}

#[test]
fn state_db_cell_that_is_not_json_or_has_the_wrong_shape() {
    let fx = Fixture::new();
    fx.state_db(&json!({"version": 1, "profiles": []}), None);
    let before = std::fs::read(fx.state_db_path()).unwrap();
    let err = fails_with(&fx, &[], "bad_field");
    assert!(err.contains("profiles"));
    let conn = rusqlite::Connection::open(fx.state_db_path()).unwrap();
    conn.execute("UPDATE config_machine_state SET value_json = 'nope' WHERE state_key = 'authProfiles.store'", []).unwrap();
    drop(conn);
    let before2 = std::fs::read(fx.state_db_path()).unwrap();
    fails_with(&fx, &[], "not_json");
    assert_eq!(std::fs::read(fx.state_db_path()).unwrap(), before2);
    assert_ne!(before, before2);
}

#[test]
fn wrong_field_types_skip_that_profile_only() {
    let fx = Fixture::new();
    fx.state_db(
        &json!({"version": 1, "profiles": {
            "openai:bad": {"type": "oauth", "provider": "openai", "access": {"nested": "SECRET-IN-WRONG-PLACE"}, "expires": "later"},
            "openai:good": oauth_profile("openai", "good@example.com", "acc", "plus", 1_796_170_000_000),
        }}),
        None,
    );
    let run = cli::run(fx.home(), &[], &["--json", "profiles"]);
    let doc = run
        .expect_code(0)
        .assert_no_secret(&["SECRET-IN-WRONG-PLACE"])
        .json();
    assert_eq!(doc["profiles"].as_array().unwrap().len(), 1);
    assert_eq!(doc["skipped"][0]["id"], "openai:bad");
    assert_eq!(doc["skipped"][0]["reason"], "`access` is not a string");
}

#[test]
fn corrupt_sqlite() {
    let fx = Fixture::new();
    let path = fx.state_db_path();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let junk = b"SQLite format 3\0 but then nothing that makes sense at all ".repeat(40);
    std::fs::write(&path, &junk).unwrap();
    let err = fails_with(&fx, &[], "sqlite_corrupt");
    assert!(err.contains("not a readable SQLite database"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), junk);
}

#[test]
fn locked_sqlite_is_reported_after_the_busy_timeout() {
    let fx = Fixture::new();
    fx.state_db_from_example();
    let store = open_auto(&fx.state_dir());
    let (before, _, _) = fx.state_db_cells();
    let path = fx.state_db_path();
    let (tx, rx) = std::sync::mpsc::channel();
    let holder = std::thread::spawn(move || {
        let conn = rusqlite::Connection::open(path).unwrap();
        conn.execute_batch("BEGIN IMMEDIATE").unwrap();
        tx.send(()).unwrap();
        std::thread::sleep(Duration::from_secs(7));
        conn.execute_batch("ROLLBACK").unwrap();
    });
    rx.recv().unwrap();
    let mut fields = Map::new();
    fields.insert("label".into(), json!("x"));
    let t = std::time::Instant::now();
    let err = store
        .apply(&Change::UpsertProfile {
            id: ProfileId::parse("openai:alice@example.com").unwrap(),
            fields,
        })
        .unwrap_err();
    assert!(matches!(err, StoreError::SqliteBusy(_)), "{err}");
    assert!(
        t.elapsed() >= Duration::from_millis(4900),
        "waited the busy timeout"
    );
    holder.join().unwrap();
    assert_eq!(fx.state_db_cells().0, before);
}
