//! The sidecar lock OpenClaw puts beside a json store: `<file>.lock`, created with
//! O_CREAT|O_EXCL and mode 0600, holding `{"pid":N,"createdAt":"<ISO>"}`. A lock older than
//! [`STALE_AFTER`] or whose pid is dead is taken over; a directory of that name (older
//! versions) is a lock too. A live lock is waited for, up to a bound, then reported.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

use super::error::StoreError;

/// A lock older than this is stale.
pub const STALE_AFTER: Duration = Duration::from_secs(30);
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
    if let Some(t) = created {
        if chrono::Utc::now()
            .signed_duration_since(t)
            .num_milliseconds()
            > STALE_AFTER.as_millis() as i64
        {
            return true;
        }
    } else if age > STALE_AFTER {
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
    let mut aside = path.as_os_str().to_owned();
    aside.push(format!(
        ".stale.{}.{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let aside = PathBuf::from(aside);
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

/// Take the lock for `file`, waiting up to `wait` for a live holder.
pub fn acquire(file: &Path, wait: Duration) -> Result<LockGuard, StoreError> {
    let path = lock_path(file);
    let start = Instant::now();
    loop {
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(mut f) => {
                let guard = LockGuard { path: path.clone() };
                let body = serde_json::json!({
                    "pid": std::process::id(),
                    "createdAt": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                });
                f.write_all(body.to_string().as_bytes())
                    .and_then(|()| f.sync_all())
                    .map_err(|e| StoreError::io("write the lock", &path, &e))?;
                return Ok(guard);
            }
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
