//! Every way reading or writing an auth store can fail, each one clear sentence with the path
//! involved and never a token (store contents are never quoted).

use std::path::PathBuf;

use crate::engine::{Failure, FailureKind};

/// A store failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The state directory does not exist.
    #[error(
        "the OpenClaw state directory {} does not exist: pass --state-dir or set OPENCLAW_STATE_DIR",
        .0.display()
    )]
    NoStateDir(PathBuf),
    /// No store of any format exists.
    #[error(
        "no OpenClaw auth store was found under {}: run `openclaw doctor` once, or pass `--store json` for an old gateway",
        .0.display()
    )]
    NoStore(PathBuf),
    /// A forced format or path that is not there.
    #[error("the {what} {} does not exist", .path.display())]
    Missing {
        /// What was expected (e.g. "state database").
        what: &'static str,
        /// Where.
        path: PathBuf,
    },
    /// The file is not JSON.
    #[error("{} is not valid JSON; nothing was written", .0.display())]
    NotJson(PathBuf),
    /// The path names something that is not a regular file (a FIFO, a device, a folder).
    #[error("{} is not a regular file; an auth store is a file (nothing was read or written)", .0.display())]
    NotAFile(PathBuf),
    /// The file is larger than any auth store.
    #[error("{} is larger than {limit_mib} MiB, more than any auth store; nothing was read or written", .path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The bound, in MiB.
        limit_mib: u64,
    },
    /// The JSON nests deeper than any store OpenClaw writes.
    #[error("{} nests JSON deeper than {limit} levels, more than OpenClaw can write; nothing was written", .path.display())]
    TooDeep {
        /// The file or database.
        path: PathBuf,
        /// The bound.
        limit: usize,
    },
    /// A forced `--store` format does not match the file at the path.
    #[error("{} is not a {expected} (it looks like {found}): drop --store to detect the format, or name the right file", .path.display())]
    WrongKind {
        /// The file.
        path: PathBuf,
        /// The forced format, in words.
        expected: &'static str,
        /// What the file is, in words.
        found: &'static str,
    },
    /// A document has the wrong shape (e.g. `profiles` is not an object).
    #[error("{} has a malformed `{field}` (expected {expected}); nothing was written", .path.display())]
    BadField {
        /// The file or database.
        path: PathBuf,
        /// The field.
        field: String,
        /// What it should have been.
        expected: &'static str,
    },
    /// The SQLite file is not a database or is damaged.
    #[error("{} is not a readable SQLite database (corrupt or not a database); nothing was written", .0.display())]
    SqliteCorrupt(PathBuf),
    /// The database stayed locked past the busy timeout.
    #[error("{} is locked by another process (waited {} s); nothing was written, try again", .0.display(), crate::engine::store::sqlite::BUSY_TIMEOUT_MS / 1000)]
    SqliteBusy(PathBuf),
    /// The database lacks the tables OpenClaw creates (we never create them).
    #[error("{} has no `{table}` table: run `openclaw doctor` once so OpenClaw creates it", .path.display())]
    MissingTable {
        /// The database.
        path: PathBuf,
        /// The table.
        table: &'static str,
    },
    /// Another SQLite failure.
    #[error("SQLite failed on {}: {detail}", .path.display())]
    Sqlite {
        /// The database.
        path: PathBuf,
        /// SQLite's message (never holds bound values).
        detail: String,
    },
    /// A file-system failure.
    #[error("could not {action} {}: {detail}", .path.display())]
    Io {
        /// What we tried.
        action: &'static str,
        /// Where.
        path: PathBuf,
        /// The OS error.
        detail: String,
    },
    /// Another process held the JSON lock for too long.
    #[error("{} is held by another live process (waited {secs} s); nothing was written, try again", .path.display())]
    LockTimeout {
        /// The lock file.
        path: PathBuf,
        /// How long we waited.
        secs: u64,
    },
    /// The profile is being refreshed by the gateway right now.
    #[error("profile {0} is being refreshed by the gateway right now; try again in a minute")]
    Fenced(String),
    /// The profile to change does not exist.
    #[error("no profile {0} in the store")]
    NoSuchProfile(String),
    /// A json store would be created beside a database store.
    #[error(
        "refusing to create {}: this gateway uses a database store, and a legacy auth-profiles.json would stop it from starting",
        .0.display()
    )]
    WouldCreateLegacyJson(PathBuf),
    /// Read-back after a write did not show the change.
    #[error("the change was written to {layer} but reading it back did not show it: {what}")]
    VerifyFailed {
        /// The layer.
        layer: String,
        /// What is different.
        what: String,
    },
    /// The layer named does not belong to this store.
    #[error("{0} is not a layer of this store")]
    UnknownLayer(String),
    /// No state directory was given and `HOME` is not set.
    #[error("HOME is not set: pass --state-dir or set OPENCLAW_STATE_DIR")]
    NoHome,
    /// An agent id that cannot name a folder under `agents/`.
    #[error("`{0}` is not an agent id")]
    BadAgent(String),
    /// A store format name that is not one of ours.
    #[error("`{0}` is not a store format: use auto, state-db, agent-db or json")]
    BadFormat(String),
}

impl Failure for StoreError {
    fn kind(&self) -> FailureKind {
        match self {
            StoreError::NoSuchProfile(_) => FailureKind::NoMatch,
            StoreError::NoHome | StoreError::BadAgent(_) | StoreError::BadFormat(_) => {
                FailureKind::Usage
            }
            // The same refusal the change pipeline's preflight gives (a fence that appeared
            // between preflight and apply lands here).
            StoreError::Fenced(_) => FailureKind::InputRefused,
            _ => FailureKind::Runtime,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            StoreError::NoStateDir(_) => "no_state_dir",
            StoreError::NoStore(_) => "no_store",
            StoreError::Missing { .. } => "store_missing",
            StoreError::NotJson(_) => "not_json",
            StoreError::NotAFile(_) => "not_a_file",
            StoreError::TooLarge { .. } => "store_too_large",
            StoreError::TooDeep { .. } => "json_too_deep",
            StoreError::WrongKind { .. } => "store_wrong_kind",
            StoreError::BadField { .. } => "bad_field",
            StoreError::SqliteCorrupt(_) => "sqlite_corrupt",
            StoreError::SqliteBusy(_) => "sqlite_busy",
            StoreError::MissingTable { .. } => "missing_table",
            StoreError::Sqlite { .. } => "sqlite_error",
            StoreError::Io { .. } => "io_error",
            StoreError::LockTimeout { .. } => "lock_timeout",
            StoreError::Fenced(_) => "profile_fenced",
            StoreError::NoSuchProfile(_) => "no_matching_profile",
            StoreError::WouldCreateLegacyJson(_) => "legacy_json_refused",
            StoreError::VerifyFailed { .. } => "verify_failed",
            StoreError::UnknownLayer(_) => "unknown_layer",
            StoreError::NoHome => "no_state_dir",
            StoreError::BadAgent(_) => "bad_agent",
            StoreError::BadFormat(_) => "bad_store_format",
        }
    }
}

impl StoreError {
    /// An I/O error on `path` while doing `action`.
    pub(crate) fn io(action: &'static str, path: &std::path::Path, e: &std::io::Error) -> Self {
        StoreError::Io {
            action,
            path: path.to_owned(),
            detail: e.to_string(),
        }
    }
}
