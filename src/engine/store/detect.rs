//! Which store the gateway uses, and its layers. What was confirmed against OpenClaw
//! 2026.9.6 (its `dist/` code and the real CLI on scratch homes):
//! - the state database is the shared store when its `auth.sharedStore` cell says
//!   `{"location":"state-db"}` (`sqlite-*.mjs`: `resolveSharedAuthStoreOwnership`), with the
//!   cells `authProfiles.store` / `authProfiles.state` (`state-migrations.doctor-*.mjs`);
//!   otherwise the main agent's `openclaw-agent.sqlite` rows keyed `primary` are;
//! - an agent's own database is an overlay on top (`models auth order set` writes there, even
//!   for `main`), but only once it holds an `auth_profile_store` row: a lone state row is
//!   ignored by `models auth order get` (tried with the real CLI);
//! - the overlay's order wins over the shared order for its provider, and profiles of both
//!   layers are listed together (real CLI). The per-key merge of `order`, `lastGood` and
//!   `usageStats` was traced in `mergeAuthProfileStores` (see the `order` module);
//! - a legacy `auth-profiles.json` is only read when no database store exists;
//! - inheritance is read-through: an agent other than `main` with no auth store of its own
//!   reads the inherited owner's (`legacy-inherited-auth-dir-*.mjs`:
//!   `resolveLegacyInheritedAuthAgentId` = `agents.defaults.authInheritance.agentId`, else
//!   `main`; `store-*.mjs` merges the owner's store under the agent's own;
//!   `docs/auth-credential-semantics.md`, "Agent auth inheritance is read-through"). For a json
//!   store, an agent with neither `auth-profiles.json` nor `auth-state.json` of its own
//!   therefore reads (and writes) `main`'s. 2026.9.6 no longer reads json at run time, so the
//!   json case follows this rule rather than code we could run; `authInheritance` is not read.

use std::path::{Path, PathBuf};

use super::error::StoreError;
use super::layer::{Backend, LayerId};
use super::sqlite;
use super::{StoreChoice, StoreFormat, StoreOptions};

/// What detection found.
#[derive(Debug, Clone)]
pub(crate) struct Detected {
    pub format: StoreFormat,
    /// Shared first, then the overlay.
    pub layers: Vec<LayerId>,
}

/// `<state>/state/openclaw.sqlite`.
pub fn state_db_path(state_dir: &Path) -> PathBuf {
    state_dir.join("state").join("openclaw.sqlite")
}

/// `<state>/agents/<agent>/agent`.
pub fn agent_dir(state_dir: &Path, agent: &str) -> PathBuf {
    state_dir.join("agents").join(agent).join("agent")
}

/// `<state>/agents/<agent>/agent/openclaw-agent.sqlite`.
pub fn agent_db_path(state_dir: &Path, agent: &str) -> PathBuf {
    agent_dir(state_dir, agent).join("openclaw-agent.sqlite")
}

/// `<state>/agents/<agent>/agent/auth-profiles.json`.
pub fn json_path(state_dir: &Path, agent: &str) -> PathBuf {
    agent_dir(state_dir, agent).join("auth-profiles.json")
}

/// The default agent, whose database is the shared agent-db store.
pub const MAIN_AGENT: &str = "main";

struct Probe {
    state_db: PathBuf,
    /// The state database says it is the shared store (or already holds auth cells).
    state_db_active: bool,
    /// The state database exists with its `config_machine_state` table.
    state_db_ready: bool,
    shared_agent_db: PathBuf,
    shared_agent_rows: bool,
    own_agent_db: PathBuf,
    json: PathBuf,
}

