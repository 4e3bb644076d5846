//! `ChangeError`: every way a mutation, a backup, gateway-native mode, a queued apply, the
//! layers view or doctor can fail, each one clear sentence that never holds a secret.

use std::path::PathBuf;

use crate::engine::selector::SelectError;
use crate::engine::{Failure, FailureKind};

/// Why a change (or one of its helpers) did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    /// The selector did not name exactly the profiles needed.
    #[error(transparent)]
    Select(#[from] SelectError),
    /// A refresh is in flight for this profile: the gateway owns it until the fence clears.
    #[error(
        "profile {0} is being refreshed by the gateway right now (refresh fence): try again in a minute"
    )]
    Fenced(String),
    /// An order names a profile the store does not hold.
    #[error("profile {0} is not in the store: `codex-profiler profiles` lists the ids")]
    UnknownProfile(String),
    /// The same profile was named twice in an order.
    #[error("profile {0} is named twice in the order")]
    DuplicateInOrder(String),
    /// A destructive action without `--confirm`: carries the plan that would run.
    #[error("{0} (nothing was changed: add --confirm to do it)")]
    ConfirmationRequired(String),
    /// The `openclaw` binary is not available.
    #[error(
        "the `openclaw` command was not found: put it on PATH or set CODEX_PROFILER_OPENCLAW_BIN"
    )]
    GatewayMissing,
    /// `openclaw` ran and failed.
    #[error("`openclaw {command}` failed (exit {code}): {output}")]
    GatewayFailed {
        /// The subcommand, without secrets (profile ids and provider only).
        command: String,
        /// Its exit code, -1 when killed by a signal.
        code: i32,
        /// Its last output lines, scrubbed of secrets.
        output: String,
    },
    /// A file or process of ours could not be read, written or started.
    #[error("could not {what} {}: {source}", path.display())]
    Io {
        /// What we were doing (`read`, `write`, `create`, `run`).
        what: &'static str,
        /// The file or program.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file of ours (backup, `apply.json`) is not what we wrote.
    #[error("{} is not a valid {kind}: {reason}", path.display())]
    BadFile {
        /// What it should be.
        kind: &'static str,
        /// The file.
        path: PathBuf,
        /// Why not.
        reason: String,
    },
    /// No backup of that name.
    #[error("there is no backup named `{0}`: `codex-profiler backups list` shows them")]
    NoSuchBackup(String),
    /// The change has nothing to do.
    #[error("{0}")]
    Refused(String),
    /// A backup of a layer the store in use does not have: taken before a format migration
    /// (its format is not the store's), or of another agent's overlay. Nothing is written.
    #[error(
        "the backup is of {layer}, which is not a layer of the store in use ({}): open that store (--store/--agent) to restore it",
        store_path.display()
    )]
    BackupOfOtherStore {
        /// The backup's layer, as labelled when it was taken.
        layer: String,
        /// The backup's store format (`json`, `agent-db`, `state-db`).
        backup_format: String,
        /// The format of the store in use.
        store_format: String,
        /// The store in use.
        store_path: PathBuf,
    },
    /// `unblock`: the usage endpoint says a limit of the profile is still reached.
    #[error("{0}")]
    StillLimited(String),
    /// `unblock`: the usage endpoint could not be asked (timeout, connection, 5xx).
    #[error("{0}")]
    UsageUnconfirmed(String),
    /// The auth store failed.
    #[error("{message}")]
    Store {
        /// Exit class of the store error.
        kind: FailureKind,
        /// Stable code of the store error.
        code: &'static str,
        /// Its sentence.
        message: String,
    },
}

impl ChangeError {
    /// An I/O failure on `path`.
    pub fn io(what: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ChangeError::Io {
            what,
            path: path.into(),
            source,
        }
    }

    /// Wrap any store-engine failure, keeping its exit class and code.
    pub fn store<E: Failure>(e: E) -> Self {
        ChangeError::Store {
            kind: e.kind(),
            code: e.code(),
            message: e.to_string(),
        }
    }
}

impl Failure for ChangeError {
    fn kind(&self) -> FailureKind {
        match self {
            ChangeError::Select(e) => e.kind(),
            ChangeError::Fenced(_)
            | ChangeError::Refused(_)
            | ChangeError::BackupOfOtherStore { .. }
            | ChangeError::DuplicateInOrder(_)
            | ChangeError::StillLimited(_) => FailureKind::InputRefused,
            ChangeError::UsageUnconfirmed(_) => FailureKind::Runtime,
            ChangeError::UnknownProfile(_) | ChangeError::NoSuchBackup(_) => FailureKind::NoMatch,
            ChangeError::ConfirmationRequired(_) => FailureKind::ConfirmationRequired,
            ChangeError::Store { kind, .. } => *kind,
            ChangeError::GatewayMissing
            | ChangeError::GatewayFailed { .. }
            | ChangeError::Io { .. }
            | ChangeError::BadFile { .. } => FailureKind::Runtime,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ChangeError::Select(e) => e.code(),
            ChangeError::Fenced(_) => "profile_fenced",
            ChangeError::UnknownProfile(_) => "no_matching_profile",
            ChangeError::DuplicateInOrder(_) => "duplicate_in_order",
            ChangeError::ConfirmationRequired(_) => "confirmation_required",
            ChangeError::GatewayMissing => "openclaw_missing",
            ChangeError::GatewayFailed { .. } => "openclaw_failed",
            ChangeError::Io { .. } => "io_error",
            ChangeError::BadFile { .. } => "bad_file",
            ChangeError::NoSuchBackup(_) => "no_such_backup",
            // The same code as before this case had its own variant: scripts rely on it.
            ChangeError::Refused(_) | ChangeError::BackupOfOtherStore { .. } => "change_refused",
            ChangeError::StillLimited(_) => "still_limited",
            ChangeError::UsageUnconfirmed(_) => "usage_unconfirmed",
            ChangeError::Store { code, .. } => code,
        }
    }
}
