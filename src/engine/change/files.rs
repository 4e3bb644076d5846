//! Small file helpers for codex-profiler's own files under `<state>/codex-profiler/`
//! (backups, `apply.json`): an owner-only folder, atomic 0600 writes, and an advisory lock.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

use super::error::ChangeError;

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
pub fn write_private_atomic(path: &Path, bytes: &[u8]) -> Result<(), ChangeError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        File::open(dir)?.sync_all()
    };
    write().map_err(|e| {
        let _ = fs::remove_file(&tmp);
        ChangeError::io("write", path, e)
    })
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
