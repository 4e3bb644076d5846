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
    let old = std::time::SystemTime::now() - Duration::from_secs(120);
    std::fs::File::open(&lock)
        .unwrap()
        .set_modified(old)
        .unwrap();
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
