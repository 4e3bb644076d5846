//! [`SqliteHistory`]: the history in `<state>/codex-profiler/history.sqlite` (mode 0600, in the
//! owner-only folder backups use), WAL, a 250 ms busy timeout so a locked history never stalls
//! a check, and its own schema versioned by `PRAGMA user_version`.
//!
//! Schema: one `checks` row per (check, profile) and one `check_windows` row per window of it.
//! Child rows rather than a JSON column: the windows are typed (STRICT), a forecast reads them
//! without parsing JSON per row, and a fleet's server or a chart can query one window in SQL.
//! New window fields arrive as a migration adding a column.

use std::fs::{self, OpenOptions};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::{HistoryError, HistoryStore, Row, WindowSample};

/// The file name inside `<state>/codex-profiler/`.
const FILE: &str = "history.sqlite";
/// How long a write waits for another writer before the check gives up on history.
const BUSY_TIMEOUT: Duration = Duration::from_millis(250);

/// Schema steps: `MIGRATIONS[i]` takes `user_version` i to i + 1.
const MIGRATIONS: &[&str] = &["
    CREATE TABLE checks (
        id INTEGER PRIMARY KEY,
        at_ms INTEGER NOT NULL,
        profile TEXT NOT NULL,
        account_id TEXT,
        plan TEXT,
        credits_balance REAL,
        spend_remaining REAL,
        limit_reached INTEGER,
        remote_error TEXT,
        local_status TEXT NOT NULL
    ) STRICT;
    CREATE INDEX checks_by_profile ON checks (profile, at_ms);
    CREATE INDEX checks_by_time ON checks (at_ms);
    CREATE TABLE check_windows (
        check_id INTEGER NOT NULL,
        slot INTEGER NOT NULL,
        limit_name TEXT,
        label TEXT NOT NULL,
        window_seconds INTEGER,
        used_percent REAL,
        reset_at INTEGER,
        PRIMARY KEY (check_id, slot)
    ) STRICT, WITHOUT ROWID;
"];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

const SELECT: &str = "SELECT c.id, c.at_ms, c.profile, c.account_id, c.plan, c.credits_balance,
    c.spend_remaining, c.limit_reached, c.remote_error, c.local_status,
    w.limit_name, w.label, w.window_seconds, w.used_percent, w.reset_at
    FROM checks c LEFT JOIN check_windows w ON w.check_id = c.id";

/// `<state>/codex-profiler/history.sqlite`.
pub fn history_path(state_dir: &Path) -> PathBuf {
    state_dir.join("codex-profiler").join(FILE)
}

/// The local history database.
#[derive(Debug)]
pub struct SqliteHistory {
    conn: Connection,
    path: PathBuf,
}

impl SqliteHistory {
    /// Open (creating it and its owner-only folder if needed) the history of a state dir.
    pub fn open_in(state_dir: &Path) -> Result<SqliteHistory, HistoryError> {
        let path = history_path(state_dir);
        crate::engine::change::files::own_dir(state_dir).map_err(|e| HistoryError::Database {
            path: path.display().to_string(),
            cause: e.to_string(),
        })?;
        SqliteHistory::open(&path)
    }

    /// Open (creating it if needed, mode 0600) the history at `path` and bring its schema up
    /// to date. A corrupt, locked or newer file is an error and is left untouched.
    pub fn open(path: &Path) -> Result<SqliteHistory, HistoryError> {
        let err = |e: &dyn std::fmt::Display| db_err(path, e);
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)
            .map_err(|e| err(&e))?;
        fs::set_permissions(path, fs::Permissions::from_mode(0o600)).map_err(|e| err(&e))?;
        let mut conn = Connection::open(path).map_err(|e| err(&e))?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(|e| err(&e))?;
        let version = user_version(&conn).map_err(|e| err(&e))?;
        if version != SCHEMA_VERSION {
            migrate(&mut conn, path)?;
        }
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
            .map_err(|e| err(&e))?;
        tracing::trace!(path = %path.display(), %mode, "history opened");
        Ok(SqliteHistory {
            conn,
            path: path.to_path_buf(),
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, e: rusqlite::Error) -> HistoryError {
        db_err(&self.path, &e)
    }

    fn query(&self, sql: &str, args: impl rusqlite::Params) -> Result<Vec<Row>, HistoryError> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.err(e))?;
        let mut out: Vec<Row> = Vec::new();
        let mut last_id = None;
        let mut rows = stmt.query(args).map_err(|e| self.err(e))?;
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            let id: i64 = r.get(0).map_err(|e| self.err(e))?;
            if last_id != Some(id) {
                out.push(read_row(r).map_err(|e| self.err(e))?);
                last_id = Some(id);
            }
            let label: Option<String> = r.get(11).map_err(|e| self.err(e))?;
            if let (Some(label), Some(row)) = (label, out.last_mut()) {
                row.windows.push(WindowSample {
                    limit: r.get(10).map_err(|e| self.err(e))?,
                    label,
                    window_seconds: r.get(12).map_err(|e| self.err(e))?,
                    used_percent: r.get(13).map_err(|e| self.err(e))?,
                    reset_at: r.get(14).map_err(|e| self.err(e))?,
                });
            }
        }
        Ok(out)
    }
}

