//! Concurrent writers (the test binary re-executes itself as a writer process), stale lock
//! takeover, a live lock waited for and then reported, and writers killed mid-write.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use codex_profiler::engine::profile::ProfileId;
use codex_profiler::engine::store::{Change, StoreError, StoreFormat, lock};
use serde_json::{Map, json};

use super::{forced, open};
use crate::support::fixtures::{Fixture, write_json};

const WRITER_ENV: &str = "CODEX_PROFILER_TEST_STORE_WRITER";

fn upsert(name: &str, provider: &str, n: usize) -> Change {
    let mut fields = Map::new();
    fields.insert("type".into(), json!("oauth"));
    fields.insert("provider".into(), json!(provider));
    fields.insert("n".into(), json!(n));
    Change::UpsertProfile {
        id: ProfileId::parse(&format!("{provider}:{name}")).unwrap(),
        fields,
    }
}

fn format_of(s: &str) -> StoreFormat {
    match s {
        "json" => StoreFormat::Json,
        _ => StoreFormat::StateDb,
    }
}

fn provider_of(f: StoreFormat) -> &'static str {
    if f == StoreFormat::Json {
        "openai-codex"
    } else {
        "openai"
    }
}

/// Not a test on its own: the body of a writer process, run when the env variable is set
/// (`<state dir>|<format>|<prefix>|<count, 0 = forever>`).
#[test]
fn writer_child() {
    let Ok(spec) = std::env::var(WRITER_ENV) else {
        return;
    };
    let parts: Vec<&str> = spec.split('|').collect();
    let (dir, fmt, prefix, count) = (
        parts[0],
        format_of(parts[1]),
        parts[2],
        parts[3].parse::<usize>().unwrap(),
    );
    let mut i = 0;
    while count == 0 || i < count {
        let store = open(std::path::Path::new(dir), "main", forced(fmt))
            .with_lock_wait(Duration::from_secs(30));
        store
            .apply(&upsert(&format!("{prefix}-{i}"), provider_of(fmt), i))
            .unwrap();
        i += 1;
    }
}

fn spawn_writer(fx: &Fixture, fmt: &str, prefix: &str, count: usize) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "store::concurrency::writer_child",
            "--test-threads=1",
            "--nocapture",
        ])
        .env(
            WRITER_ENV,
            format!("{}|{fmt}|{prefix}|{count}", fx.state_arg()),
        )
        .stdout(Stdio::null())
        .spawn()
        .unwrap()
}

fn setup(fmt: &str) -> Fixture {
    let fx = Fixture::new();
    match fmt {
        "json" => {
            write_json(
                &fx.json_path("main"),
                &json!({"version": 1, "profiles": {"anthropic:keep": {"type": "token", "x": 1}}}),
            );
        }
        _ => {
            fx.state_db(
                &json!({"version": 1, "profiles": {"anthropic:keep": {"type": "token", "x": 1}}}),
                None,
            );
        }
    }
    fx
}

fn concurrent_writers(fmt: &str, stale_lock: bool) {
    let fx = setup(fmt);
    if stale_lock {
        // A writer crashed earlier: every new writer finds its lock stale at the same time.
        let body = json!({"pid": dead_pid(), "createdAt": iso(0)});
        std::fs::write(lock::lock_path(&fx.json_path("main")), body.to_string()).unwrap();
    }
    let (writers, each) = (4, 6);
    let children: Vec<Child> = (0..writers)
        .map(|w| spawn_writer(&fx, fmt, &format!("w{w}"), each))
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success(), "a writer failed");
    }
    let snap = open(&fx.state_dir(), "main", forced(format_of(fmt)))
        .load()
        .unwrap();
    let ids = snap.all_profile_ids();
    assert_eq!(ids.len(), writers * each + 1, "lost writes: {ids:?}");
    assert!(snap.raw_profile("anthropic:keep").is_some());
}

#[test]
fn concurrent_json_writers_lose_nothing() {
    concurrent_writers("json", false);
}

#[test]
fn concurrent_json_writers_after_a_crash_lose_nothing() {
    concurrent_writers("json", true);
}

#[test]
fn concurrent_sqlite_writers_lose_nothing() {
    concurrent_writers("state-db", false);
}

