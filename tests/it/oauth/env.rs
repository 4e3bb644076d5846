//! One test's world: a scratch HOME, an OpenClaw state directory holding a store (state-db
//! or json, seeded with the reference examples: alice and bob; built by the shared
//! [`crate::support::fixtures`]), and a loopback issuer.

use std::path::PathBuf;

use serde_json::Value;

use crate::support::cli::{self, Run};
use crate::support::fixtures::{self, Fixture};
use crate::support::oauth_server::{self, Account, OAuthServer};

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
    /// Scratch HOME (also the working directory) holding the state directory.
    pub fixture: Fixture,
    /// The OpenClaw state directory.
    pub state: PathBuf,
    /// The loopback issuer.
    pub server: OAuthServer,
    /// The store kind.
    pub kind: Kind,
}

impl Env {
    /// A world with a seeded store of `kind`, built from the reference examples.
    pub fn new(kind: Kind) -> Env {
        let fixture = Fixture::new();
        match kind {
            Kind::StateDb => {
                let (store, state) = fixtures::state_db_example();
                fixture.state_db(&store, Some(&state));
            }
            Kind::Json => {
                fixture.json_single("main", &fixtures::json_example());
            }
        }
        Env {
            state: fixture.state_dir(),
            fixture,
            server: oauth_server::spawn(),
            kind,
        }
    }

    /// The scratch HOME.
    pub fn home(&self) -> &std::path::Path {
        self.fixture.home()
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
        cli::run(self.home(), &e, &full)
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
        self.assert_clean_with(run, &[]);
    }

    /// The same, with more secrets (a callback URL, a Codex CLI token).
    #[track_caller]
    pub fn assert_clean_with(&self, run: &Run, extra: &[&str]) {
        let secrets = self.secrets();
        let mut refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
        refs.extend_from_slice(extra);
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

    /// A whole successful PKCE login of `account` as `name`: the `finish --json` document,
    /// checked for exit 0 and for secrets.
    pub fn login(&self, name: &str, account: Account) -> Value {
        self.server.set_account(account);
        let cb = self.approved_callback(name);
        let r = self.finish(name, &cb);
        r.expect_code(0);
        self.assert_clean(&r);
        r.json()
    }

    /// `auth finish --json` with a callback.
    pub fn finish(&self, name: &str, callback: &str) -> Run {
        self.finish_with(&[], name, callback)
    }

    /// The same with extra environment.
    pub fn finish_with(&self, env: &[(&str, &str)], name: &str, callback: &str) -> Run {
        self.run_with(
            env,
            &[
                "--json",
                "auth",
                "finish",
                "--profile",
                name,
                "--callback-url",
                callback,
            ],
        )
    }
}