fn db_err(path: &Path, e: &dyn std::fmt::Display) -> HistoryError {
    HistoryError::Database {
        path: path.display().to_string(),
        cause: e.to_string(),
    }
}

fn user_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

/// Apply the missing schema steps in one transaction; refuse a newer file.
fn migrate(conn: &mut Connection, path: &Path) -> Result<(), HistoryError> {
    let err = |e: rusqlite::Error| db_err(path, &e);
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(err)?;
    let found = user_version(&tx).map_err(err)?;
    if !(0..=SCHEMA_VERSION).contains(&found) {
        return Err(HistoryError::NewerSchema {
            path: path.display().to_string(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for step in &MIGRATIONS[found as usize..] {
        tx.execute_batch(step).map_err(err)?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)
        .map_err(err)?;
    tx.commit().map_err(err)
}

fn read_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok(Row {
        at_ms: r.get(1)?,
        profile: r.get(2)?,
        account_id: r.get(3)?,
        plan: r.get(4)?,
        credits_balance: r.get(5)?,
        spend_remaining: r.get(6)?,
        limit_reached: r.get::<_, Option<i64>>(7)?.map(|b| b != 0),
        remote_error: r.get(8)?,
        local_status: r.get(9)?,
        windows: Vec::new(),
    })
}

impl HistoryStore for SqliteHistory {
    fn append(&mut self, rows: &[Row]) -> Result<(), HistoryError> {
        let path = self.path.clone();
        let err = |e: rusqlite::Error| db_err(&path, &e);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        {
            let mut check = tx
                .prepare_cached(
                    "INSERT INTO checks (at_ms, profile, account_id, plan, credits_balance,
                     spend_remaining, limit_reached, remote_error, local_status)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )
                .map_err(err)?;
            let mut window = tx
                .prepare_cached(
                    "INSERT INTO check_windows (check_id, slot, limit_name, label,
                     window_seconds, used_percent, reset_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .map_err(err)?;
            for row in rows {
                let id = check
                    .insert(params![
                        row.at_ms,
                        row.profile,
                        row.account_id,
                        row.plan,
                        row.credits_balance.filter(|f| f.is_finite()),
                        row.spend_remaining.filter(|f| f.is_finite()),
                        row.limit_reached.map(i64::from),
                        row.remote_error,
                        row.local_status,
                    ])
                    .map_err(err)?;
                for (slot, w) in row.windows.iter().enumerate() {
                    window
                        .execute(params![
                            id,
                            slot as i64,
                            w.limit,
                            w.label,
                            w.window_seconds,
                            w.used_percent.filter(|f| f.is_finite()),
                            w.reset_at,
                        ])
                        .map_err(err)?;
                }
            }
        }
        tx.commit().map_err(err)
    }

    fn rows(&self, profile: &str, since_ms: i64) -> Result<Vec<Row>, HistoryError> {
        self.query(
            &format!("{SELECT} WHERE c.profile = ?1 AND c.at_ms >= ?2 ORDER BY c.id, w.slot"),
            params![profile, since_ms],
        )
    }

    fn prune(&mut self, before_ms: i64) -> Result<usize, HistoryError> {
        let path = self.path.clone();
        let err = |e: rusqlite::Error| db_err(&path, &e);
        let any: Option<i64> = self
            .conn
            .query_row(
                "SELECT id FROM checks WHERE at_ms < ?1 LIMIT 1",
                [before_ms],
                |r| r.get(0),
            )
            .optional()
            .map_err(err)?;
        if any.is_none() {
            // Nothing to delete: no write lock taken.
            return Ok(0);
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        tx.execute(
            "DELETE FROM check_windows WHERE check_id IN (SELECT id FROM checks WHERE at_ms < ?1)",
            [before_ms],
        )
        .map_err(err)?;
        let n = tx
            .execute("DELETE FROM checks WHERE at_ms < ?1", [before_ms])
            .map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(n)
    }

    fn latest(&self) -> Result<Vec<Row>, HistoryError> {
        self.query(
            &format!(
                "{SELECT} WHERE c.id IN (SELECT max(id) FROM checks GROUP BY profile)
                 ORDER BY c.profile, w.slot"
            ),
            [],
        )
    }
}

#[cfg(test)]
mod tests;
