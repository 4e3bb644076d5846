//! `unblock SEL` (issue 10 item 5) through the real binary on state-db, agent-db (with and
//! without an overlay) and json stores: a usage check on a loopback endpoint first, then the
//! change pipeline clearing only that profile's blocked/cooldown/disabled windows.

use serde_json::{Value, json};

use super::*;
use crate::support::fixtures::oauth_profile;
use crate::support::usage_server::{self, Reply, UsageServer, full_payload};

const BOB: &str = "bob@example.com";

fn far() -> i64 {
    chrono::Utc::now().timestamp_millis() + 30 * 86_400_000
}

fn profiles(provider: &str) -> Value {
    let p = |n: &str| {
        oauth_profile(
            provider,
            &format!("{n}@example.com"),
            &format!("acct-{n}"),
            "plus",
            far(),
        )
    };
    json!({"version": 1, "profiles": {
        format!("{provider}:alice@example.com"): p("alice"),
        format!("{provider}:bob@example.com"): p("bob"),
        "anthropic:other": {"type": "api_key", "provider": "anthropic", "key": "sk-ant-FIXTURE",
            "extra": {"kept": true}},
    }})
}

/// bob blocked and cooling down, with fields of every kind; alice and another provider too.
fn state(provider: &str) -> Value {
    let bob = json!({"lastUsed": 1795305940000_i64, "errorCount": 2,
        "failureCounts": {"rate_limit": 2, "auth": 1}, "lastFailureAt": 1795305940000_i64,
        "lastProbeAt": 1795305940000_i64, "blockedUntil": 1795316800000_i64,
        "blockedReason": "subscription_limit", "blockedSource": "wham",
        "cooldownUntil": 1795316800000_i64, "cooldownReason": "rate_limit",
        "futureField": {"x": 1}});
    json!({"version": 1, "futureTop": [1, 2],
    "order": {provider: [format!("{provider}:bob@example.com"), format!("{provider}:alice@example.com")]},
    "lastGood": {provider: format!("{provider}:bob@example.com")},
    "usageStats": {
        format!("{provider}:bob@example.com"): bob,
        format!("{provider}:alice@example.com"): {"lastUsed": 1, "cooldownUntil": 99},
        "anthropic:other": {"cooldownUntil": 5, "errorCount": 7},
    }})
}

fn bob_cleared() -> Value {
    json!({"lastUsed": 1795305940000_i64, "errorCount": 0, "failureCounts": {"rate_limit": 2},
        "lastFailureAt": 1795305940000_i64, "lastProbeAt": 1795305940000_i64,
        "futureField": {"x": 1}})
}

fn store_in(format: Format) -> Fixture {
    let fx = Fixture::new();
    let p = format.provider();
    match format {
        Format::StateDb => {
            fx.state_db(&profiles(p), Some(&state(p)));
        }
        Format::AgentDb => {
            fx.agent_db("main", Some(&profiles(p)), Some(&state(p)));
        }
        Format::JsonSplit => {
            // usageStats in auth-state.json, which wins over the profiles file's per id.
            let mut doc = profiles(p);
            doc["usageStats"] = json!({format!("{p}:bob@example.com"): {"lastUsed": 1}});
            fx.json_split("main", &doc, &state(p));
        }
        Format::JsonSingle => {
            let mut doc = profiles(p);
            for (k, v) in state(p).as_object().unwrap() {
                if k != "version" {
                    doc[k] = v.clone();
                }
            }
            fx.json_single("main", &doc);
        }
    }
    fx
}

