//! `profiles` and `usage` (up to the first request) at 10, 200, 2,000 and 5,000 profiles,
//! against a bare parse of the same state-db store (open the database, read the two cells,
//! parse them with serde_json). The engine side is what the commands do before printing:
//! open (detect the format), load (merge layers, parse Codex profiles, read `openclaw.json`),
//! then local health with the effective order for every profile (`profiles`), or the
//! selector `all` resolved against the effective order with health attached (`usage`).
//! Issue 9 §5 target: both within 3x the bare parse at 5,000 profiles.

use std::hint::black_box;
use std::time::Duration;

use codex_profiler::engine::profile::Provider;
use codex_profiler::engine::selector::Selector;
use codex_profiler::engine::store::{Store, StoreChoice, StoreOptions};
use codex_profiler::engine::usage::profiles_to_check;
use serde_json::{Map, Value, json};

use super::fixtures::{Fixture, oauth_profile};

/// The sizes measured.
pub const SIZES: [usize; 4] = [10, 200, 2_000, 5_000];

const NOW: i64 = 1_795_300_000_000;

/// A state-db store of `n` Codex profiles: an order naming all of them, lastGood, usage stats
/// with every tenth profile blocked and every seventh in cooldown.
fn store_of(n: usize) -> Fixture {
    let fx = Fixture::new();
    let mut profiles = Map::new();
    let mut stats = Map::new();
    let mut order = Vec::new();
    for i in 0..n {
        let email = format!("user{i:05}@example.com");
        let id = format!("openai:{email}");
        profiles.insert(
            id.clone(),
            oauth_profile(
                "openai",
                &email,
                &format!("acct-{i}"),
                "plus",
                NOW + 86_400_000,
            ),
        );
        let mut s = json!({"lastUsed": NOW - i as i64, "errorCount": i % 3});
        if i % 10 == 0 {
            s["blockedUntil"] = json!(NOW + 3_600_000);
        }
        if i % 7 == 0 {
            s["cooldownUntil"] = json!(NOW + 60_000 + i as i64);
        }
        stats.insert(id.clone(), s);
        order.push(Value::String(id));
    }
    fx.state_db(
        &json!({"version": 1, "profiles": profiles}),
        Some(&json!({"version": 1, "order": {"openai": order},
            "lastGood": {"openai": "openai:user00000@example.com"}, "usageStats": stats})),
    );
    fx
}

fn open(fx: &Fixture) -> Store {
    Store::open(StoreOptions {
        state_dir: fx.state_dir(),
        agent: "main".into(),
        choice: StoreChoice::Auto,
        auth_path: None,
    })
    .expect("open")
}

fn profiles_work(fx: &Fixture) {
    let snap = open(fx).load().expect("load");
    for p in &snap.codex {
        black_box(snap.health(p, NOW));
    }
}

fn usage_work(fx: &Fixture) {
    let snap = open(fx).load().expect("load");
    let checks =
        profiles_to_check(&snap, Provider::OpenAi, &Selector::All, NOW).expect("select all");
    black_box(checks);
}

/// Run the table; `time(iters, f)` is the median helper of the store bench.
pub fn run(bench: bool, time: &dyn Fn(usize, &mut dyn FnMut()) -> Duration) {
    println!(
        "\n`profiles` and `usage` before the first request, state-db store, against a bare parse\n"
    );
    println!(
        "| profiles | bare parse | open + load alone | ratio | profiles: engine | ratio | usage (before requests) | ratio |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for n in SIZES {
        let iters = match (bench, n) {
            (false, _) => 1,
            (true, 5_000) => 25,
            (true, 2_000) => 30,
            (true, _) => 40,
        };
        let fx = store_of(n);
        let db = fx.state_db_path();
        let bare = time(iters, &mut || super::sql_load(&db, super::STATE_DB_CELLS));
        let load = time(iters, &mut || {
            black_box(open(&fx).load().expect("load"));
        });
        let prof = time(iters, &mut || profiles_work(&fx));
        let usage = time(iters, &mut || usage_work(&fx));
        let r = |d: Duration| d.as_secs_f64() / bare.as_secs_f64();
        println!(
            "| {n} | {} | {} | {:.1}x | {} | {:.1}x | {} | {:.1}x |",
            super::ms(bare),
            super::ms(load),
            r(load),
            super::ms(prof),
            r(prof),
            super::ms(usage),
            r(usage)
        );
    }
}
