//! Interop of `unblock` with the real OpenClaw 2026.9.6 (issue 10 item 5): on a state-db
//! store where a profile is in cooldown, `openclaw models auth list --json` shows its
//! `cooldownUntil`; after our `unblock` (usage check on a loopback endpoint) it shows none,
//! and `openclaw models auth order get` reports the same order as before. Three `openclaw`
//! calls before and after share one scratch home.

use serde_json::{Value, json};

use crate::support::cli;
use crate::support::fixtures::{Fixture, oauth_profile};
use crate::support::openclaw::openclaw;
use crate::support::usage_server::{self, Reply, full_payload};

fn oauth(name: &str, expires: i64) -> Value {
    oauth_profile(
        "openai",
        &format!("{name}@example.com"),
        &format!("acct-{name}"),
        "plus",
        expires,
    )
}

/// `openclaw models auth list --json` and `order get --provider openai --json`.
fn claw_views(home: &std::path::Path) -> (Value, Value) {
    let claw = openclaw();
    let list = claw
        .run(home, &["models", "auth", "list", "--json"], None)
        .ok()
        .json();
    let order = claw.openai_order(home);
    (list, order)
}

/// Every `cooldownUntil` (and `blockedUntil`) the listing carries for `id`, wherever in the
/// profile's entry it sits.
fn windows_listed(list: &Value, id: &str) -> Vec<String> {
    fn walk(v: &Value, path: &str, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    if matches!(
                        k.as_str(),
                        "cooldownUntil" | "blockedUntil" | "disabledUntil"
                    ) && !x.is_null()
                    {
                        out.push(format!("{path}.{k}"));
                    }
                    walk(x, &format!("{path}.{k}"), out);
                }
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, path, out)),
            _ => {}
        }
    }
    let entry = list
        .get("profiles")
        .and_then(Value::as_array)
        .and_then(|a| a.iter().find(|p| p["profileId"] == id || p["id"] == id))
        .unwrap_or_else(|| panic!("{id} is not listed: {list:#}"));
    let mut out = Vec::new();
    walk(entry, "", &mut out);
    out
}

#[test]
fn openclaw_sees_the_cooldown_gone_after_unblock_and_the_order_unchanged() {
    let fx = Fixture::new();
    let now = chrono::Utc::now().timestamp_millis();
    let day = 86_400_000;
    let bob = "openai:bob";
    fx.state_db(
        &json!({"version": 1, "profiles": {
            "openai:alice": oauth("alice", now + day),
            bob: oauth("bob", now + day),
        }}),
        Some(&json!({"version": 1,
            "order": {"openai": [bob, "openai:alice"]},
            "usageStats": {
                bob: {"cooldownUntil": now + 3_600_000, "cooldownReason": "rate_limit",
                    "errorCount": 1, "failureCounts": {"rate_limit": 1}, "lastUsed": now - 60_000},
                "openai:alice": {"lastUsed": now - 120_000}
        }})),
    );
    let (list, order_before) = claw_views(fx.home());
    assert!(
        windows_listed(&list, bob)
            .iter()
            .any(|p| p.ends_with(".cooldownUntil")),
        "openclaw lists bob's cooldownUntil: {list:#}"
    );

    let snap_store =
        codex_profiler::engine::store::Store::open(codex_profiler::engine::store::StoreOptions {
            state_dir: fx.state_dir(),
            agent: "main".into(),
            choice: codex_profiler::engine::store::StoreChoice::Auto,
            auth_path: None,
        })
        .expect("open");
    let snap = snap_store.load().expect("load");
    let token = snap.raw_profile(bob).expect("bob")["access"]
        .as_str()
        .expect("token")
        .to_owned();
    let server = usage_server::spawn([(token.as_str(), Reply::Json(full_payload()))]);
    let state = fx.state_arg();
    let run = cli::run(
        fx.home(),
        &[("CODEX_PROFILER_USAGE_URL", server.url.as_str())],
        &["--state-dir", state.as_str(), "--json", "unblock", "bob"],
    );
    run.expect_code(0);
    assert_eq!(run.json()["verified"], true, "{}", run.stdout);
    assert_eq!(server.hits(&token), 1);

    let (list, order_after) = claw_views(fx.home());
    assert_eq!(windows_listed(&list, bob), Vec::<String>::new(), "{list:#}");
    assert!(
        list.to_string().contains("openai:alice"),
        "alice is still listed: {list:#}"
    );
    assert_eq!(order_after, order_before, "the order is unchanged");
    assert_eq!(order_after["order"], json!([bob, "openai:alice"]));
}
