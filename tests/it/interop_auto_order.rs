//! Interop of `order auto` with the real OpenClaw 2026.9.6 (issue 10 item 4): after a reorder
//! written by us, `openclaw models auth order get --provider openai` reports the order our
//! `order get` stores, and `models auth list` lists exactly the profiles our effective order
//! tries; a second round in gateway-native mode (`--via-gateway`, `openclaw models auth order
//! set` does the write) agrees the same way. Four `openclaw` calls share one scratch home.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::support::cli;
use crate::support::fixtures::{Fixture, plus_oauth};
use crate::support::openclaw::openclaw;
use crate::support::usage_server::{self, Reply};

fn used(five_h: u32) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({"plan_type": "plus", "rate_limit": {"allowed": true, "limit_reached": five_h >= 100,
        "primary_window": {"used_percent": five_h, "limit_window_seconds": 18000,
            "reset_after_seconds": 3600, "reset_at": now + 3600}}})
}

fn token(fx: &Fixture, id: &str) -> String {
    crate::change::open(fx)
        .load()
        .expect("load")
        .raw_profile(id)
        .expect("profile")["access"]
        .as_str()
        .expect("token")
        .to_owned()
}

fn ours(fx: &Fixture, args: &[&str], env: &[(&str, &str)]) -> Value {
    let state = fx.state_arg();
    let mut all = vec!["--state-dir", state.as_str(), "--json"];
    all.extend_from_slice(args);
    let run = cli::run(fx.home(), env, &all);
    run.expect_code(0);
    run.json()
}

#[test]
fn openclaw_reads_the_order_auto_order_wrote_directly_and_through_the_gateway() {
    let fx = Fixture::new();
    let now = chrono::Utc::now().timestamp_millis();
    let day = 86_400_000;
    let (a, b, c) = ("openai:alice", "openai:bob", "openai:carol");
    fx.state_db(
        &json!({"version": 1, "profiles": {
            a: plus_oauth("alice", now + day),
            b: plus_oauth("bob", now + day),
            c: plus_oauth("carol", now + day),
        }}),
        Some(&json!({"version": 1, "order": {"openai": [a, b, c]}})),
    );
    let (ta, tb, tc) = (token(&fx, a), token(&fx, b), token(&fx, c));

    // Round 1: alice is limited, carol has the most left: written by us.
    let srv = usage_server::spawn([
        (ta.as_str(), Reply::Json(used(100))),
        (tb.as_str(), Reply::Json(used(60))),
        (tc.as_str(), Reply::Json(used(20))),
    ]);
    let env = [("CODEX_PROFILER_USAGE_URL", srv.url.as_str())];
    let r = ours(&fx, &["order", "auto", "--strategy", "most-left"], &env);
    assert_eq!(r["to"], json!([c, b, a]), "{r:#}");
    assert_eq!(r["verified"], true);

    let claw = openclaw();
    let theirs = claw.openai_order(fx.home());
    let mine = ours(&fx, &["order", "get"], &[]);
    assert_eq!(theirs["order"], json!([c, b, a]), "theirs: {theirs:#}");
    assert_eq!(mine["order"], theirs["order"]);
    let list = claw
        .run(fx.home(), &["models", "auth", "list", "--json"], None)
        .ok()
        .json();
    let listed: BTreeSet<String> = list["profiles"]
        .as_array()
        .expect("profiles")
        .iter()
        .filter_map(|p| p["id"].as_str().map(str::to_owned))
        .collect();
    let tried: BTreeSet<String> = mine["effective"]
        .as_array()
        .expect("effective")
        .iter()
        .filter_map(|e| e["id"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(listed, tried, "list: {list:#}\nours: {mine:#}");

    // Round 2: carol is limited now: bob goes first, written by `openclaw` itself.
    let srv = usage_server::spawn([
        (ta.as_str(), Reply::Json(used(100))),
        (tb.as_str(), Reply::Json(used(60))),
        (tc.as_str(), Reply::Json(used(100))),
    ]);
    let env = [
        ("CODEX_PROFILER_USAGE_URL", srv.url.as_str()),
        (
            "CODEX_PROFILER_OPENCLAW_BIN",
            claw.bin().to_str().expect("utf-8 path"),
        ),
        ("PATH", &claw.path_env()),
    ];
    let r = ours(
        &fx,
        &[
            "order",
            "auto",
            "--strategy",
            "drain-first",
            "--via-gateway",
        ],
        &env,
    );
    assert_eq!(r["first_after"], json!(b), "{r:#}");
    assert_eq!(r["change"]["via_gateway"], true);
    assert_eq!(r["verified"], true, "{r:#}");
    let theirs = claw.openai_order(fx.home());
    let mine = ours(&fx, &["order", "get"], &[]);
    assert_eq!(theirs["order"][0], json!(b), "theirs: {theirs:#}");
    assert_eq!(mine["order"], theirs["order"], "ours: {mine:#}");
}
