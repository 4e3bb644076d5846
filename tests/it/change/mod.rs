//! Integration tests: safe changes (SPEC section 3), backups and restore, gateway-native mode
//! against the real `openclaw`, queued apply, and the `layers` and `doctor` views. Stores are
//! real SQLite databases with OpenClaw's schema and real JSON files.

mod exits;
mod faults;
mod gateway;
mod killed;
mod locked;
mod mutations;
mod order_auto;
mod order_set;
mod plans;
mod queue;
mod restore;
mod retire_order;
mod sweep;
mod unblock;
mod views;
mod yes_alias;

use std::path::Path;

use codex_profiler::engine::change::{ChangeReport, ExecuteOptions, execute};
use codex_profiler::engine::store::{Change, LayerDocs, LayerId, Store, StoreChoice, StoreOptions};
use serde_json::{Value, json};

use crate::support::cli::{self, Run};
use crate::support::fixtures::{Fixture, json_example, state_db_example, tokens_of};

/// The store formats every mutation is tried on.
#[derive(Debug, Clone, Copy)]
pub enum Format {
    StateDb,
    AgentDb,
    JsonSingle,
    JsonSplit,
}

pub const FORMATS: [Format; 4] = [
    Format::StateDb,
    Format::AgentDb,
    Format::JsonSingle,
    Format::JsonSplit,
];

impl Format {
    /// The Codex provider of the fixture's profiles.
    pub fn provider(self) -> &'static str {
        match self {
            Format::StateDb | Format::AgentDb => "openai",
            Format::JsonSingle | Format::JsonSplit => "openai-codex",
        }
    }

    /// `<provider>:<name>`.
    pub fn id(self, name: &str) -> String {
        format!("{}:{name}", self.provider())
    }
}

/// A fixture holding the reference example (alice and bob; order bob, alice; lastGood bob)
/// in `format`.
pub fn example_store(format: Format) -> Fixture {
    let fx = Fixture::new();
    let (store, state) = state_db_example();
    match format {
        Format::StateDb => {
            fx.state_db(&store, Some(&state));
        }
        Format::AgentDb => {
            fx.agent_db("main", Some(&store), Some(&state));
        }
        Format::JsonSingle => {
            fx.json_single("main", &json_example());
        }
        Format::JsonSplit => {
            let mut doc = json_example();
            let mut st = json!({"version": 1});
            for k in ["order", "lastGood", "usageStats"] {
                if let Some(v) = doc.as_object_mut().and_then(|o| o.shift_remove(k)) {
                    st[k] = v;
                }
            }
            fx.json_split("main", &doc, &st);
        }
    }
    fx
}

/// Open the fixture's store as the CLI would (auto-detect, agent main).
pub fn open(fx: &Fixture) -> Store {
    Store::open(StoreOptions {
        state_dir: fx.state_dir(),
        agent: "main".into(),
        choice: StoreChoice::Auto,
        auth_path: None,
    })
    .expect("open store")
}

/// Every layer's parsed documents, as the gateway would read them.
pub fn docs(fx: &Fixture) -> Vec<(LayerId, LayerDocs)> {
    open(fx).load().expect("load").layers
}

/// Options for a real change.
pub fn real(action: &str) -> ExecuteOptions<'_> {
    ExecuteOptions {
        action,
        ..ExecuteOptions::default()
    }
}

/// Run a change through the pipeline.
pub fn run_change(fx: &Fixture, change: Change, opts: &ExecuteOptions<'_>) -> ChangeReport {
    execute(&open(fx), change, opts).expect("change succeeds")
}

/// Run the CLI against the fixture's state directory.
pub fn cli(fx: &Fixture, args: &[&str]) -> Run {
    let state = fx.state_arg();
    let mut all = vec!["--state-dir", state.as_str()];
    all.extend_from_slice(args);
    cli::run(fx.home(), &[], &all)
}

/// Every token in the fixture, for leak checks.
pub fn secrets(fx: &Fixture) -> Vec<String> {
    let opts = StoreOptions {
        state_dir: fx.state_dir(),
        agent: "main".into(),
        choice: StoreChoice::Auto,
        auth_path: None,
    };
    // A fixture without a store has no token to leak.
    let Ok(snap) = Store::open(opts).and_then(|s| s.load()) else {
        return Vec::new();
    };
    snap.layers
        .iter()
        .flat_map(|(_, d)| tokens_of(&d.store))
        .collect()
}

/// Check a CLI run leaked no token of the fixture.
pub fn no_leak(fx: &Fixture, run: &Run) {
    let s = secrets(fx);
    let refs: Vec<&str> = s.iter().map(String::as_str).collect();
    run.assert_no_secret(&refs);
}

/// What "nothing was written" is checked against: every file's bytes (a SQLite database's
/// after checkpointing its WAL, so reads that leave `-wal`/`-shm` files do not count) and
/// every layer's parsed documents.
#[derive(Debug, PartialEq)]
pub struct Untouched {
    files: Vec<(String, u64)>,
    docs: Vec<(LayerId, LayerDocs)>,
}

impl Untouched {
    /// Take the picture.
    pub fn of(fx: &Fixture) -> Untouched {
        Untouched {
            files: tree_hashes(fx.home()),
            docs: docs(fx),
        }
    }

    /// Panic, naming the files that changed, unless nothing changed.
    #[track_caller]
    pub fn check(&self, fx: &Fixture, what: &str) {
        let now = Untouched::of(fx);
        let changed: Vec<&String> = now
            .files
            .iter()
            .filter(|f| !self.files.contains(f))
            .chain(self.files.iter().filter(|f| !now.files.contains(f)))
            .map(|(p, _)| p)
            .collect();
        assert!(changed.is_empty(), "{what}: files changed: {changed:?}");
        assert!(now.docs == self.docs, "{what}: the store changed");
    }
}

fn tree_hashes(dir: &Path) -> Vec<(String, u64)> {
    use std::hash::{Hash, Hasher};
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            let name = p.to_string_lossy().into_owned();
            if p.is_dir() {
                stack.push(p);
            } else if !name.ends_with("-wal") && !name.ends_with("-shm") {
                if name.ends_with(".sqlite") {
                    let conn = rusqlite::Connection::open(&p).expect("open db");
                    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
                        .expect("checkpoint");
                }
                let mut h = std::collections::hash_map::DefaultHasher::new();
                std::fs::read(&p).unwrap_or_default().hash(&mut h);
                out.push((name, h.finish()));
            }
        }
    }
    out.sort();
    out
}

/// A layer's documents with `f` applied, for building the expected state by hand.
pub fn edited(d: &LayerDocs, f: impl FnOnce(&mut Value, &mut Value)) -> LayerDocs {
    let mut d = d.clone();
    f(&mut d.store, &mut d.state);
    d
}
