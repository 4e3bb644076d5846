//! The state database locked by another writer (issue 13, fault tests): another process (the
//! real `sqlite3` CLI when installed, else a second connection) holds `BEGIN EXCLUSIVE` with a
//! write of its own pending. The deliberate behaviour (docs/OPERATIONS.md): a writer waits the
//! busy timeout (5 s, `BUSY_TIMEOUT_MS`); a lock released within it is waited out and the
//! change goes through; a lock held longer (10 s here) ends each writer (`order set`,
//! `retire`, the chat's retire) in one clear sentence, "locked by another process … nothing
//! was written, try again", well before the lock goes, with the store as it was, no lock or
//! temp file of ours left, no panic; once released, the same change goes through.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use codex_profiler::engine::store::sqlite::BUSY_TIMEOUT_MS;

use super::*;

const ALICE: &str = "openai:alice@example.com";
const BOB: &str = "openai:bob@example.com";

/// Another writer holding the database: a `sqlite3` process or, without one, a thread.
enum Holder {
    Process(Child),
    Thread(std::sync::mpsc::Sender<()>, std::thread::JoinHandle<()>),
}

/// What the other writer does inside its transaction: a write that must never be seen.
const PENDING: &str = "UPDATE config_machine_state SET value_json = '{\"torn\":true}' \
                       WHERE state_key IN ('authProfiles.store', 'authProfiles.state');";

impl Holder {
    /// Take the lock on `db` and return once it is held.
    fn lock(db: &Path) -> Holder {
        if Command::new("sqlite3").arg("-version").output().is_ok() {
            let mut child = Command::new("sqlite3")
                .arg(db)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("spawn sqlite3");
            let stdin = child.stdin.as_mut().expect("stdin");
            writeln!(stdin, "BEGIN EXCLUSIVE;\n{PENDING}\nSELECT 'locked';").unwrap();
            stdin.flush().unwrap();
            let mut line = String::new();
            BufReader::new(child.stdout.as_mut().expect("stdout"))
                .read_line(&mut line)
                .unwrap();
            assert_eq!(line.trim(), "locked", "sqlite3 did not take the lock");
            return Holder::Process(child);
        }
        let (locked_tx, locked) = std::sync::mpsc::channel();
        let (release, released) = std::sync::mpsc::channel::<()>();
        let db = db.to_path_buf();
        let join = std::thread::spawn(move || {
            let conn = rusqlite::Connection::open(db).unwrap();
            conn.execute_batch(&format!("BEGIN EXCLUSIVE; {PENDING}"))
                .unwrap();
            locked_tx.send(()).unwrap();
            let _ = released.recv();
            conn.execute_batch("ROLLBACK").unwrap();
        });
        locked.recv().unwrap();
        Holder::Thread(release, join)
    }

    /// Roll the pending write back and let go.
    fn release(self) {
        match self {
            Holder::Process(mut child) => {
                let mut stdin = child.stdin.take().expect("stdin");
                writeln!(stdin, "ROLLBACK;\n.quit").unwrap();
                drop(stdin);
                assert!(child.wait().unwrap().success(), "sqlite3 failed");
            }
            Holder::Thread(release, join) => {
                release.send(()).unwrap();
                join.join().unwrap();
            }
        }
    }
}

/// A CLI run and how long it took.
fn timed(fx: &Fixture, args: &[&str]) -> (Run, Duration) {
    let t = Instant::now();
    let run = cli(fx, args);
    (run, t.elapsed())
}

/// The refusal a writer must end in while the lock is held past the busy timeout.
fn refused_as_locked(what: &str, run: &Run, took: Duration, held: Duration) {
    assert_eq!(run.code, 1, "{what}: {}\n{}", run.stdout, run.stderr);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{what}: one sentence: {}", run.stderr);
    let line = lines[0];
    assert!(
        line.contains("is locked by another process")
            && line.contains("nothing was written, try again"),
        "{what}: {line}"
    );
    assert!(!run.stderr.contains("panicked"), "{what}: {}", run.stderr);
    let busy = Duration::from_millis(BUSY_TIMEOUT_MS);
    assert!(
        took >= busy - Duration::from_millis(200) && took < held,
        "{what}: waited the busy timeout, then gave up before the lock went: {took:?}"
    );
}

