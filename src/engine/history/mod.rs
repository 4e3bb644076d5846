//! Usage history: every usage check (CLI, chat, watcher) appends one [`Row`] per profile to a
//! database codex-profiler owns, `<state>/codex-profiler/history.sqlite`. The gateway's
//! databases are never opened here.
//!
//! # Design
//! - [`HistoryStore`] is the whole interface (append, rows of a profile since T, prune,
//!   latest row per profile), so a shared server database can stand in for a fleet later;
//!   [`SqliteHistory`] is the local one.
//! - [`Row::from_result`] is the only code that reads the usage check's parsed types.
//! - [`after_check`] is the hook callers run after a check: append, prune to the retention
//!   ([`Retention`], `CODEX_PROFILER_HISTORY_DAYS`), read back what the forecast needs and
//!   forecast. A history fault never fails the check: it becomes a warning.
//! - Rows carry no token, code or URL: ids, plan, percentages, times, error classes.
//!
//! Files: `row.rs` (the row and its adapter), `sqlite.rs` (schema, migrations, the store),
//! `retention.rs` (the variable), `hook.rs` (after a check), `span.rs` (a span of days for
//! charts).

mod hook;
mod retention;
mod row;
mod span;
mod sqlite;

pub use hook::{AfterCheck, after_check, histories, lookback_since, record_and_forecast};
pub use retention::{DEFAULT_DAYS, HISTORY_DAYS_VAR, Retention, RetentionError};
pub use row::{Row, WindowSample, window_seconds_for_label};
pub use span::{DAY_MS, read_span, span_start, targets};
pub use sqlite::{SCHEMA_VERSION, SqliteHistory, history_path};

/// Why the history could not be read or written. The text names the file and the cause, never
/// a secret (rows hold none).
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// The database could not be opened, read or written (corrupt, locked, unreadable).
    #[error("history database {path}: {cause}")]
    Database {
        /// The file.
        path: String,
        /// SQLite's or the file system's reason.
        cause: String,
    },
    /// The file was written by a newer codex-profiler; it is left as it is.
    #[error("history database {path} has schema version {found}, newer than {supported}")]
    NewerSchema {
        /// The file.
        path: String,
        /// Its `user_version`.
        found: i64,
        /// The newest this build knows.
        supported: i64,
    },
}

/// Where usage rows are kept. Rows come back in the order they were appended (not sorted by
/// their time), so a forecast can tell a clock that went backwards from a burst.
pub trait HistoryStore {
    /// Append rows, all or none.
    fn append(&mut self, rows: &[Row]) -> Result<(), HistoryError>;
    /// One profile's rows taken at or after `since_ms`, oldest appended first.
    fn rows(&self, profile: &str, since_ms: i64) -> Result<Vec<Row>, HistoryError>;
    /// Delete rows taken before `before_ms`; how many checks were deleted.
    fn prune(&mut self, before_ms: i64) -> Result<usize, HistoryError>;
    /// The newest appended row of each profile (its previous state), by profile id.
    fn latest(&self) -> Result<Vec<Row>, HistoryError>;
}
