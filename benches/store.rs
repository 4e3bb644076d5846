//! Load and write of a 200-profile store in each format, against a baseline measured in the
//! same run: for loads, reading the same bytes and parsing them with serde_json; for writes,
//! the bare minimum a safe write needs (json: temp file, fsync, rename, fsync dir; SQLite: one
//! UPDATE in a `BEGIN IMMEDIATE` transaction). The ratios say what the engine's detection,
//! overlay merge, locking, re-read and read-back verification cost on top.
//!
//!     cargo bench --bench store              # the table in docs/PERFORMANCE.md
//!
//! Then `profiles` and `usage` (before the first request) at 10 to 5,000 profiles against a
//! bare parse of the same store (`store/profiles.rs`).
//!
//! Under `cargo test` (no `--bench` argument) it runs each case a few times as a smoke test.

#[path = "../tests/it/support/fixtures.rs"]
#[allow(dead_code)]
mod fixtures;
#[path = "store/profiles.rs"]
mod profiles;

use std::hint::black_box;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use codex_profiler::engine::profile::ProfileId;
use codex_profiler::engine::store::{Change, Store, StoreChoice, StoreOptions};
use fixtures::{Fixture, oauth_profile};
use rusqlite::Connection;
use serde_json::{Map, Value, json};

const PROFILES: usize = 200;

#[derive(Clone, Copy)]
enum Format {
    StateDb,
    AgentDb,
    JsonSingle,
    JsonSplit,
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Format::StateDb => "state-db",
            Format::AgentDb => "agent-db",
            Format::JsonSingle => "json (single file)",
            Format::JsonSplit => "json (split state)",
        }
    }
    fn provider(self) -> &'static str {
        match self {
            Format::StateDb | Format::AgentDb => "openai",
            _ => "openai-codex",
        }
    }
}

/// `{version, profiles}` and `{version, order, lastGood, usageStats}` with 200 profiles.
fn documents(provider: &str) -> (Value, Value) {
    let mut profiles = Map::new();
    let mut stats = Map::new();
    let mut order = Vec::new();
    for i in 0..PROFILES {
        let email = format!("user{i:03}@example.com");
        let id = format!("{provider}:{email}");
        let mut p = oauth_profile(
            provider,
            &email,
            &format!("acct-{i:03}"),
            "plus",
            1_900_000_000_000,
        );
        p["x-unknown-field"] = json!({"kept": i});
        profiles.insert(id.clone(), p);
        stats.insert(
            id.clone(),
            json!({"lastUsed": 1_795_300_000_000_i64 + i as i64, "errorCount": 0}),
        );
        order.push(Value::String(id));
    }
    let store = json!({"version": 1, "profiles": profiles});
    let state = json!({
        "version": 1,
        "order": {provider: order},
        "lastGood": {provider: format!("{provider}:user000@example.com")},
        "usageStats": stats,
    });
    (store, state)
}

struct Case {
    fx: Fixture,
    format: Format,
    store: Store,
    /// The file a baseline load reads and a baseline write writes (json), or the database.
    main_file: std::path::PathBuf,
}

fn setup(format: Format) -> Case {
    let fx = Fixture::new();
    let (store_doc, state_doc) = documents(format.provider());
    let main_file = match format {
        Format::StateDb => fx.state_db(&store_doc, Some(&state_doc)),
        Format::AgentDb => fx.agent_db("main", Some(&store_doc), Some(&state_doc)),
        Format::JsonSingle => {
            let mut doc = store_doc.clone();
            for k in ["order", "lastGood", "usageStats"] {
                doc[k] = state_doc[k].clone();
            }
            fx.json_single("main", &doc)
        }
        Format::JsonSplit => fx.json_split("main", &store_doc, &state_doc),
    };
    let store = Store::open(StoreOptions {
        state_dir: fx.state_dir(),
        agent: "main".into(),
        choice: StoreChoice::Auto,
        auth_path: None,
    })
    .expect("open bench store");
    Case {
        fx,
        format,
        store,
        main_file,
    }
}

fn baseline_load(case: &Case) {
    match case.format {
        Format::StateDb => sql_load(&case.main_file, STATE_DB_CELLS),
        Format::AgentDb => sql_load(
            &case.main_file,
            "SELECT store_json FROM auth_profile_store WHERE store_key='primary' UNION ALL SELECT state_json FROM auth_profile_state WHERE state_key='primary'",
        ),
        Format::JsonSingle | Format::JsonSplit => {
            let bytes = std::fs::read(&case.main_file).expect("read");
            black_box(serde_json::from_slice::<Value>(&bytes).expect("parse"));
            if matches!(case.format, Format::JsonSplit) {
                let bytes =
                    std::fs::read(case.main_file.with_file_name("auth-state.json")).expect("read");
                black_box(serde_json::from_slice::<Value>(&bytes).expect("parse"));
            }
        }
    }
}