fn probe(opts: &StoreOptions) -> Result<Probe, StoreError> {
    let state_db = state_db_path(&opts.state_dir);
    let (mut active, mut ready) = (false, false);
    if state_db.is_file() {
        let conn = sqlite::open(&state_db, false)?;
        ready = sqlite::has_table(&conn, &state_db, "config_machine_state")?;
        if ready {
            active = sqlite::shared_store_location(&conn, &state_db)?.as_deref()
                == Some("state-db")
                || sqlite::has_auth_rows(&conn, &state_db, Backend::StateCells)?;
        }
    }
    let shared_agent_db = agent_db_path(&opts.state_dir, MAIN_AGENT);
    let own_agent_db = agent_db_path(&opts.state_dir, &opts.agent);
    let mut rows = false;
    for db in [&shared_agent_db, &own_agent_db] {
        if !rows && db.is_file() {
            let conn = sqlite::open(db, false)?;
            rows = sqlite::has_auth_rows(&conn, db, Backend::AgentRows)?;
        }
    }
    Ok(Probe {
        state_db,
        state_db_active: active,
        state_db_ready: ready,
        shared_agent_db,
        shared_agent_rows: rows,
        own_agent_db,
        json: json_store_path(&opts.state_dir, &opts.agent),
    })
}

fn json_exists(file: &Path) -> bool {
    file.exists() || super::json::state_path(file).exists()
}

/// The json store `agent` reads: its own `auth-profiles.json`, else, for an agent other than
/// `main` with neither json file of its own, `main`'s when that exists (read-through
/// inheritance, see the module doc).
pub fn json_store_path(state_dir: &Path, agent: &str) -> PathBuf {
    let own = json_path(state_dir, agent);
    if agent == MAIN_AGENT || json_exists(&own) {
        return own;
    }
    let main = json_path(state_dir, MAIN_AGENT);
    if json_exists(&main) { main } else { own }
}

/// An agent database counts as an overlay only once it holds its `auth_profile_store` row:
/// OpenClaw 2026.9.6 ignores a lone state row (checked with the real CLI), and writes an
/// empty `{"version":1,"profiles":{}}` store row beside the state row of `order set`.
fn is_overlay(db: &Path) -> Result<bool, StoreError> {
    if !db.is_file() {
        return Ok(false);
    }
    let conn = sqlite::open(db, false)?;
    sqlite::has_store_row(&conn, db, Backend::AgentRows)
}

fn state_db_layers(p: &Probe, agent: &str) -> Result<Vec<LayerId>, StoreError> {
    let mut layers = vec![LayerId::shared(StoreFormat::StateDb, &p.state_db)];
    if is_overlay(&p.own_agent_db)? {
        layers.push(LayerId::overlay(agent, &p.own_agent_db));
    }
    Ok(layers)
}

fn agent_db_layers(p: &Probe, agent: &str) -> Result<Vec<LayerId>, StoreError> {
    if !p.shared_agent_db.is_file() {
        return Ok(vec![LayerId::shared(StoreFormat::AgentDb, &p.own_agent_db)]);
    }
    let mut layers = vec![LayerId::shared(StoreFormat::AgentDb, &p.shared_agent_db)];
    if agent != MAIN_AGENT && is_overlay(&p.own_agent_db)? {
        layers.push(LayerId::overlay(agent, &p.own_agent_db));
    }
    Ok(layers)
}

fn by_path(opts: &StoreOptions, path: &Path) -> Result<Detected, StoreError> {
    let forced = match opts.choice {
        StoreChoice::Force(f) => Some(f),
        StoreChoice::Auto => None,
    };
    let is_json = path.extension().is_some_and(|e| e == "json");
    let format = match forced {
        Some(f) => {
            check_kind(path, f)?;
            f
        }
        None if is_json => StoreFormat::Json,
        None => {
            let conn = sqlite::open(path, false)?;
            if sqlite::has_table(&conn, path, "config_machine_state")? {
                StoreFormat::StateDb
            } else {
                StoreFormat::AgentDb
            }
        }
    };
    if format != StoreFormat::Json && !path.is_file() {
        return Err(StoreError::Missing {
            what: "database",
            path: path.to_owned(),
        });
    }
    Ok(Detected {
        format,
        layers: vec![LayerId::shared(format, path)],
    })
}