fn access(fx: &Fixture, id: &str) -> String {
    open(fx).load().unwrap().raw_profile(id).unwrap()["access"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The limited window's reset: in two hours, on the whole minute.
fn reset_at() -> i64 {
    (chrono::Utc::now().timestamp() / 60 + 120) * 60
}

fn limited_payload(at: i64) -> Value {
    let mut v = full_payload();
    v["rate_limit"]["allowed"] = json!(false);
    v["rate_limit"]["limit_reached"] = json!(true);
    v["rate_limit"]["primary_window"]["used_percent"] = json!(100);
    v["rate_limit"]["primary_window"]["reset_at"] = json!(at);
    v
}

fn server_for(fx: &Fixture, id: &str, reply: Reply) -> UsageServer {
    usage_server::spawn([(access(fx, id).as_str(), reply)])
}

fn unblock(fx: &Fixture, server: &UsageServer, args: &[&str]) -> crate::support::cli::Run {
    let state = fx.state_arg();
    let mut all = vec!["--state-dir", state.as_str(), "--json", "unblock"];
    all.extend_from_slice(args);
    let run = crate::support::cli::run(
        fx.home(),
        &[("CODEX_PROFILER_USAGE_URL", server.url.as_str())],
        &all,
    );
    no_leak(fx, &run);
    run
}

#[test]
fn unblock_clears_only_the_windows_backs_up_and_verifies_in_every_format() {
    for format in FORMATS {
        let fx = store_in(format);
        let bob = format.id(BOB);
        let server = server_for(&fx, &bob, Reply::Json(full_payload()));
        let before = docs(&fx);

        let run = unblock(&fx, &server, &[BOB]);
        run.expect_code(0);
        let r = run.json();
        assert_eq!(r["ok"], true, "{format:?}: {}", run.stdout);
        assert_eq!(r["action"], "unblock");
        assert_eq!(r["verified"], true, "{format:?}: {}", run.stdout);
        assert_eq!(r["nothing_to_change"], false);
        assert_eq!(r["backups"].as_array().unwrap().len(), 1, "{format:?}");
        assert_eq!(r["written"].as_array().unwrap().len(), 1, "{format:?}");
        assert_eq!(r["planned_layers"], r["written"]);
        let plan = r["plan"].to_string();
        assert!(
            plan.contains("blockedUntil") && plan.contains("cooldownUntil"),
            "{plan}"
        );
        assert_eq!(server.hits(&access(&fx, &bob)), 1, "one usage check");

        let after = docs(&fx);
        assert_eq!(after.len(), before.len());
        let (layer, b) = &before[0];
        let expected = edited(b, |_, st| st["usageStats"][bob.as_str()] = bob_cleared());
        assert_eq!(
            &after[0].1, &expected,
            "{format:?}: only bob's windows changed in {layer}"
        );

        // The backup holds the store as it was.
        let list = cli(&fx, &["--json", "backups", "list"]).json();
        assert_eq!(list["backups"][0]["action"], "unblock", "{list}");

        // Run again: nothing left to clear, no request, no backup.
        let again = unblock(&fx, &server, &[BOB]);
        again.expect_code(0);
        assert_eq!(again.json()["nothing_to_change"], true, "{}", again.stdout);
        assert_eq!(again.json()["backups"], json!([]));
        assert_eq!(server.hits(&access(&fx, &bob)), 1, "no second check");
    }
}

#[test]
fn dry_run_writes_nothing_and_says_what_it_would_clear() {
    let fx = store_in(Format::StateDb);
    let server = server_for(&fx, "openai:bob@example.com", Reply::Json(full_payload()));
    let untouched = Untouched::of(&fx);
    let run = unblock(&fx, &server, &[BOB, "--dry-run"]);
    run.expect_code(0);
    let r = run.json();
    assert_eq!(r["dry_run"], true);
    assert_eq!(r["backups"], json!([]));
    assert_eq!(r["planned_layers"].as_array().unwrap().len(), 1, "{r}");
    assert!(r["plan"].to_string().contains("blockedUntil"), "{r}");
    untouched.check(&fx, "dry run");
}

#[test]
fn still_limited_is_refused_naming_the_window_and_force_clears_without_asking() {
    let fx = store_in(Format::StateDb);
    let bob = "openai:bob@example.com";
    let at = reset_at();
    let server = server_for(&fx, bob, Reply::Json(limited_payload(at)));
    let untouched = Untouched::of(&fx);
    let run = unblock(&fx, &server, &[BOB]);
    run.expect_code(5);
    let r = run.json();
    assert_eq!(r["ok"], false, "{}", run.stdout);
    assert_eq!(r["error"], "still_limited");
    let msg = r["message"].as_str().unwrap();
    let reset_iso = chrono::DateTime::from_timestamp(at, 0)
        .unwrap()
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    assert!(
        msg.contains("still limited") && msg.contains("5h window") && msg.contains(&reset_iso),
        "{msg}"
    );
    untouched.check(&fx, "refused");
    assert!(
        crate::support::cli::run(
            fx.home(),
            &[],
            &["--state-dir", &fx.state_arg(), "backups", "list"]
        )
        .stdout
        .contains("no backups")
    );

    // The endpoint failing is no confirmation either.
    let failing = server_for(&fx, bob, Reply::Status(500));
    let run = unblock(&fx, &failing, &[BOB, "--timeout-sec", "5"]);
    run.expect_code(1);
    assert_eq!(run.json()["error"], "usage_unconfirmed", "{}", run.stdout);
    assert!(
        run.json()["message"]
            .as_str()
            .unwrap()
            .contains("could not confirm"),
        "{}",
        run.stdout
    );
    untouched.check(&fx, "unconfirmed");
    // A token the endpoint rejects (401) is refused as input.
    let rejecting = server_for(&fx, bob, Reply::Status(401));
    let run = unblock(&fx, &rejecting, &[BOB]);
    run.expect_code(5);
    assert_eq!(run.json()["error"], "change_refused", "{}", run.stdout);
    untouched.check(&fx, "rejected token");

    let forced = unblock(&fx, &server, &[BOB, "--force"]);
    forced.expect_code(0);
    assert_eq!(forced.json()["verified"], true, "{}", forced.stdout);
    assert_eq!(
        server.hits(&access(&fx, bob)),
        1,
        "--force sends no request"
    );
    let after = docs(&fx);
    assert_eq!(after[0].1.state["usageStats"][bob], bob_cleared());
}

#[test]
fn nothing_to_clear_is_a_no_op_without_a_request() {
    let fx = Fixture::new();
    let mut st = state("openai");
    st["usageStats"]["openai:bob@example.com"] = json!({"lastUsed": 3, "errorCount": 4});
    fx.state_db(&profiles("openai"), Some(&st));
    let server = server_for(
        &fx,
        "openai:bob@example.com",
        Reply::Json(limited_payload(reset_at())),
    );
    let untouched = Untouched::of(&fx);
    let run = unblock(&fx, &server, &[BOB]);
    run.expect_code(0);
    let r = run.json();
    assert_eq!(r["nothing_to_change"], true, "{}", run.stdout);
    assert!(
        r["plan"][0]
            .as_str()
            .unwrap()
            .starts_with("nothing to change"),
        "{r}"
    );
    assert_eq!(server.total_hits(), 0);
    untouched.check(&fx, "no-op");
    let text = cli(&fx, &["unblock", BOB]);
    text.expect_code(0);
    assert!(
        text.stdout.contains("nothing to do") && text.stdout.contains("none taken"),
        "{}",
        text.stdout
    );
}

#[test]
fn the_overlay_entry_is_the_one_written() {
    let fx = Fixture::new();
    fx.state_db(&profiles("openai"), Some(&state("openai")));
    let bob = "openai:bob@example.com";
    let overlay = json!({"version": 1, "usageStats": {bob: {"cooldownUntil": 1795316800000_i64,
        "cooldownReason": "rate_limit", "cooldownModel": "gpt-5", "lastUsed": 9, "errorCount": 1}}});
    fx.agent_db("main", None, Some(&overlay));
    let server = server_for(&fx, bob, Reply::Json(full_payload()));
    let before = docs(&fx);
    assert_eq!(before.len(), 2);

    let run = unblock(&fx, &server, &[BOB]);
    run.expect_code(0);
    let r = run.json();
    assert_eq!(r["verified"], true, "{}", run.stdout);
    assert_eq!(r["written"].as_array().unwrap().len(), 1);
    assert!(r["written"][0].to_string().contains("overlay"), "{r}");
    assert_eq!(r["backups"].as_array().unwrap().len(), 1);
    let after = docs(&fx);
    assert_eq!(after[0].1, before[0].1, "the shared layer is not written");
    assert_eq!(
        after[1].1.state["usageStats"][bob],
        json!({"lastUsed": 9, "errorCount": 0})
    );
    let snap = open(&fx).load().unwrap();
    assert!(
        snap.usage_stats(bob)
            .unusable_until(chrono::Utc::now().timestamp_millis())
            .is_none(),
        "the gateway's view has no window"
    );
}

#[test]
fn via_gateway_is_refused_but_the_gateway_env_default_is_not() {
    let fx = store_in(Format::StateDb);
    let untouched = Untouched::of(&fx);
    let state = fx.state_arg();
    let args = [
        "--state-dir",
        state.as_str(),
        "--json",
        "unblock",
        BOB,
        "--force",
    ];
    let mut refused = args.to_vec();
    refused.push("--via-gateway");
    let run = crate::support::cli::run(fx.home(), &[], &refused);
    run.expect_code(5);
    assert!(
        run.json()["message"]
            .as_str()
            .unwrap()
            .contains("no command to clear a block")
    );
    untouched.check(&fx, "--via-gateway");
    let run = crate::support::cli::run(fx.home(), &[("CODEX_PROFILER_VIA_GATEWAY", "1")], &args);
    run.expect_code(0);
    assert_eq!(run.json()["verified"], true, "{}", run.stdout);
    assert_eq!(run.json()["via_gateway"], false);
}
