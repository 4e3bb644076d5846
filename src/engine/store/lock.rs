//! The sidecar lock OpenClaw puts beside a json store: `<file>.lock`, created exclusively
//! (OpenClaw: O_CREAT|O_EXCL; we: an exclusive hard link of a filled temp file, which no crash
//! can leave empty) with mode 0600, holding `{"pid":N,"createdAt":"<ISO>"}`. A lock older than
//! [`STALE_AFTER`] or whose pid is dead is taken over; a directory of that name (older
//! versions) is a lock too. A lock whose `createdAt` lies in the future (a wrong clock) is
//! judged by its file's mtime instead. A live lock is waited for, up to a bound, then reported.
//! Our temp and aside files beside the lock are named as [`super::leftovers`] says, and the
//! ones a crash left are swept on the next acquire.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

use super::error::StoreError;
use super::leftovers;

/// A lock older than this is stale.
pub const STALE_AFTER: Duration = Duration::from_secs(30);
/// How far in the future a lock's `createdAt` may lie before it is not believed.
const CLOCK_SKEW: Duration = Duration::from_secs(2);
/// How long we wait for a live lock by default.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(10);

/// A held lock; dropping it removes the lock file.
#[derive(Debug)]
pub struct LockGuard {
    path: PathBuf,
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        // Best effort: a lock we cannot remove goes stale after 30 s anyway.
        let _ = fs::remove_file(&self.path);
    }
}

/// The lock file's path for a store file.
pub fn lock_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

fn pid_alive(pid: i64) -> bool {
    if pid <= 0 || pid > i64::from(i32::MAX) {
        return false;
    }
    // Signal 0 checks existence; EPERM means it exists but belongs to someone else.
    // SAFETY: kill with signal 0 sends nothing and touches no memory.
    let r = unsafe { libc::kill(pid as libc::pid_t, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Whether the existing lock at `path` may be taken over.
fn is_stale(path: &Path) -> bool {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return false;
    };
    let age = meta
        .modified()
        .ok()
        .and_then(|m| SystemTime::now().duration_since(m).ok())
        .unwrap_or_default();
    if meta.is_dir() {
        return age > STALE_AFTER;
    }
    let Some(doc) = fs::read(path)
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
    else {
        // Unreadable content (e.g. a writer between create and write): judge by age alone.
        return age > STALE_AFTER;
    };
    let created = doc
        .get("createdAt")
        .and_then(Value::as_str)
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&chrono::Utc));
    let created_age_ms = created.map(|t| {
        chrono::Utc::now()
            .signed_duration_since(t)
            .num_milliseconds()
    });
    let stale_ms = STALE_AFTER.as_millis() as i64;
    let too_old = match created_age_ms {
        // A `createdAt` in the future (a clock stepped back, a writer with a wrong clock)
        // would keep the lock live for as long as the skew: the file's mtime judges instead.
        Some(ms) if ms < -(CLOCK_SKEW.as_millis() as i64) => age > STALE_AFTER,
        Some(ms) => ms > stale_ms,
        None => age > STALE_AFTER,
    };
    if too_old {
        return true;
    }
    match doc.get("pid").and_then(Value::as_i64) {
        Some(pid) => !pid_alive(pid),
        None => false,
    }
}

/// Take a stale lock out of the way. Two waiters may judge the same lock stale at once: each
/// first renames it aside (atomic, so only one gets it) and checks the renamed lock is still
/// stale; if a fresh lock was caught instead, it is put back unless a newer one exists.
fn remove_stale(path: &Path) {
    let aside = leftovers::aside_path(path);
    if fs::rename(path, &aside).is_err() {
        return; // someone else moved it first
    }
    let is_dir = fs::symlink_metadata(&aside).is_ok_and(|m| m.is_dir());
    if !is_dir && !is_stale(&aside) {
        let _ = fs::hard_link(&aside, path);
        let _ = fs::remove_file(&aside);
        return;
    }
    let _ = if is_dir {
        fs::remove_dir_all(&aside)
    } else {
        fs::remove_file(&aside)
    };
}

/// Create the lock file already holding its content. The body goes into a private temp file
/// first, which is then hard-linked to the lock path: `link` fails if the lock exists, exactly
/// like O_CREAT|O_EXCL, but no one (and no crash) can ever see an empty lock of ours, which
/// could only be judged stale by age.
fn create_with_content(path: &Path) -> std::io::Result<()> {
    let tmp = leftovers::temp_path(path);
    let body = serde_json::json!({
        "pid": std::process::id(),
        "createdAt": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    });
    let written = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut f| {
            f.write_all(body.to_string().as_bytes())?;
            f.sync_all()
        })
        .and_then(|()| fs::hard_link(&tmp, path));
    let _ = fs::remove_file(&tmp);
    written
}

/// Take the lock for `file`, waiting up to `wait` for a live holder.
pub fn acquire(file: &Path, wait: Duration) -> Result<LockGuard, StoreError> {
    let path = lock_path(file);
    // Temp files and aside copies a killed process left beside the lock.
    if let (Some(dir), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str())) {
        leftovers::sweep(dir, Some(&[name]), leftovers::MAX_AGE);
    }
    let start = Instant::now();
    loop {
        match create_with_content(&path) {
            Ok(()) => return Ok(LockGuard { path }),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                if is_stale(&path) {
                    tracing::debug!(lock = %path.display(), "taking over a stale lock");
                    remove_stale(&path);
                    continue;
                }
                if start.elapsed() >= wait {
                    return Err(StoreError::LockTimeout {
                        path,
                        secs: wait.as_secs(),
                    });
                }
                std::thread::sleep(Duration::from_millis(25));
            }
            Err(e) => return Err(StoreError::io("create the lock", &path, &e)),
        }
    }
}
