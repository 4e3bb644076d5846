//! The two database layouts: the state database's `config_machine_state` cells and an agent
//! database's `auth_profile_store`/`auth_profile_state` rows. We never create a database or
//! a table (OpenClaw owns the schema); we open existing files without `SQLITE_OPEN_CREATE`,
//! wait up to [`BUSY_TIMEOUT_MS`] for other writers, write in one `BEGIN IMMEDIATE`
//! transaction per change with values bound as TEXT, and leave the journal (WAL) mode alone.

use std::path::Path;

use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, TransactionBehavior};
use serde_json::{Value, json};

use super::error::StoreError;
use super::layer::{Backend, LayerDocs};

/// How long we wait for another writer, as OpenClaw does.
pub const BUSY_TIMEOUT_MS: u64 = 5000;

/// State database: the shared credential cell.
pub const STORE_CELL: &str = "authProfiles.store";
/// State database: the shared runtime-state cell.
pub const STATE_CELL: &str = "authProfiles.state";
/// State database: which store is the shared one.
pub const SHARED_STORE_CELL: &str = "auth.sharedStore";
/// Agent database: the row key.
pub const PRIMARY: &str = "primary";

/// Map a rusqlite error on `path` to a store error.
pub(crate) fn sql_err(path: &Path, e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => {
            StoreError::SqliteCorrupt(path.to_owned())
        }
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            StoreError::SqliteBusy(path.to_owned())
        }
        _ => StoreError::Sqlite {
            path: path.to_owned(),
            detail: e.to_string(),
        },
    }
}

/// Open an existing database (never creating it), with the busy timeout set.
pub(crate) fn open(path: &Path, write: bool) -> Result<Connection, StoreError> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => {}
        // A device or FIFO is not "missing": say what it is.
        Ok(_) => return Err(StoreError::NotAFile(path.to_owned())),
        Err(_) => {
            return Err(StoreError::Missing {
                what: "database",
                path: path.to_owned(),
            });
        }
    }
    let flags = if write {
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = Connection::open_with_flags(path, flags).map_err(|e| sql_err(path, e))?;
    conn.busy_timeout(std::time::Duration::from_millis(BUSY_TIMEOUT_MS))
        .map_err(|e| sql_err(path, e))?;
    Ok(conn)
}

/// Whether `table` exists (this is also the first read, so a corrupt file fails here).
pub(crate) fn has_table(conn: &Connection, path: &Path, table: &str) -> Result<bool, StoreError> {
    conn.query_row(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [table],
        |_| Ok(()),
    )
    .optional()
    .map(|o| o.is_some())
    .map_err(|e| sql_err(path, e))
}

/// Where one document lives: table, key column, value column, updated-at column, row key.
#[derive(Debug, Clone, Copy)]
struct Cell {
    table: &'static str,
    key_col: &'static str,
    val_col: &'static str,
    upd_col: &'static str,
    key: &'static str,
}

const fn machine_cell(key: &'static str) -> Cell {
    Cell {
        table: "config_machine_state",
        key_col: "state_key",
        val_col: "value_json",
        upd_col: "updated_at_ms",
        key,
    }
}

/// The store and state documents' places for a backend.
fn cells(backend: Backend) -> [Cell; 2] {
    match backend {
        Backend::StateCells => [machine_cell(STORE_CELL), machine_cell(STATE_CELL)],
        _ => [
            Cell {
                table: "auth_profile_store",
                key_col: "store_key",
                val_col: "store_json",
                upd_col: "updated_at",
                key: PRIMARY,
            },
            Cell {
                table: "auth_profile_state",
                key_col: "state_key",
                val_col: "state_json",
                upd_col: "updated_at",
                key: PRIMARY,
            },
        ],
    }
}

fn read_cell(conn: &Connection, path: &Path, cell: Cell) -> Result<Option<String>, StoreError> {
    let Cell {
        table,
        key_col,
        val_col,
        key,
        ..
    } = cell;
    if !has_table(conn, path, table)? {
        return Ok(None);
    }
    conn.query_row(
        &format!("SELECT {val_col} FROM {table} WHERE {key_col} = ?1"),
        [key],
        |r| r.get::<_, String>(0),
    )
    .optional()
    .map_err(|e| sql_err(path, e))
}

fn parse_cell(path: &Path, text: Option<String>, empty: Value) -> Result<Value, StoreError> {
    match text {
        None => Ok(empty),
        Some(t) => {
            let v = super::bounded::parse(path, t.as_bytes())?;
            if v.is_object() {
                Ok(v)
            } else {
                Err(StoreError::BadField {
                    path: path.to_owned(),
                    field: "auth document".into(),
                    expected: "a JSON object",
                })
            }
        }
    }
}

