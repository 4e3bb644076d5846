//! Our own temp files a crash left (backup temps, `pending.json` and `apply.json` temps, lock
//! temps and aside copies) are swept once older than a minute, and only those: the gateway's
//! files and anything not named like ours stay, whatever their age. `backups list` on a
//! machine without OpenClaw creates nothing.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::*;

fn age(path: &Path, secs: u64) {
    let t = SystemTime::now() - Duration::from_secs(secs);
    std::fs::File::open(path).unwrap().set_modified(t).unwrap();
}

/// A file `name` in `dir`, `secs` old.
fn leftover(dir: &Path, name: &str, secs: u64) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, b"{\"partial\":").unwrap();
    age(&p, secs);
    p
}

#[test]
fn stale_temp_files_of_ours_are_swept_and_nothing_else() {
    let fx = example_store(Format::JsonSingle);
    let state = fx.state_dir();
    let own = state.join("codex-profiler");
    let backups = own.join("backups");
    let store_dir = fx.json_path("main").parent().unwrap().to_path_buf();
    let stale = [
        leftover(
            &backups,
            ".20261130T101010101Z-retire.json.4242.77.tmp",
            120,
        ),
        leftover(&backups, ".20261130T101010101Z-login.json.tmp-4242", 120),
        leftover(&own, ".apply.json.4242.78.tmp", 120),
        leftover(&own, ".apply.json.tmp-4242", 120),
        leftover(&own, ".pending.json.4242.tmp", 120),
        leftover(&own, ".pending.json.lock.4242.79.tmp", 120),
        leftover(&store_dir, ".auth-profiles.json.lock.4242.80.tmp", 120),
        leftover(
            &store_dir,
            ".auth-profiles.json.lock.stale.4242.81.tmp",
            120,
        ),
        leftover(
            &store_dir,
            "auth-profiles.json.lock.4242.ThreadId(1).tmp",
            120,
        ),
        leftover(
            &store_dir,
            "auth-profiles.json.lock.stale.4242.ThreadId(2)",
            120,
        ),
    ];
    let kept = [
        // Ours, but young and its writer alive (this process): it may be about to rename it.
        leftover(
            &own,
            &format!(".apply.json.{}.82.tmp", std::process::id()),
            5,
        ),
        leftover(
            &store_dir,
            &format!(".auth-profiles.json.lock.{}.83.tmp", std::process::id()),
            5,
        ),
        // Not ours, however old.
        leftover(&store_dir, "auth-profiles.json.bak", 3600),
        leftover(&store_dir, ".auth-profiles.json.tmp", 3600),
        leftover(
            &store_dir,
            "auth-profiles.json.migrated-20260101-ab12",
            3600,
        ),
        leftover(&state, ".openclaw.json.4242.84.tmp", 3600),
        leftover(&own, "apply.log", 3600),
        leftover(&own, "notes.txt.4242.85.tmp", 3600),
    ];
    let run = cli(&fx, &["retire", "alice@example.com"]);
    run.expect_code(0);
    // A login start writes pending.json (and sweeps beside it).
    cli(&fx, &["auth", "start", "--profile", "carol"]).expect_code(0);
    for p in &stale {
        assert!(!p.exists(), "left behind: {}", p.display());
    }
    for p in &kept {
        assert!(
            p.exists(),
            "swept but not ours or not stale: {}",
            p.display()
        );
    }
    let names: Vec<String> = std::fs::read_dir(&backups)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 1, "the new backup stays: {names:?}");
}

#[test]
fn backups_list_without_openclaw_creates_no_folder() {
    let fx = Fixture::new();
    // No OpenClaw here: the state directory does not exist.
    let absent = fx.home().join("no-openclaw");
    let absent_arg = absent.to_string_lossy().into_owned();
    for args in [&["backups", "list"][..], &["--json", "backups", "list"][..]] {
        let mut all = vec!["--state-dir", absent_arg.as_str()];
        all.extend_from_slice(args);
        let run = cli::run(fx.home(), &[], &all);
        run.expect_code(0);
        assert!(!absent.exists(), "{args:?} created {}", absent.display());
    }
    // An OpenClaw state directory without our folder: listing adds none.
    let run = cli(&fx, &["--json", "backups", "list"]);
    run.expect_code(0);
    assert_eq!(run.json()["backups"], json!([]));
    let run = cli(&fx, &["backups", "restore", "nope", "--confirm"]);
    assert_ne!(run.code, 0);
    assert!(!fx.state_dir().join("codex-profiler").exists());
}
