//! `order auto` (issue 10 item 4) through the real binary, with the loopback usage server, on
//! state-db and json stores: a reorder goes through the change pipeline (backup, verify); a
//! dry run writes nothing (the store's bytes unchanged, no backup); a first profile that need
//! not change means no write at all; bad settings are refused naming the variable.

use rusqlite::Connection;
use serde_json::{Value, json};

use super::*;
use crate::support::fixtures::oauth_profile;
use crate::support::usage_server::{self, Reply, UsageServer};

const LATER: i64 = 4_102_444_800_000; // 2100-01-01

/// The formats a reorder is tried on: the current one and the legacy json file.
const AUTO_FORMATS: [Format; 2] = [Format::StateDb, Format::JsonSingle];

/// a, b, c of `format`'s provider in the stored order a, b, c, an anthropic profile with
/// unknown fields, and usageStats for b.
fn store_in(format: Format) -> Fixture {
    let fx = Fixture::new();
    let p = format.provider();
    let prof = |n: &str| {
        oauth_profile(
            p,
            &format!("{n}@example.com"),
            &format!("acct-{n}"),
            "plus",
            LATER,
        )
    };
    let profiles = json!({"version": 1, "profiles": {
        format.id("a"): prof("a"),
        format.id("b"): prof("b"),
        format.id("c"): prof("c"),
        "anthropic:other": {"type": "api_key", "provider": "anthropic", "key": "sk-ant-FIXTURE",
            "extra": {"kept": true}},
    }});
    let state = json!({"version": 1, "futureTop": {"x": 1},
        "order": {p: [format.id("a"), format.id("b"), format.id("c")]},
        "lastGood": {p: format.id("a")},
        "usageStats": {format.id("b"): {"lastUsed": 5, "futureField": true}}});
    match format {
        Format::StateDb => {
            fx.state_db(&profiles, Some(&state));
        }
        _ => {
            let mut doc = profiles;
            for (k, v) in state.as_object().unwrap() {
                if k != "version" {
                    doc[k] = v.clone();
                }
            }
            fx.json_single("main", &doc);
        }
    }
    fx
}

