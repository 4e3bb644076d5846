//! Our own temporary files, and the sweeping of the ones a crash left behind.
//!
//! Every temp file codex-profiler creates is named `.<target>.<pid>.<nonce>.tmp` beside its
//! target (a lock's aside copy: `.<target>.stale.<pid>.<nonce>.tmp`), so it is recognisable
//! as ours by name alone. A process killed between creating one and renaming or removing it
//! leaves it behind; [`sweep`] removes such leftovers once they are older than [`MAX_AGE`]
//! (a live writer finishes with its temp file within seconds), or at once when the process the
//! name records no longer exists (the copy may hold tokens: it should not outlive its writer). Sweeping only ever looks at
//! names of that pattern (and the patterns older versions used), for the targets it is given,
//! in the folder it is given: never at the gateway's own files.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A leftover temp file older than this is removed.
pub const MAX_AGE: Duration = Duration::from_secs(60);

fn nonce() -> u64 {
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut b = [0u8; 8];
    // Random across processes, and a counter within one: two threads never share a name.
    let _ = getrandom::fill(&mut b);
    u64::from_le_bytes(b) ^ SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

fn named(target: &Path, infix: &str) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".to_owned());
    target.with_file_name(format!(
        ".{name}.{infix}{}.{}.tmp",
        std::process::id(),
        nonce()
    ))
}

/// A fresh temp path beside `target`: `.<name>.<pid>.<nonce>.tmp`.
pub fn temp_path(target: &Path) -> PathBuf {
    named(target, "")
}

