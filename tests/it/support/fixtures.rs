//! Fixture stores for every test area: a state directory in a temp `HOME` holding a state-db
//! store, an agent-db store (with or without an overlay), or a json store (single file or
//! split), built from the reference examples or from given profiles. The databases get the
//! exact schema of OpenClaw 2026.9.6 (`tests/fixtures/store/*-schema.sql`, dumped from a
//! real install) in WAL mode, as OpenClaw creates them.

use std::path::{Path, PathBuf};

use codex_profiler::engine::jwt::unsigned_for_tests;
use rusqlite::{Connection, OptionalExtension};
use serde_json::{Value, json};

/// The state database's schema (OpenClaw 2026.9.6).
pub const STATE_SCHEMA: &str = include_str!("../../fixtures/store/state-schema.sql");
/// An agent database's schema (OpenClaw 2026.9.6), created for agent `main`.
pub const AGENT_SCHEMA: &str = include_str!("../../fixtures/store/agent-schema.sql");

/// A reference example from `tests/fixtures/store/examples/`.
pub fn example(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/store/examples")
        .join(name);
    serde_json::from_slice(&std::fs::read(&path).expect("read example")).expect("example is JSON")
}

/// The two state-db example cells: (store, state).
pub fn state_db_example() -> (Value, Value) {
    (
        example("state-db-authProfiles.store.json"),
        example("state-db-authProfiles.state.json"),
    )
}

/// The legacy single-file json example.
pub fn json_example() -> Value {
    example("legacy-agents-main-agent-auth-profiles.json")
}

/// The agent overlay's state example.
pub fn overlay_state_example() -> Value {
    example("agent-db-auth_profile_state.primary.json")
}

/// The `plus` OAuth profile of `<name>@example.com` (account `acct-<name>`), expiring at
/// `expires` (ms): the order tests' profile.
pub fn plus_oauth(name: &str, expires: i64) -> Value {
    oauth_profile(
        "openai",
        &format!("{name}@example.com"),
        &format!("acct-{name}"),
        "plus",
        expires,
    )
}

/// A Codex OAuth profile entry with an unsigned JWT carrying the account claims.
pub fn oauth_profile(
    provider: &str,
    email: &str,
    account: &str,
    plan: &str,
    expires_ms: i64,
) -> Value {
    let access = unsigned_for_tests(&json!({
        "exp": expires_ms / 1000,
        "https://api.openai.com/auth": {"chatgpt_account_id": account, "chatgpt_plan_type": plan},
        "https://api.openai.com/profile": {"email": email},
    }));
    json!({
        "type": "oauth",
        "provider": provider,
        "access": access,
        "refresh": format!("rt_FIXTURE_{}", email.replace(['@', '.'], "_")),
        "expires": expires_ms,
        "accountId": account,
        "email": email,
        "chatgptPlanType": plan,
    })
}

/// A temp `HOME` with the state directory `HOME/.openclaw` in it.
pub struct Fixture {
    /// The temp home (removed on drop).
    pub home: tempfile::TempDir,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        // For debugging and manual interop checks: keep the home and say where it is.
        if std::env::var_os("CODEX_PROFILER_KEEP_FIXTURES").is_some() {
            let dir = std::mem::replace(&mut self.home, tempfile::tempdir().expect("tempdir"));
            eprintln!("fixture kept at {}", dir.keep().display());
        }
    }
}

impl Default for Fixture {
    fn default() -> Self {
        Fixture::new()
    }
}

impl Fixture {
    /// An empty home with an empty state directory.
    pub fn new() -> Fixture {
        let home = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(home.path().join(".openclaw")).expect("state dir");
        Fixture { home }
    }

    /// `HOME`.
    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// The state directory.
    pub fn state_dir(&self) -> PathBuf {
        self.home.path().join(".openclaw")
    }

    /// `<state>/state/openclaw.sqlite`.
    pub fn state_db_path(&self) -> PathBuf {
        self.state_dir().join("state/openclaw.sqlite")
    }

    /// `<state>/agents/<agent>/agent/openclaw-agent.sqlite`.
    pub fn agent_db_path(&self, agent: &str) -> PathBuf {
        self.state_dir()
            .join("agents")
            .join(agent)
            .join("agent/openclaw-agent.sqlite")
    }

    /// `<state>/agents/<agent>/agent/auth-profiles.json`.
    pub fn json_path(&self, agent: &str) -> PathBuf {
        self.state_dir()
            .join("agents")
            .join(agent)
            .join("agent/auth-profiles.json")
    }

    /// `--state-dir <state>` for CLI runs.
    pub fn state_arg(&self) -> String {
        self.state_dir().to_string_lossy().into_owned()
    }

    /// An empty state database with OpenClaw's schema and no auth rows (a fresh install).
    pub fn fresh_state_db(&self) -> PathBuf {
        let path = self.state_db_path();
        create_db(&path, STATE_SCHEMA);
        path
    }

    /// A state-db store: the schema, `auth.sharedStore`, and the two cells.
    pub fn state_db(&self, store: &Value, state: Option<&Value>) -> PathBuf {
        let path = self.fresh_state_db();
        let conn = Connection::open(&path).expect("open");
        let cell = |key: &str, v: &Value| {
            put(
                &conn,
                "config_machine_state",
                "state_key",
                "value_json",
                "updated_at_ms",
                key,
                v,
            )
        };
        cell("auth.sharedStore", &json!({"location": "state-db"}));
        cell("authProfiles.store", store);
        if let Some(state) = state {
            cell("authProfiles.state", state);
        }
        path
    }