fn killed_writers_leave_a_readable_store(fmt: &str) {
    let fx = setup(fmt);
    for round in 0..6u64 {
        let mut child = spawn_writer(&fx, fmt, &format!("k{round}"), 0);
        std::thread::sleep(Duration::from_millis(150 + 40 * round));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let store = open(&fx.state_dir(), "main", forced(format_of(fmt)));
        let snap = store
            .load()
            .expect("the store parses after a killed writer");
        assert!(snap.raw_profile("anthropic:keep").is_some());
        if fmt == "json" {
            serde_json::from_slice::<serde_json::Value>(
                &std::fs::read(fx.json_path("main")).unwrap(),
            )
            .unwrap();
        }
    }
    // A lock left by a killed writer is stale (dead pid): the next write takes it over.
    let store = open(&fx.state_dir(), "main", forced(format_of(fmt)))
        .with_lock_wait(Duration::from_secs(2));
    store
        .apply(&upsert("after", provider_of(format_of(fmt)), 0))
        .unwrap();
    // The killed writers' temp files held a copy of the tokens: the next write removed them
    // all (their writers are gone), and no lock is left.
    let dir = match fmt {
        "json" => fx.json_path("main").parent().unwrap().to_path_buf(),
        _ => fx.state_dir().join("state"),
    };
    let left: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp") || n.ends_with(".lock"))
        .collect();
    assert!(left.is_empty(), "{fmt}: left behind: {left:?}");
}

#[test]
fn killed_json_writers_leave_a_readable_store() {
    killed_writers_leave_a_readable_store("json");
}

#[test]
fn killed_sqlite_writers_leave_a_readable_store() {
    killed_writers_leave_a_readable_store("state-db");
}

fn dead_pid() -> u32 {
    let mut c = Command::new("true").spawn().unwrap();
    let pid = c.id();
    c.wait().unwrap();
    pid
}

fn json_store_with_lock(lock_body: Option<serde_json::Value>) -> (Fixture, std::path::PathBuf) {
    let fx = setup("json");
    let lock = lock::lock_path(&fx.json_path("main"));
    if let Some(body) = lock_body {
        std::fs::write(&lock, body.to_string()).unwrap();
    }
    (fx, lock)
}

/// Set the mtime of `path` (a file or folder) `secs` into the past.
fn backdate(path: &std::path::Path, secs: u64) {
    let old = std::time::SystemTime::now() - Duration::from_secs(secs);
    std::fs::File::open(path)
        .unwrap()
        .set_modified(old)
        .unwrap();
}

fn iso(offset_s: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds(offset_s)).to_rfc3339()
}

#[test]
fn stale_locks_are_taken_over() {
    let cases = [
        json!({"pid": dead_pid(), "createdAt": iso(0)}),
        json!({"pid": std::process::id(), "createdAt": iso(-60)}),
    ];
    for body in cases {
        let (fx, lock) = json_store_with_lock(Some(body.clone()));
        let store = open(&fx.state_dir(), "main", forced(StoreFormat::Json))
            .with_lock_wait(Duration::from_secs(3));
        let t = Instant::now();
        store
            .apply(&upsert("x", "openai-codex", 1))
            .unwrap_or_else(|e| panic!("{body}: {e}"));
        assert!(
            t.elapsed() < Duration::from_secs(2),
            "{body} was waited for"
        );
        assert!(!lock.exists(), "our lock is released");
    }
    // A lock directory (older versions), stale by age.
    let (fx, lock) = json_store_with_lock(None);
    std::fs::create_dir(&lock).unwrap();
    backdate(&lock, 120);
    let store = open(&fx.state_dir(), "main", forced(StoreFormat::Json))
        .with_lock_wait(Duration::from_secs(3));
    store.apply(&upsert("x", "openai-codex", 1)).unwrap();
}

#[test]
fn a_fresh_lock_directory_is_a_live_lock() {
    let (fx, lock) = json_store_with_lock(None);
    std::fs::create_dir(&lock).unwrap();
    let store = open(&fx.state_dir(), "main", forced(StoreFormat::Json))
        .with_lock_wait(Duration::from_millis(300));
    let err = store.apply(&upsert("x", "openai-codex", 1)).unwrap_err();
    assert!(matches!(err, StoreError::LockTimeout { .. }), "{err}");
}