/// Read a layer's two documents (empty documents where a row is absent).
pub(crate) fn read_docs(
    conn: &Connection,
    path: &Path,
    backend: Backend,
) -> Result<LayerDocs, StoreError> {
    let [s, t] = cells(backend);
    let empty = LayerDocs::empty();
    Ok(LayerDocs {
        store: parse_cell(path, read_cell(conn, path, s)?, empty.store)?,
        state: parse_cell(path, read_cell(conn, path, t)?, empty.state)?,
    })
}

/// Whether a layer holds any auth row at all.
pub(crate) fn has_auth_rows(
    conn: &Connection,
    path: &Path,
    backend: Backend,
) -> Result<bool, StoreError> {
    for c in cells(backend) {
        if read_cell(conn, path, c)?.is_some() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether a layer holds its store document (OpenClaw 2026.9.6 only reads an agent
/// database's auth state, as an overlay, when its `auth_profile_store` row exists: checked
/// with the real CLI).
pub(crate) fn has_store_row(
    conn: &Connection,
    path: &Path,
    backend: Backend,
) -> Result<bool, StoreError> {
    let [store, _] = cells(backend);
    Ok(read_cell(conn, path, store)?.is_some())
}

/// Read the `auth.sharedStore` cell's `location`, if any.
pub(crate) fn shared_store_location(
    conn: &Connection,
    path: &Path,
) -> Result<Option<String>, StoreError> {
    let cell = read_cell(conn, path, machine_cell(SHARED_STORE_CELL))?;
    Ok(cell
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|v| v.get("location").and_then(Value::as_str).map(str::to_owned)))
}

/// Read a layer on its own connection.
pub(crate) fn read_layer(path: &Path, backend: Backend) -> Result<LayerDocs, StoreError> {
    let conn = open(path, false)?;
    read_docs(&conn, path, backend)
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// One write transaction: `BEGIN IMMEDIATE`, re-read the layer, let `edit` turn the fresh
/// documents into new ones (or `None`: nothing to do), write the documents that changed,
/// commit. On the state database the first write also sets `auth.sharedStore`, as OpenClaw
/// does on a fresh install. Returns whether anything was written.
pub(crate) fn write_layer<F>(path: &Path, backend: Backend, edit: F) -> Result<bool, StoreError>
where
    F: FnOnce(LayerDocs) -> Result<Option<LayerDocs>, StoreError>,
{
    let mut conn = open(path, true)?;
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| sql_err(path, e))?;
    for Cell { table, .. } in cells(backend) {
        if !has_table(&tx, path, table)? {
            return Err(StoreError::MissingTable {
                path: path.to_owned(),
                table,
            });
        }
    }
    let fresh = read_docs(&tx, path, backend)?.validate(path)?;
    let Some(new) = edit(fresh.clone())? else {
        return Ok(false);
    };
    let now = now_ms();
    let [s, t] = cells(backend);
    // The first write of a fresh install sets `auth.sharedStore` and, like OpenClaw, writes
    // both cells: a store cell without its state cell is not what the gateway creates.
    let first = backend == Backend::StateCells && shared_store_location(&tx, path)?.is_none();
    let mut wrote = false;
    for (cell, old, new) in [(s, &fresh.store, &new.store), (t, &fresh.state, &new.state)] {
        if old == new && !first {
            continue;
        }
        let Cell {
            table,
            key_col,
            val_col,
            upd_col,
            key,
        } = cell;
        let text = serde_json::to_string(new).map_err(|e| StoreError::Sqlite {
            path: path.to_owned(),
            detail: e.to_string(),
        })?;
        tx.execute(
            &format!(
                "INSERT INTO {table} ({key_col}, {val_col}, {upd_col}) VALUES (?1, ?2, ?3) \
                 ON CONFLICT({key_col}) DO UPDATE SET {val_col} = excluded.{val_col}, {upd_col} = excluded.{upd_col}"
            ),
            rusqlite::params![key, text, now],
        )
        .map_err(|e| sql_err(path, e))?;
        wrote = true;
    }
    if wrote && first {
        let v = json!({"location": "state-db"}).to_string();
        tx.execute(
            "INSERT INTO config_machine_state (state_key, value_json, updated_at_ms) VALUES (?1, ?2, ?3) \
             ON CONFLICT(state_key) DO NOTHING",
            rusqlite::params![SHARED_STORE_CELL, v, now],
        )
        .map_err(|e| sql_err(path, e))?;
    }
    tx.commit().map_err(|e| sql_err(path, e))?;
    if wrote {
        super::json::set_owner_only(path)?;
    }
    Ok(wrote)
}
