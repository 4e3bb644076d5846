//! What the watcher remembers between rounds and across restarts:
//! `<state>/codex-profiler/watch.json`, written atomically 0600 in our owner-only folder (the
//! helpers of `change::json_file`, shared with the chat's agent choices). A small JSON file rather than a table in
//! `history.sqlite`: it is rewritten whole once per round, must be readable when the history
//! database is locked or corrupt, and a person debugging a missed alert can read it.
//!
//! A missing file is a first round; an unreadable one (corrupt, a newer version) is left
//! beside as `watch.json.bad` with a warning and the round starts fresh. A fresh state's
//! first round only records ([`super::ChangeSet::baseline`]), so a lost file never sends a
//! storm of old news.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::engine::change::ChangeError;
use crate::engine::change::json_file;

/// The file's name in `<state>/codex-profiler/`.
pub const FILE: &str = "watch.json";
/// The format this build writes and reads.
pub const VERSION: u32 = 1;

/// A profile's last status on the usage endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Not seen answering yet.
    #[default]
    Unknown,
    /// Answered, no limit reached.
    Usable,
    /// Answered, a limit is reached.
    Limited,
    /// The endpoint refused its token (401/403).
    Failed,
}

/// One window's memory.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WindowState {
    /// The cycle: its reset time (unix seconds) when last seen.
    pub reset_at_s: Option<i64>,
    /// Used percent when last seen (a drop means a reset).
    pub used_percent: Option<f64>,
    /// The highest threshold crossed in this cycle (0: none).
    pub threshold: u8,
    /// The cycle (reset time, unix seconds) an ahead-alert was sent for.
    pub ahead_sent_for: Option<i64>,
}

/// One profile's memory.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProfileState {
    /// Last status.
    pub status: Status,
    /// Per window key (`5h`, `week`, `code_review 5h`).
    pub windows: BTreeMap<String, WindowState>,
    /// The token expiry (ms) an "expires within 24 h" alert was sent for.
    pub expiring_sent_for: Option<i64>,
    /// The token expiry (ms) an "expired" alert was sent for.
    pub expired_sent_for: Option<i64>,
    /// A failed refresh was reported (until it clears).
    pub refresh_failed: bool,
    /// The endpoint is refusing its token (401/403).
    pub rejecting: bool,
    /// Its workspace was out.
    pub workspace_out: bool,
    /// The block end (ms) a stale-block alert was sent for.
    pub stale_block_until: Option<i64>,
    /// Do not ask the endpoint again before this (ms): its 429 `Retry-After`.
    pub retry_not_before_ms: Option<i64>,
}

/// The whole memory.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WatchState {
    /// Format version.
    pub version: u32,
    /// The latest round's time (ms); never moves backwards.
    pub last_round_ms: Option<i64>,
    /// Per profile id.
    pub profiles: BTreeMap<String, ProfileState>,
}

impl WatchState {
    /// A state nothing was recorded in yet.
    pub fn fresh() -> WatchState {
        WatchState {
            version: VERSION,
            ..WatchState::default()
        }
    }

    /// Whether no round was recorded yet (a first round only records).
    pub fn is_fresh(&self) -> bool {
        self.last_round_ms.is_none()
    }
}

/// The state file of a gateway state directory.
pub fn path(state_dir: &Path) -> PathBuf {
    state_dir.join("codex-profiler").join(FILE)
}

/// What [`load`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    /// The state (fresh when there was none or it was unreadable).
    pub state: WatchState,
    /// What went wrong reading it, as one sentence for the log or stderr.
    pub warning: Option<String>,
}

/// Read the state; never fails: a missing file is fresh, an unreadable one is moved aside
/// (`watch.json.bad`) with a warning and replaced by a fresh state.
pub fn load(state_dir: &Path) -> Loaded {
    let read =
        json_file::read::<WatchState>(&path(state_dir), "watch state", "starting fresh", |s| {
            if s.version == VERSION {
                Ok(())
            } else {
                Err(format!("has version {}, not {VERSION}", s.version))
            }
        });
    Loaded {
        state: read.value.unwrap_or_else(WatchState::fresh),
        warning: read.warning,
    }
}

/// Write the state atomically (0600 temp file, fsync, rename) in the owner-only folder.
pub fn save(state_dir: &Path, state: &WatchState) -> Result<(), ChangeError> {
    json_file::write(state_dir, FILE, state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn round_trips_private_and_sets_aside_a_corrupt_file() {
        let dir = std::env::temp_dir().join(format!("cp-watch-state-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(
            load(&dir),
            Loaded {
                state: WatchState::fresh(),
                warning: None
            }
        );
        let mut s = WatchState::fresh();
        s.last_round_ms = Some(5);
        s.profiles.insert(
            "openai:a".into(),
            ProfileState {
                status: Status::Limited,
                ..Default::default()
            },
        );
        save(&dir, &s).unwrap();
        let mode = std::fs::metadata(path(&dir)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(load(&dir).state, s);

        std::fs::write(path(&dir), b"{not json").unwrap();
        let l = load(&dir);
        assert!(l.state.is_fresh());
        assert!(l.warning.unwrap().contains("starting fresh"));
        assert!(dir.join("codex-profiler/watch.json.bad").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
