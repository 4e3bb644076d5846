//! One test's world: a scratch HOME, an OpenClaw state directory holding a store (state-db
//! or json, seeded with the reference examples: alice and bob), and a loopback issuer.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::cli::{self, Run};
use crate::support::oauth_server::{self, OAuthServer};

const REF: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/reference/store-examples"
);

fn reference(name: &str) -> String {
    // The worktree sits at /work/wt/<name>; the shared reference at /work/shared.
    let p = Path::new(REF).join(name);
    std::fs::read_to_string(&p)
        .or_else(|_| {
            std::fs::read_to_string(Path::new("/work/shared/reference/store-examples").join(name))
        })
        .unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
}

/// Which store the world has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `<state>/state/openclaw.sqlite` with `auth.sharedStore` = state-db.
    StateDb,
    /// `<state>/agents/main/agent/auth-profiles.json`.
    Json,
}

/// A test world.
pub struct Env {
    /// Scratch HOME (also the working directory).
    pub home: tempfile::TempDir,
    /// The OpenClaw state directory.
    pub state: PathBuf,
    /// The loopback issuer.
    pub server: OAuthServer,
    /// The store kind.
    pub kind: Kind,
}

impl Env {
    /// A world with a seeded store of `kind`.
    pub fn new(kind: Kind) -> Env {
        let home = tempfile::tempdir().expect("tempdir");
        let state = home.path().join(".openclaw");
        match kind {
            Kind::StateDb => {
                let dir = state.join("state");
                std::fs::create_dir_all(&dir).unwrap();
                let conn = rusqlite::Connection::open(dir.join("openclaw.sqlite")).unwrap();
                conn.execute_batch(
                    "CREATE TABLE config_machine_state (
                       state_key TEXT NOT NULL PRIMARY KEY,
                       value_json TEXT NOT NULL,
                       updated_at_ms INTEGER NOT NULL
                     ) STRICT;",
                )
                .unwrap();
                for (k, v) in [
                    ("auth.sharedStore", r#"{"location":"state-db"}"#.to_owned()),
                    (
                        "authProfiles.store",
                        reference("state-db-authProfiles.store.json"),
                    ),
                    (
                        "authProfiles.state",
                        reference("state-db-authProfiles.state.json"),
                    ),
                ] {
                    conn.execute(
                        "INSERT INTO config_machine_state VALUES (?1, ?2, 1795306000000)",
                        (k, v),
                    )
                    .unwrap();
                }
            }
            Kind::Json => {
                let dir = state.join("agents").join("main").join("agent");
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(
                    dir.join("auth-profiles.json"),
                    reference("legacy-agents-main-agent-auth-profiles.json"),
                )
                .unwrap();
            }
        }
        Env {
            home,
            state,
            server: oauth_server::spawn(),
            kind,
        }
    }

    /// Run the binary with `--state-dir` and the issuer set.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with(&[], args)
    }

    /// Run with extra environment.
    pub fn run_with(&self, env: &[(&str, &str)], args: &[&str]) -> Run {
        let state = self.state.to_string_lossy().into_owned();
        let mut full = vec!["--state-dir", state.as_str()];
        full.extend_from_slice(args);
        let mut e = vec![(
            "CODEX_PROFILER_AUTH_ISSUER",
            self.server.issuer_url.as_str(),
        )];
        e.extend_from_slice(env);
        cli::run(self.home.path(), &e, &full)
    }

    /// The store file's path.
    pub fn store_path(&self) -> PathBuf {
        match self.kind {
            Kind::StateDb => self.state.join("state").join("openclaw.sqlite"),
            Kind::Json => self.state.join("agents/main/agent/auth-profiles.json"),
        }
    }

    /// Every byte of the store (database and any journal beside it).
    pub fn store_bytes(&self) -> Vec<u8> {
        let p = self.store_path();
        let mut out = std::fs::read(&p).unwrap();
        for ext in ["-wal", "-journal"] {
            if let Ok(b) = std::fs::read(format!("{}{ext}", p.display())) {
                out.extend(b);
            }
        }
        out
    }

    /// The stored `profiles` map.
    pub fn profiles(&self) -> serde_json::Map<String, Value> {
        let doc: Value = match self.kind {
            Kind::StateDb => {
                let conn = rusqlite::Connection::open(self.store_path()).unwrap();
                let s: String = conn
                    .query_row(
                        "SELECT value_json FROM config_machine_state WHERE state_key = 'authProfiles.store'",
                        [],
                        |r| r.get(0),
                    )
                    .unwrap();
                serde_json::from_str(&s).unwrap()
            }
            Kind::Json => {
                serde_json::from_slice(&std::fs::read(self.store_path()).unwrap()).unwrap()
            }
        };
        doc["profiles"].as_object().cloned().unwrap_or_default()
    }

    /// Every secret that must never be printed: what the server issued or saw, and the
    /// seeded tokens.
    pub fn secrets(&self) -> Vec<String> {
        let mut s = self.server.secrets();
        for p in self.profiles().values() {
            for k in ["access", "refresh"] {
                if let Some(t) = p.get(k).and_then(Value::as_str) {
                    s.push(t.to_owned());
                }
            }
        }
        s
    }

    /// Panic if any secret occurs in `run`'s output.
    #[track_caller]
    pub fn assert_clean(&self, run: &Run) {
        let secrets = self.secrets();
        let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
        run.assert_no_secret(&refs);
    }

    /// `auth start --json` for `name`: the authorize URL.
    pub fn start(&self, name: &str) -> String {
        let r = self.run(&["--json", "auth", "start", "--profile", name]);
        r.expect_code(0);
        r.json()["authorize_url"]
            .as_str()
            .expect("authorize_url")
            .to_owned()
    }

    /// Start, approve at the issuer, and return the callback URL.
    pub fn approved_callback(&self, name: &str) -> String {
        let url = self.start(name);
        self.server.approve(&url)
    }

    /// `auth finish --json` with a callback.
    pub fn finish(&self, name: &str, callback: &str) -> Run {
        self.run(&[
            "--json",
            "auth",
            "finish",
            "--profile",
            name,
            "--callback-url",
            callback,
        ])
    }
}