/// A fresh path to move `target` aside to before removing it: `.<name>.stale.<pid>.<nonce>.tmp`.
pub fn aside_path(target: &Path) -> PathBuf {
    named(target, "stale.")
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// `ThreadId(<n>)`, how older versions named the thread in lock temp files.
fn thread_id(s: &str) -> bool {
    s.strip_prefix("ThreadId(")
        .and_then(|r| r.strip_suffix(')'))
        .is_some_and(digits)
}

/// After `.<base>.`: `<pid>.<nonce>`, `stale.<pid>.<nonce>`, or the legacy pending file's `<pid>`.
fn tail_ok(tail: &str) -> bool {
    match tail.split('.').collect::<Vec<_>>().as_slice() {
        ["stale", p, n] | [p, n] => digits(p) && digits(n),
        [p] => digits(p),
        _ => false,
    }
}

/// The writer's pid in one of our current names (`.<base>.<pid>.<nonce>.tmp`,
/// `.<base>.stale.<pid>.<nonce>.tmp`).
pub fn writer_pid(name: &str) -> Option<u32> {
    let inner = name.strip_prefix('.')?.strip_suffix(".tmp")?;
    let mut parts = inner.rsplitn(3, '.');
    let (nonce, pid) = (parts.next()?, parts.next()?);
    (digits(nonce) && digits(pid)).then(|| pid.parse().ok())?
}

/// Whether no process with this pid exists (on this machine's pid namespace). Our own pid and
/// one we may not signal count as alive.
fn writer_gone(pid: u32) -> bool {
    if pid == std::process::id() {
        return false;
    }
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks that the process exists; nothing is sent.
    let rc = unsafe { libc::kill(pid, 0) };
    rc != 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
}

/// Whether `name` is one of our temp files for the target file `base` (`None`: for any
/// target, in a folder that is wholly ours).
pub fn is_ours(name: &str, base: Option<&str>) -> bool {
    let matches_base = |b: &str| !b.is_empty() && base.is_none_or(|want| want == b);
    // Current `.<base>.<pid>.<nonce>.tmp`, `.<base>.stale.<pid>.<nonce>.tmp`; legacy
    // `.<base>.<pid>.tmp` (pending file).
    if let Some(inner) = name.strip_prefix('.').and_then(|n| n.strip_suffix(".tmp")) {
        let dots: Vec<usize> = inner
            .match_indices('.')
            .map(|(i, _)| i)
            .rev()
            .take(3)
            .collect();
        if dots
            .iter()
            .any(|&i| tail_ok(&inner[i + 1..]) && matches_base(&inner[..i]))
        {
            return true;
        }
    }
    // Legacy `.<base>.tmp-<pid>` (backups, `apply.json`).
    if let Some((b, pid)) = name.strip_prefix('.').and_then(|n| n.rsplit_once(".tmp-"))
        && digits(pid)
    {
        return matches_base(b);
    }
    // Legacy lock temps `<base>.<pid>.ThreadId(<n>).tmp` and asides
    // `<base>.stale.<pid>.ThreadId(<n>)`.
    let trimmed = name.strip_suffix(".tmp").unwrap_or(name);
    if let Some((rest, tid)) = trimmed.rsplit_once('.')
        && thread_id(tid)
        && let Some((rest, pid)) = rest.rsplit_once('.')
        && digits(pid)
    {
        let b = rest.strip_suffix(".stale").unwrap_or(rest);
        return !b.starts_with('.') && matches_base(b);
    }
    false
}

/// Remove from `dir` our temp files for `bases` (`None`: any target) older than `max_age`.
/// Best effort: a file already gone is fine, one that cannot be removed is logged and left.
/// Returns how many were removed.
pub fn sweep(dir: &Path, bases: Option<&[&str]>, max_age: Duration) -> usize {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let ours = match bases {
            None => is_ours(&name, None),
            Some(list) => list.iter().any(|b| is_ours(&name, Some(b))),
        };
        if !ours {
            continue;
        }
        let Ok(meta) = entry.path().symlink_metadata() else {
            continue;
        };
        let old = meta
            .modified()
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age >= max_age);
        if !old && !writer_pid(&name).is_some_and(writer_gone) {
            continue;
        }
        // Only a lock's aside copy may be a folder (older versions locked with a directory).
        let result = if meta.is_dir() {
            if name.contains(".stale.") {
                fs::remove_dir_all(entry.path())
            } else {
                continue;
            }
        } else {
            fs::remove_file(entry.path())
        };
        match result {
            Ok(()) => removed += 1,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(file = %name, error = %e, "could not remove a leftover temp file");
            }
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_temp_file_of_a_dead_writer_goes_at_once_a_live_ones_stays() {
        let d = tempfile::tempdir().unwrap();
        let mut dead = std::process::Command::new("true").spawn().unwrap();
        dead.wait().unwrap();
        let gone = d.path().join(format!(".pending.json.{}.77.tmp", dead.id()));
        let mine = temp_path(&d.path().join("pending.json"));
        std::fs::write(&gone, "token copy").unwrap();
        std::fs::write(&mine, "in use").unwrap();
        assert_eq!(
            writer_pid(&mine.file_name().unwrap().to_string_lossy()),
            Some(std::process::id())
        );
        assert_eq!(sweep(d.path(), Some(&["pending.json"]), MAX_AGE), 1);
        assert!(!gone.exists());
        assert!(mine.exists(), "a live writer's file is left");
    }

    #[test]
    fn our_names_are_recognised_and_others_are_not() {
        let t = temp_path(Path::new("/x/auth-profiles.json.lock"));
        let t = t.file_name().unwrap().to_str().unwrap().to_owned();
        assert!(is_ours(&t, Some("auth-profiles.json.lock")), "{t}");
        assert!(!is_ours(&t, Some("auth-profiles.json")), "{t}");
        assert!(is_ours(&t, None), "{t}");
        let a = aside_path(Path::new("/x/pending.json.lock"));
        let a = a.file_name().unwrap().to_str().unwrap().to_owned();
        assert!(is_ours(&a, Some("pending.json.lock")), "{a}");
        for (legacy, base) in [
            (".pending.json.1234.tmp", "pending.json"),
            (".apply.json.tmp-77", "apply.json"),
            (
                ".20261201T100005431Z-retire.json.tmp-9",
                "20261201T100005431Z-retire.json",
            ),
            (
                "auth-profiles.json.lock.12.ThreadId(1).tmp",
                "auth-profiles.json.lock",
            ),
            (
                "auth-profiles.json.lock.stale.12.ThreadId(3)",
                "auth-profiles.json.lock",
            ),
        ] {
            assert!(is_ours(legacy, Some(base)), "{legacy}");
            assert!(is_ours(legacy, None), "{legacy}");
        }
        for foreign in [
            "auth-profiles.json",
            "auth-profiles.json.lock",
            "openclaw.sqlite-wal",
            "auth-profiles.json.migrated-20260101-abc",
            ".auth-profiles.json.tmp",
            "auth-profiles.json.tmp",
            ".pending.json.abc.tmp",
            "pending.json.1234.tmp",
        ] {
            assert!(!is_ours(foreign, None), "{foreign}");
        }
        assert!(!is_ours(".pending.json.1234.tmp", Some("apply.json")));
    }

    #[test]
    fn only_old_leftovers_of_ours_are_swept() {
        let dir = tempfile::tempdir().unwrap();
        let old = std::time::SystemTime::now() - Duration::from_secs(120);
        let make = |name: &str, aged: bool| {
            let p = dir.path().join(name);
            fs::write(&p, b"x").unwrap();
            if aged {
                fs::File::options()
                    .write(true)
                    .open(&p)
                    .unwrap()
                    .set_modified(old)
                    .unwrap();
            }
            p
        };
        let stale = make(".apply.json.99.12345.tmp", true);
        // A fresh file of a live writer (this process) stays.
        let fresh = make(
            &format!(".apply.json.{}.12346.tmp", std::process::id()),
            false,
        );
        let foreign = make(".openclaw.json.99.12345.tmp", true);
        let removed = sweep(dir.path(), Some(&["apply.json"]), MAX_AGE);
        assert_eq!(removed, 1);
        assert!(!stale.exists());
        assert!(fresh.exists(), "a live writer's temp file is left alone");
        assert!(foreign.exists(), "not a target we were given");
        assert_eq!(sweep(Path::new("/nonexistent/x"), None, MAX_AGE), 0);
    }
}