/// The state-db example store, in rollback-journal mode when `wal` is false (then the lock
/// also keeps readers out).
fn locked_store(wal: bool) -> Fixture {
    let fx = example_store(Format::StateDb);
    if !wal {
        let conn = rusqlite::Connection::open(fx.state_db_path()).unwrap();
        let mode: String = conn
            .query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "delete");
    }
    fx
}

#[test]
fn a_store_locked_for_10_s_refuses_each_writer_clearly_and_nothing_is_torn() {
    let held = Duration::from_secs(10);
    for wal in [true, false] {
        let fx = locked_store(wal);
        let before = fx.state_db_cells();
        let layers = docs(&fx);
        let state = fx.state_arg();
        let holder = Holder::lock(&fx.state_db_path());
        let since = Instant::now();
        // Three writers at once: the CLI's order set and retire, and the terminal chat's
        // retire (the chat's change path, as the bot runs it).
        let (order, retire, chat) = std::thread::scope(|s| {
            let order = s.spawn(|| timed(&fx, &["order", "set", ALICE, BOB]));
            let retire = s.spawn(|| timed(&fx, &["retire", "alice@example.com"]));
            let chat = s.spawn(|| {
                let t = Instant::now();
                let run = cli::run_with_stdin(
                    fx.home(),
                    &[],
                    &["--state-dir", &state, "chat"],
                    "/codex_auth retire bob@example.com\n",
                );
                (run, t.elapsed())
            });
            (
                order.join().unwrap(),
                retire.join().unwrap(),
                chat.join().unwrap(),
            )
        });
        let what = if wal { "wal" } else { "rollback journal" };
        eprintln!(
            "{what}: order set {:?}, retire {:?}, chat {:?}\nchat said: {}",
            order.1, retire.1, chat.1, chat.0.stdout
        );
        refused_as_locked(&format!("{what}: order set"), &order.0, order.1, held);
        refused_as_locked(&format!("{what}: retire"), &retire.0, retire.1, held);
        let (run, took) = chat;
        run.expect_code(0);
        assert!(
            run.stdout.contains("is locked by another process")
                && run.stdout.contains("nothing was written, try again")
                && !run.stdout.contains("Retired"),
            "{what}: chat: {}",
            run.stdout
        );
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
        assert!(
            took < held,
            "{what}: chat gave up before the lock went: {took:?}"
        );
        no_leak(&fx, &order.0);
        no_leak(&fx, &run);
        // Hold the lock its full 10 s, then let go: nothing of ours or of the other writer's
        // rolled-back write is in the store.
        std::thread::sleep(held.saturating_sub(since.elapsed()));
        holder.release();
        assert_eq!(fx.state_db_cells(), before, "{what}: the store changed");
        // (A backup taken before the refused write may stay; it is not the store.)
        assert!(docs(&fx) == layers, "{what}: a layer changed");
        super::faults::no_leftovers(&fx.state_dir());
        // Released, the same changes go through.
        let (run, _) = timed(&fx, &["order", "set", ALICE, BOB]);
        run.expect_code(0);
        let (_, state_doc, _) = fx.state_db_cells();
        assert_eq!(state_doc.unwrap()["order"]["openai"], json!([ALICE, BOB]));
        let (run, _) = timed(&fx, &["retire", "alice@example.com"]);
        run.expect_code(0);
        let (_, state_doc, _) = fx.state_db_cells();
        assert_eq!(state_doc.unwrap()["order"]["openai"], json!([BOB]));
    }
}

#[test]
fn a_lock_released_within_the_busy_timeout_is_waited_out() {
    for wal in [true, false] {
        let fx = locked_store(wal);
        let holder = Holder::lock(&fx.state_db_path());
        let held = Duration::from_secs(2);
        let (run, took) = std::thread::scope(|s| {
            let writer = s.spawn(|| timed(&fx, &["order", "set", ALICE, BOB]));
            std::thread::sleep(held);
            holder.release();
            writer.join().unwrap()
        });
        run.expect_code(0);
        assert!(
            took >= held - Duration::from_millis(500),
            "it waited for the lock: {took:?}"
        );
        let (store, state_doc, _) = fx.state_db_cells();
        assert!(
            store.unwrap().get("torn").is_none(),
            "the other write was rolled back"
        );
        assert_eq!(state_doc.unwrap()["order"]["openai"], json!([ALICE, BOB]));
        super::faults::no_leftovers(&fx.state_dir());
    }
}