#[test]
fn a_live_lock_is_waited_for_then_reported() {
    let live = json!({"pid": std::process::id(), "createdAt": iso(0)});
    // Released while we wait: the write goes through.
    let (fx, lock) = json_store_with_lock(Some(live.clone()));
    let l2 = lock.clone();
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(400));
        std::fs::remove_file(l2).unwrap();
    });
    let store = open(&fx.state_dir(), "main", forced(StoreFormat::Json))
        .with_lock_wait(Duration::from_secs(5));
    let t = Instant::now();
    store.apply(&upsert("x", "openai-codex", 1)).unwrap();
    assert!(t.elapsed() >= Duration::from_millis(350));
    releaser.join().unwrap();

    // Held too long: reported, nothing written, the other process's lock left alone.
    let (fx, lock) = json_store_with_lock(Some(live));
    let before = std::fs::read(fx.json_path("main")).unwrap();
    let store = open(&fx.state_dir(), "main", forced(StoreFormat::Json))
        .with_lock_wait(Duration::from_secs(1));
    let err = store.apply(&upsert("x", "openai-codex", 1)).unwrap_err();
    assert!(matches!(err, StoreError::LockTimeout { .. }), "{err}");
    assert!(err.to_string().contains("try again"));
    assert_eq!(std::fs::read(fx.json_path("main")).unwrap(), before);
    assert!(lock.exists());
}

#[test]
fn a_lock_created_in_the_future_is_judged_by_its_mtime() {
    // A live pid (ours) and a `createdAt` a day ahead: only the file's age can tell.
    let future = json!({"pid": std::process::id(), "createdAt": iso(86_400)});
    let (fx, lock) = json_store_with_lock(Some(future.clone()));
    backdate(&lock, 120);
    let store = open(&fx.state_dir(), "main", forced(StoreFormat::Json))
        .with_lock_wait(Duration::from_secs(3));
    let t = Instant::now();
    store
        .apply(&upsert("x", "openai-codex", 1))
        .expect("an old lock file with a future createdAt is stale");
    assert!(t.elapsed() < Duration::from_secs(2), "it was waited for");
    assert!(!lock.exists(), "our lock is released");

    // The same lock written just now is live: waited for, then reported.
    let (fx, lock) = json_store_with_lock(Some(future));
    let store = open(&fx.state_dir(), "main", forced(StoreFormat::Json))
        .with_lock_wait(Duration::from_millis(500));
    let err = store.apply(&upsert("x", "openai-codex", 1)).unwrap_err();
    assert!(matches!(err, StoreError::LockTimeout { .. }), "{err}");
    assert!(lock.exists());
}

/// Concurrent `order set` through the real binary with a full backups folder (50 kept): every
/// writer prunes, several prune the same file, and none may fail for it.
#[test]
fn concurrent_order_sets_with_a_full_backups_folder_all_succeed() {
    use crate::support::fixtures::state_db_example;
    let fx = Fixture::new();
    let (store, state) = state_db_example();
    fx.state_db(&store, Some(&state));
    let backups = fx.state_dir().join("codex-profiler/backups");
    std::fs::create_dir_all(&backups).unwrap();
    for i in 0..50 {
        std::fs::write(
            backups.join(format!("20200101T0000{i:02}000Z-seed.json")),
            b"{}",
        )
        .unwrap();
    }
    let writers = 40;
    let state_arg = fx.state_arg();
    // All set the same order: each still backs up the layer and prunes the folder, and a
    // read-back is not muddled by another writer's different order.
    let children: Vec<Child> = (0..writers)
        .map(|_| {
            let order = ["alice@example.com", "bob@example.com"];
            crate::support::cli::command(fx.home())
                .env("RUST_LOG", "warn")
                .args(["--state-dir", &state_arg, "order", "set"])
                .args(order)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut failed = Vec::new();
    for c in children {
        let out = c.wait_with_output().unwrap();
        if !out.status.success() {
            failed.push(String::from_utf8_lossy(&out.stderr).into_owned());
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {writers} failed: {failed:?}",
        failed.len()
    );
    let snap = open(&fx.state_dir(), "main", forced(StoreFormat::StateDb))
        .load()
        .expect("the store is valid");
    let (order, _) = snap.stored_order("openai").expect("an order is stored");
    assert_eq!(
        order,
        ["openai:alice@example.com", "openai:bob@example.com"]
    );
    let names: Vec<String> = std::fs::read_dir(&backups)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 50, "{names:?}");
    // Two in the same millisecond are `…-order-set.json` and `…-order-set-2.json`.
    let ours = names.iter().filter(|n| n.contains("-order-set")).count();
    assert_eq!(
        ours,
        writers.min(50),
        "the writers' backups are the newest 50: {names:?}"
    );
}