fn token(fx: &Fixture, id: &str) -> String {
    open(fx).load().unwrap().raw_profile(id).unwrap()["access"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A reply with the 5h window at `five_h` percent used and the week at 10.
fn used(five_h: u32) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({"plan_type": "plus", "rate_limit": {"allowed": true, "limit_reached": five_h >= 100,
        "primary_window": {"used_percent": five_h, "limit_window_seconds": 18000,
            "reset_after_seconds": 3600, "reset_at": now + 3600},
        "secondary_window": {"used_percent": 10, "limit_window_seconds": 604800,
            "reset_after_seconds": 400_000, "reset_at": now + 400_000}}})
}

/// A server answering a, b, c at these 5h percentages.
fn server(fx: &Fixture, format: Format, [a, b, c]: [u32; 3]) -> UsageServer {
    let (ta, tb, tc) = (
        token(fx, &format.id("a")),
        token(fx, &format.id("b")),
        token(fx, &format.id("c")),
    );
    usage_server::spawn([
        (ta.as_str(), Reply::Json(used(a))),
        (tb.as_str(), Reply::Json(used(b))),
        (tc.as_str(), Reply::Json(used(c))),
    ])
}

fn order_auto(fx: &Fixture, server: &UsageServer, env: &[(&str, &str)], args: &[&str]) -> Run {
    let state = fx.state_arg();
    let mut all = vec!["--state-dir", state.as_str(), "order", "auto"];
    all.extend_from_slice(args);
    let mut env = env.to_vec();
    env.push(("CODEX_PROFILER_USAGE_URL", server.url.as_str()));
    let run = crate::support::cli::run(fx.home(), &env, &all);
    no_leak(fx, &run);
    run
}

fn stored_order(fx: &Fixture) -> Value {
    let run = cli(fx, &["--json", "order", "get"]);
    run.expect_code(0);
    run.json()["order"].clone()
}

fn backups(fx: &Fixture) -> Vec<String> {
    let dir = fx.state_dir().join("codex-profiler").join("backups");
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    rd.flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

/// The bytes of the store's files (a database after checkpointing its WAL).
fn store_bytes(fx: &Fixture) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for path in [
        fx.state_db_path(),
        fx.json_path("main"),
        fx.agent_db_path("main"),
    ] {
        if !path.is_file() {
            continue;
        }
        if path.extension().is_some_and(|e| e == "sqlite") {
            let conn = Connection::open(&path).unwrap();
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
                .unwrap();
        }
        out.push((path.display().to_string(), std::fs::read(&path).unwrap()));
    }
    out
}

#[test]
fn drain_first_reorders_through_the_pipeline_with_a_backup_in_each_format() {
    for format in AUTO_FORMATS {
        let fx = store_in(format);
        // a crossed 95%: c has the most left.
        let srv = server(&fx, format, [96, 60, 20]);
        let before = docs(&fx);
        let run = order_auto(&fx, &srv, &[], &["--json", "--strategy", "drain-first"]);
        run.expect_code(0);
        let r = run.json();
        let (a, b, c) = (format.id("a"), format.id("b"), format.id("c"));
        assert_eq!(r["action"], "reorder", "{format:?}: {r:#}");
        assert_eq!(r["from"], json!([a, b, c]));
        assert_eq!(r["to"], json!([c, b, a]));
        assert_eq!(r["first_before"], json!(a));
        assert_eq!(r["first_after"], json!(c));
        assert_eq!(r["why"]["code"], "first_crossed_threshold");
        assert_eq!(r["reordered"], true);
        assert_eq!(r["verified"], true);
        assert_eq!(r["change"]["action"], "order-auto");
        assert_eq!(r["change"]["backups"].as_array().unwrap().len(), 1);
        assert_eq!(r["summary"]["profiles_checked"], 3);
        assert_eq!(srv.total_hits(), 3, "one check per profile");
        assert_eq!(stored_order(&fx), json!([c, b, a]), "{format:?}");
        let names = backups(&fx);
        assert!(
            names.len() == 1 && names[0].ends_with("-order-auto.json"),
            "{names:?}"
        );
        // Only the order changed: unknown fields and the other provider are kept.
        let after = docs(&fx);
        let want: Vec<_> = before
            .iter()
            .map(|(l, d)| {
                let e = edited(d, |_, state| {
                    state["order"][format.provider()] = json!([c, b, a]);
                });
                (l.clone(), e)
            })
            .collect();
        if matches!(format, Format::StateDb) {
            assert_eq!(after, want, "{format:?}");
        } else {
            // The single json file holds profiles and state in one document.
            let doc = crate::support::fixtures::read_json(&fx.json_path("main"));
            assert_eq!(doc["profiles"]["anthropic:other"]["extra"]["kept"], true);
            assert_eq!(doc["futureTop"], json!({"x": 1}));
            assert_eq!(doc["usageStats"][&b]["futureField"], true);
            assert_eq!(doc["lastGood"][format.provider()], json!(a));
            assert_eq!(doc["order"][format.provider()], json!([c, b, a]));
        }
        assert!(
            fx.state_dir()
                .join("codex-profiler/history.sqlite")
                .is_file(),
            "the check is recorded in the history"
        );
    }
}

#[test]
fn a_dry_run_writes_nothing_and_takes_no_backup() {
    for format in AUTO_FORMATS {
        let fx = store_in(format);
        let srv = server(&fx, format, [100, 60, 20]);
        let bytes = store_bytes(&fx);
        let before = docs(&fx);
        let run = order_auto(
            &fx,
            &srv,
            &[("CODEX_PROFILER_AUTO_ORDER", "most-left")],
            &["--json", "--dry-run"],
        );
        run.expect_code(0);
        let r = run.json();
        assert_eq!(r["strategy"], "most-left", "from the variable");
        assert_eq!(r["action"], "reorder");
        assert_eq!(r["dry_run"], true);
        assert_eq!(r["reordered"], false);
        assert_eq!(r["why"]["code"], "first_limited");
        assert_eq!(r["change"]["backups"], json!([]));
        assert_eq!(r["change"]["written"], json!([]));
        assert_eq!(store_bytes(&fx), bytes, "{format:?}: the store's bytes");
        assert_eq!(docs(&fx), before);
        assert_eq!(backups(&fx), Vec::<String>::new());

        let text = order_auto(&fx, &srv, &[], &["--dry-run", "--strategy", "most-left"]);
        text.expect_code(0);
        assert!(
            text.stdout.starts_with(&format!(
                "order auto (most-left, last threshold 95%): move {} first",
                format.id("c")
            )),
            "{}",
            text.stdout
        );
        assert!(
            text.stdout.contains("dry run, nothing written"),
            "{}",
            text.stdout
        );
        assert_eq!(store_bytes(&fx), bytes);
    }
}

#[test]
fn no_write_when_the_first_need_not_change() {
    for format in AUTO_FORMATS {
        let fx = store_in(format);
        // a is far behind b and c but below the threshold: drain-first keeps it.
        let srv = server(&fx, format, [90, 0, 0]);
        let bytes = store_bytes(&fx);
        let run = order_auto(
            &fx,
            &srv,
            &[("CODEX_PROFILER_AUTO_ORDER", "drain-first")],
            &[],
        );
        run.expect_code(0);
        assert!(
            run.stdout
                .starts_with("order auto (drain-first, last threshold 95%): order kept: ")
                && run.stdout.contains("still below 95% used"),
            "{}",
            run.stdout
        );
        assert_eq!(store_bytes(&fx), bytes, "{format:?}");
        assert_eq!(backups(&fx), Vec::<String>::new());

        // A lower last threshold makes the same round move.
        let run = order_auto(
            &fx,
            &srv,
            &[("CODEX_PROFILER_ALERT_AT", "50,85")],
            &["--json", "--strategy", "drain-first"],
        );
        run.expect_code(0);
        assert_eq!(run.json()["last_threshold"], 85);
        assert_eq!(run.json()["action"], "reorder");
        assert_eq!(backups(&fx).len(), 1);
    }
}

#[test]
fn pinned_sessions_are_named_and_left_as_they_were() {
    let fx = store_in(Format::StateDb);
    let db = fx.agent_db("main", None, None);
    let entry = json!({"sessionId": "s1", "authProfileOverride": "openai:a"});
    Connection::open(&db)
        .unwrap()
        .execute(
            "INSERT INTO session_nodes (session_key, current_session_id, entry_json, updated_at) VALUES ('agent:main:telegram:9', 's1', ?1, 1)",
            [entry.to_string()],
        )
        .unwrap();
    let srv = server(&fx, Format::StateDb, [100, 60, 20]);
    let run = order_auto(&fx, &srv, &[], &["--json", "--strategy", "most-left"]);
    run.expect_code(0);
    let r = run.json();
    assert_eq!(r["reordered"], true, "{r:#}");
    assert_eq!(
        r["pinned_sessions"],
        json!([{"session_key": "agent:main:telegram:9", "profile": "openai:a",
            "source": "user", "user_pin": true}])
    );
    let left: String = Connection::open(&db)
        .unwrap()
        .query_row(
            "SELECT entry_json FROM session_nodes WHERE session_key = 'agent:main:telegram:9'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(serde_json::from_str::<Value>(&left).unwrap(), entry);
}

#[test]
fn settings_are_refused_naming_the_variable() {
    let fx = store_in(Format::StateDb);
    let srv = server(&fx, Format::StateDb, [0, 0, 0]);
    let bytes = store_bytes(&fx);
    let none = order_auto(&fx, &srv, &[], &[]);
    none.expect_code(2);
    assert!(
        none.stderr.contains("--strategy") && none.stderr.contains("CODEX_PROFILER_AUTO_ORDER"),
        "{}",
        none.stderr
    );
    let bad = order_auto(&fx, &srv, &[("CODEX_PROFILER_AUTO_ORDER", "fastest")], &[]);
    bad.expect_code(2);
    assert!(
        bad.stderr.contains(
            "CODEX_PROFILER_AUTO_ORDER must be off, most-left or drain-first (got `fastest`)"
        ),
        "{}",
        bad.stderr
    );
    let off = order_auto(&fx, &srv, &[("CODEX_PROFILER_AUTO_ORDER", "off")], &[]);
    off.expect_code(2);
    let alert = order_auto(
        &fx,
        &srv,
        &[("CODEX_PROFILER_ALERT_AT", "80,150")],
        &["--strategy", "most-left"],
    );
    alert.expect_code(2);
    assert!(
        alert.stderr.contains("CODEX_PROFILER_ALERT_AT"),
        "{}",
        alert.stderr
    );
    assert_eq!(
        srv.total_hits(),
        0,
        "nothing is checked before the settings are read"
    );
    assert_eq!(store_bytes(&fx), bytes);
}