/// What a file at a forced path really is, in words, when it can be told.
fn file_kind(path: &Path) -> Result<Option<&'static str>, StoreError> {
    use std::io::Read as _;
    let Ok(mut f) = std::fs::File::open(path) else {
        return Ok(None);
    };
    if !f.metadata().is_ok_and(|m| m.is_file()) {
        return Err(StoreError::NotAFile(path.to_owned()));
    }
    let mut head = [0u8; 16];
    let n = f.read(&mut head).unwrap_or(0);
    if n == 0 {
        return Ok(None);
    }
    if &head[..n] != b"SQLite format 3\0" {
        return Ok(Some("a JSON or text file"));
    }
    let conn = sqlite::open(path, false)?;
    Ok(Some(
        if sqlite::has_table(&conn, path, "config_machine_state")? {
            "an OpenClaw state database"
        } else if sqlite::has_table(&conn, path, "auth_profile_store")? {
            "an OpenClaw agent database"
        } else {
            "a SQLite database without OpenClaw's auth tables"
        },
    ))
}

/// A forced `--store` on a file of another kind is refused: read as the wrong format it would
/// give "no profiles" and `ok: true`, which is a lie.
fn check_kind(path: &Path, forced: StoreFormat) -> Result<(), StoreError> {
    let Some(found) = file_kind(path)? else {
        return Ok(());
    };
    let (expected, fits): (&'static str, fn(&str) -> bool) = match forced {
        StoreFormat::Json => ("JSON auth store", |k| k == "a JSON or text file"),
        StoreFormat::StateDb => ("OpenClaw state database", |k| {
            k == "an OpenClaw state database"
        }),
        StoreFormat::AgentDb => ("OpenClaw agent database", |k| {
            k == "an OpenClaw agent database"
        }),
    };
    if fits(found) {
        Ok(())
    } else {
        Err(StoreError::WrongKind {
            path: path.to_owned(),
            expected,
            found,
        })
    }
}

/// Detect (or check the forced choice) without writing anything.
pub(crate) fn detect(opts: &StoreOptions) -> Result<Detected, StoreError> {
    if !opts.state_dir.is_dir() {
        return Err(StoreError::NoStateDir(opts.state_dir.clone()));
    }
    if let Some(path) = &opts.auth_path {
        return by_path(opts, path);
    }
    let p = probe(opts)?;
    let agent = opts.agent.as_str();
    let format = match opts.choice {
        StoreChoice::Force(StoreFormat::StateDb) => {
            if !p.state_db.is_file() {
                return Err(StoreError::Missing {
                    what: "state database",
                    path: p.state_db,
                });
            }
            if !p.state_db_ready {
                return Err(StoreError::MissingTable {
                    path: p.state_db,
                    table: "config_machine_state",
                });
            }
            StoreFormat::StateDb
        }
        StoreChoice::Force(StoreFormat::AgentDb) => {
            if !p.shared_agent_db.is_file() && !p.own_agent_db.is_file() {
                return Err(StoreError::Missing {
                    what: "agent database",
                    path: p.own_agent_db,
                });
            }
            StoreFormat::AgentDb
        }
        StoreChoice::Force(StoreFormat::Json) => {
            if !json_exists(&p.json) && (p.state_db_active || p.shared_agent_rows) {
                return Err(StoreError::WouldCreateLegacyJson(p.json));
            }
            StoreFormat::Json
        }
        StoreChoice::Auto if p.state_db_active => StoreFormat::StateDb,
        StoreChoice::Auto if p.shared_agent_rows => StoreFormat::AgentDb,
        StoreChoice::Auto if json_exists(&p.json) => StoreFormat::Json,
        // A fresh install: the first write creates the two cells and `auth.sharedStore`.
        StoreChoice::Auto if p.state_db_ready => StoreFormat::StateDb,
        StoreChoice::Auto => return Err(StoreError::NoStore(opts.state_dir.clone())),
    };
    let layers = match format {
        StoreFormat::StateDb => state_db_layers(&p, agent)?,
        StoreFormat::AgentDb => agent_db_layers(&p, agent)?,
        StoreFormat::Json => vec![LayerId::shared(StoreFormat::Json, &p.json)],
    };
    Ok(Detected { format, layers })
}
