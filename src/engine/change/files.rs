//! Small file helpers for codex-profiler's own files under `<state>/codex-profiler/`
//! (backups, `apply.json`): an owner-only folder, atomic 0600 writes (exclusive ones for names
//! that must not collide), sweeping of temp files a crash left, and an advisory lock.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

use super::error::ChangeError;
use crate::engine::store::leftovers;

/// `<state>/codex-profiler`, created owner-only (0700) if missing.
pub fn own_dir(state_dir: &Path) -> Result<PathBuf, ChangeError> {
    ensure_private_dir(&state_dir.join("codex-profiler"))
}

/// Create `dir` (and parents) and make it owner-only.
pub fn ensure_private_dir(dir: &Path) -> Result<PathBuf, ChangeError> {
    fs::create_dir_all(dir).map_err(|e| ChangeError::io("create", dir, e))?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
        .map_err(|e| ChangeError::io("protect", dir, e))?;
    Ok(dir.to_path_buf())
}

/// Write `bytes` to `path` atomically: a 0600 temp file beside it, fsync, rename, fsync dir.
/// A temp file of the same target that a killed writer left is swept first.
pub fn write_private_atomic(path: &Path, bytes: &[u8]) -> Result<(), ChangeError> {
    if let (Some(dir), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str())) {
        leftovers::sweep(dir, Some(&[name]), leftovers::MAX_AGE);
    }
    publish(path, bytes, false).map(drop)
}

/// Write `bytes` to `path` atomically, but only if `path` does not exist yet: `Ok(false)`
/// when it does (nothing written). Two writers choosing the same name never overwrite each
/// other: the filled temp file is hard-linked into place, which fails if the name is taken.
pub fn create_private_atomic(path: &Path, bytes: &[u8]) -> Result<bool, ChangeError> {
    publish(path, bytes, true)
}

fn publish(path: &Path, bytes: &[u8], exclusive: bool) -> Result<bool, ChangeError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = leftovers::temp_path(path);
    let write = || -> std::io::Result<bool> {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        if exclusive {
            match fs::hard_link(&tmp, path) {
                Ok(()) => fs::remove_file(&tmp)?,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    fs::remove_file(&tmp)?;
                    return Ok(false);
                }
                Err(e) => return Err(e),
            }
        } else {
            fs::rename(&tmp, path)?;
        }
        File::open(dir)?.sync_all()?;
        Ok(true)
    };
    write().map_err(|e| {
        let _ = fs::remove_file(&tmp);
        ChangeError::io("write", path, e)
    })
}

/// Sweep the temp files a crash left in our own folders (`<state>/codex-profiler/` and its
/// `backups/`), older than [`leftovers::MAX_AGE`]. Creates nothing; never fails.
pub fn sweep_own(state_dir: &Path) {
    let own = state_dir.join("codex-profiler");
    // Our folder, but `apply.log` and the lock files are not temp files: name the targets.
    leftovers::sweep(
        &own,
        Some(&["apply.json", "pending.json", "pending.json.lock"]),
        leftovers::MAX_AGE,
    );
    // Every file in `backups/` is ours.
    leftovers::sweep(&own.join("backups"), None, leftovers::MAX_AGE);
}

/// An exclusive advisory lock (`flock`) on a lock file, released on drop. Used only for
/// short read-modify-write sections of our own files, never while a child runs.
pub struct FileLock {
    file: File,
}

impl FileLock {
    /// Block until the lock on `path` is ours.
    pub fn acquire(path: &Path) -> Result<FileLock, ChangeError> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)
            .map_err(|e| ChangeError::io("open", path, e))?;
        // SAFETY: flock on a file descriptor we own; no memory is shared with the call.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
        if rc != 0 {
            return Err(ChangeError::io(
                "lock",
                path,
                std::io::Error::last_os_error(),
            ));
        }
        Ok(FileLock { file })
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        // SAFETY: as above; closing the descriptor would release the lock too.
        unsafe {
            libc::flock(self.file.as_raw_fd(), libc::LOCK_UN);
        }
    }
}

/// Milliseconds since the epoch, now.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
