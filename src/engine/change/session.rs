//! Session overrides: a chat session can pin an auth profile (`authProfileOverride`, with
//! `authProfileOverrideSource` `auto|user|user-link`). Current OpenClaw keeps them in the agent
//! database (`session_nodes.entry_json`, keyed by `session_key`); older versions in
//! `agents/<agent>/sessions/sessions.json`, keyed by session key. Read-only, never created.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, OptionalExtension};
use serde::Serialize;
use serde_json::Value;

use super::error::ChangeError;

/// Where an override was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionOrigin {
    /// `session_nodes.entry_json` in the agent database.
    AgentDb,
    /// The older `sessions/sessions.json`.
    SessionsJson,
}

/// One session's auth profile override.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionOverride {
    /// The session key.
    pub session_key: String,
    /// `authProfileOverride`.
    pub profile: String,
    /// `authProfileOverrideSource`.
    pub source: Option<String>,
    /// Where it was read.
    pub origin: SessionOrigin,
    /// `authProfileOverrideCompactionCount`: OpenClaw writes it with every automatic pin, so
    /// it tells an automatic pin from a user's where the source is missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compaction_count: Option<i64>,
}

impl SessionOverride {
    /// The pin's source as OpenClaw 2026.9.6 resolves it
    /// (`resolveSessionAuthProfileOverrideSource`): the stored source, else `auto` when a
    /// compaction count is stored, else `user`.
    pub fn resolved_source(&self) -> &str {
        match self.source.as_deref().map(str::trim) {
            Some(s) if !s.is_empty() => s,
            _ if self.compaction_count.is_some() => "auto",
            _ => "user",
        }
    }

    /// A pin the user made (`user`, or `user-link`, which OpenClaw treats at user strength):
    /// the gateway keeps it whatever the order says.
    pub fn is_user_pin(&self) -> bool {
        matches!(self.resolved_source(), "user" | "user-link")
    }
}

/// The agent database path.
pub fn agent_db_path(state_dir: &Path, agent: &str) -> PathBuf {
    state_dir
        .join("agents")
        .join(agent)
        .join("agent")
        .join("openclaw-agent.sqlite")
}

fn sessions_json_path(state_dir: &Path, agent: &str) -> PathBuf {
    state_dir
        .join("agents")
        .join(agent)
        .join("sessions")
        .join("sessions.json")
}

fn from_entry(key: &str, entry: &Value, origin: SessionOrigin) -> Option<SessionOverride> {
    let profile = entry.get("authProfileOverride")?.as_str()?.trim();
    if profile.is_empty() {
        return None;
    }
    Some(SessionOverride {
        session_key: key.to_owned(),
        profile: profile.to_owned(),
        source: entry
            .get("authProfileOverrideSource")
            .and_then(Value::as_str)
            .map(str::to_owned),
        origin,
        compaction_count: entry
            .get("authProfileOverrideCompactionCount")
            .and_then(Value::as_f64)
            .map(|n| n as i64),
    })
}

/// Every session of `agent` that pins a profile, database first, then the older file for
/// keys the database does not have.
pub fn read_overrides(state_dir: &Path, agent: &str) -> Result<Vec<SessionOverride>, ChangeError> {
    let mut out = Vec::new();
    let db = agent_db_path(state_dir, agent);
    if db.exists() {
        out.extend(read_db(&db, None)?);
    }
    let legacy = sessions_json_path(state_dir, agent);
    if legacy.exists() {
        for o in read_json(&legacy)? {
            if !out.iter().any(|x| x.session_key == o.session_key) {
                out.push(o);
            }
        }
    }
    out.sort_by(|a, b| a.session_key.cmp(&b.session_key));
    Ok(out)
}

/// One session's override, if it has one.
pub fn read_override(
    state_dir: &Path,
    agent: &str,
    session_key: &str,
) -> Result<Option<SessionOverride>, ChangeError> {
    let db = agent_db_path(state_dir, agent);
    if db.exists() {
        if let Some(o) = read_db(&db, Some(session_key))?.into_iter().next() {
            return Ok(Some(o));
        }
    }
    let legacy = sessions_json_path(state_dir, agent);
    if legacy.exists() {
        return Ok(read_json(&legacy)?
            .into_iter()
            .find(|o| o.session_key == session_key));
    }
    Ok(None)
}

fn read_db(path: &Path, key: Option<&str>) -> Result<Vec<SessionOverride>, ChangeError> {
    let sql_err = |e: rusqlite::Error| ChangeError::BadFile {
        kind: "agent database",
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sql_err)?;
    conn.busy_timeout(std::time::Duration::from_millis(5000))
        .map_err(sql_err)?;
    let has_table: Option<String> = conn
        .query_row(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'session_nodes'",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(sql_err)?;
    if has_table.is_none() {
        return Ok(Vec::new());
    }
    let mut stmt = conn
        .prepare(
            "SELECT session_key, entry_json FROM session_nodes \
             WHERE (?1 IS NULL OR session_key = ?1) ORDER BY session_key",
        )
        .map_err(sql_err)?;
    let rows = stmt
        .query_map([key], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })
        .map_err(sql_err)?;
    let mut out = Vec::new();
    for row in rows {
        let (k, json) = row.map_err(sql_err)?;
        // A row whose JSON does not parse holds no override we can show; skip it.
        if let Ok(entry) = serde_json::from_str::<Value>(&json) {
            out.extend(from_entry(&k, &entry, SessionOrigin::AgentDb));
        }
    }
    Ok(out)
}

fn read_json(path: &Path) -> Result<Vec<SessionOverride>, ChangeError> {
    let text = std::fs::read_to_string(path).map_err(|e| ChangeError::io("read", path, e))?;
    let doc: Value = serde_json::from_str(&text).map_err(|e| ChangeError::BadFile {
        kind: "sessions file",
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    Ok(doc
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| from_entry(k, v, SessionOrigin::SessionsJson))
                .collect()
        })
        .unwrap_or_default())
}