/// The two auth cells of a state-db store.
const STATE_DB_CELLS: &str = "SELECT value_json FROM config_machine_state WHERE state_key IN ('authProfiles.store','authProfiles.state')";

fn sql_load(db: &Path, sql: &str) {
    let conn = Connection::open(db).expect("open");
    let mut stmt = conn.prepare(sql).expect("prepare");
    let rows = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .expect("query");
    for row in rows {
        black_box(serde_json::from_str::<Value>(&row.expect("row")).expect("parse"));
    }
}

fn baseline_write(case: &Case, n: usize) {
    match case.format {
        Format::StateDb | Format::AgentDb => {
            let (table, val, key) = match case.format {
                Format::StateDb => (
                    "config_machine_state",
                    "value_json",
                    "state_key='authProfiles.store'",
                ),
                _ => ("auth_profile_store", "store_json", "store_key='primary'"),
            };
            let mut conn = Connection::open(&case.main_file).expect("open");
            let tx = conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .expect("begin");
            let doc: String = tx
                .query_row(&format!("SELECT {val} FROM {table} WHERE {key}"), [], |r| {
                    r.get(0)
                })
                .expect("select");
            let mut v: Value = serde_json::from_str(&doc).expect("parse");
            v["profiles"]["bench:marker"] = json!({"n": n});
            tx.execute(
                &format!("UPDATE {table} SET {val}=?1 WHERE {key}"),
                [v.to_string()],
            )
            .expect("update");
            tx.commit().expect("commit");
        }
        Format::JsonSingle | Format::JsonSplit => {
            let bytes = std::fs::read(&case.main_file).expect("read");
            let mut v: Value = serde_json::from_slice(&bytes).expect("parse");
            v["profiles"]["bench:marker"] = json!({"n": n});
            let dir = case.main_file.parent().expect("dir");
            let tmp = dir.join(".bench-baseline.tmp");
            let mut f = std::fs::File::create(&tmp).expect("create");
            f.write_all(serde_json::to_string_pretty(&v).expect("ser").as_bytes())
                .expect("write");
            f.sync_all().expect("fsync");
            std::fs::rename(&tmp, dir.join("baseline-copy.json")).expect("rename");
            std::fs::File::open(dir)
                .expect("dir")
                .sync_all()
                .expect("fsync dir");
        }
    }
}

fn engine_load(case: &Case) {
    let store = Store::open(StoreOptions {
        state_dir: case.fx.state_dir(),
        agent: "main".into(),
        choice: StoreChoice::Auto,
        auth_path: None,
    })
    .expect("open");
    black_box(store.load().expect("load"));
}

fn engine_write(case: &Case, n: usize) {
    let id = ProfileId::parse(&format!(
        "{}:user{:03}@example.com",
        case.format.provider(),
        n % PROFILES
    ))
    .expect("id");
    let mut fields = Map::new();
    fields.insert("x-bench".into(), json!(n));
    black_box(
        case.store
            .apply(&Change::UpsertProfile { id, fields })
            .expect("apply"),
    );
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time(iters: usize, mut f: impl FnMut(usize)) -> Duration {
    f(0); // warm the page cache and SQLite's file
    median(
        (1..=iters)
            .map(|i| {
                let t = Instant::now();
                f(i);
                t.elapsed()
            })
            .collect(),
    )
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let (load_iters, write_iters) = if bench { (60, 40) } else { (2, 2) };
    println!(
        "store benchmark: {PROFILES} profiles, median of {load_iters} loads / {write_iters} writes\n"
    );
    println!(
        "| format | load: engine | load: baseline | ratio | write: engine | write: baseline | ratio |"
    );
    println!("|---|---|---|---|---|---|---|");
    for format in [
        Format::StateDb,
        Format::AgentDb,
        Format::JsonSingle,
        Format::JsonSplit,
    ] {
        let case = setup(format);
        let lb = time(load_iters, |_| baseline_load(&case));
        let le = time(load_iters, |_| engine_load(&case));
        let wb = time(write_iters, |n| baseline_write(&case, n));
        let we = time(write_iters, |n| engine_write(&case, n));
        println!(
            "| {} | {} | {} | {:.1}x | {} | {} | {:.1}x |",
            format.name(),
            ms(le),
            ms(lb),
            le.as_secs_f64() / lb.as_secs_f64(),
            ms(we),
            ms(wb),
            we.as_secs_f64() / wb.as_secs_f64(),
        );
    }
    profiles::run(bench, &|iters, f| time(iters, |_| f()));
}