    /// The state-db reference example.
    pub fn state_db_from_example(&self) -> PathBuf {
        let (store, state) = state_db_example();
        self.state_db(&store, Some(&state))
    }

    /// An agent database for `agent` with the given rows (`primary`), registered in the state
    /// database's `agent_databases` when that exists. Like OpenClaw, a state row comes with a
    /// store row (`{"version":1,"profiles":{}}` when `store` is `None`): OpenClaw ignores an
    /// agent database without one. Neither given: the schema only.
    pub fn agent_db(&self, agent: &str, store: Option<&Value>, state: Option<&Value>) -> PathBuf {
        let path = self.agent_db_path(agent);
        create_db(
            &path,
            &AGENT_SCHEMA.replace("'agent',23,'main'", &format!("'agent',23,'{agent}'")),
        );
        let conn = Connection::open(&path).expect("open");
        let empty = json!({"version": 1, "profiles": {}});
        if let Some(store) = store.or(state.map(|_| &empty)) {
            put(
                &conn,
                "auth_profile_store",
                "store_key",
                "store_json",
                "updated_at",
                "primary",
                store,
            );
        }
        if let Some(state) = state {
            put(
                &conn,
                "auth_profile_state",
                "state_key",
                "state_json",
                "updated_at",
                "primary",
                state,
            );
        }
        if self.state_db_path().is_file() {
            let reg = Connection::open(self.state_db_path()).expect("open state db");
            reg.execute(
                "INSERT OR REPLACE INTO agent_databases (agent_id, path, schema_version, last_seen_at, size_bytes) VALUES (?1, ?2, 23, ?3, 4096)",
                rusqlite::params![agent, format!("agents/{agent}/agent/openclaw-agent.sqlite"), 1_795_300_000_000_i64],
            )
            .expect("register agent db");
        }
        path
    }

    /// A single-file json store for `agent`.
    pub fn json_single(&self, agent: &str, doc: &Value) -> PathBuf {
        let path = self.json_path(agent);
        write_json(&path, doc);
        path
    }

    /// A split json store: `auth-profiles.json` and `auth-state.json` beside it.
    pub fn json_split(&self, agent: &str, profiles: &Value, state: &Value) -> PathBuf {
        let path = self.json_single(agent, profiles);
        write_json(&path.with_file_name("auth-state.json"), state);
        path
    }

    /// The state-db cells as they are now: (store, state, sharedStore), `None` where absent.
    pub fn state_db_cells(&self) -> (Option<Value>, Option<Value>, Option<Value>) {
        let conn = Connection::open(self.state_db_path()).expect("open");
        let get = |k: &str| get(&conn, "config_machine_state", "state_key", "value_json", k);
        (
            get("authProfiles.store"),
            get("authProfiles.state"),
            get("auth.sharedStore"),
        )
    }

    /// An agent database's rows as they are now: (store, state).
    pub fn agent_db_rows(&self, agent: &str) -> (Option<Value>, Option<Value>) {
        let conn = Connection::open(self.agent_db_path(agent)).expect("open");
        (
            get(
                &conn,
                "auth_profile_store",
                "store_key",
                "store_json",
                "primary",
            ),
            get(
                &conn,
                "auth_profile_state",
                "state_key",
                "state_json",
                "primary",
            ),
        )
    }
}

fn create_db(path: &Path, schema: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    let conn = Connection::open(path).expect("create db");
    conn.pragma_update(None, "journal_mode", "wal")
        .expect("wal");
    conn.execute_batch(schema).expect("schema");
}

fn put(
    conn: &Connection,
    table: &str,
    key_col: &str,
    val_col: &str,
    upd_col: &str,
    key: &str,
    v: &Value,
) {
    conn.execute(
        &format!(
            "INSERT OR REPLACE INTO {table} ({key_col}, {val_col}, {upd_col}) VALUES (?1, ?2, ?3)"
        ),
        rusqlite::params![key, v.to_string(), 1_795_300_000_000_i64],
    )
    .expect("insert");
}

fn get(conn: &Connection, table: &str, key_col: &str, val_col: &str, key: &str) -> Option<Value> {
    conn.query_row(
        &format!("SELECT {val_col} FROM {table} WHERE {key_col} = ?1"),
        [key],
        |r| r.get::<_, String>(0),
    )
    .optional()
    .expect("select")
    .map(|t| serde_json::from_str(&t).expect("cell is JSON"))
}

/// Write a JSON file (pretty, mode 0600), creating its directory.
pub fn write_json(path: &Path, v: &Value) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, serde_json::to_string_pretty(v).expect("json")).expect("write");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
}

/// Read a JSON file.
pub fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).expect("read")).expect("file is JSON")
}

/// Every token value in a store document (access and refresh of every profile), for
/// `assert_no_secret` checks.
pub fn tokens_of(store: &Value) -> Vec<String> {
    store
        .get("profiles")
        .and_then(Value::as_object)
        .map(|m| {
            m.values()
                .flat_map(|p| {
                    ["access", "refresh"]
                        .map(|k| p.get(k).and_then(Value::as_str).map(str::to_owned))
                })
                .flatten()
                .collect()
        })
        .unwrap_or_default()
}

/// Every file under `dir` with its bytes, except codex-profiler's own folder (its history and
/// state are written by every run; the gateway's files are what must not change).
pub fn gateway_files(dir: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.file_name().is_some_and(|n| n == "codex-profiler") {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.clone(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}
