//! The effective order the gateway tries (OpenClaw's rules: automatic sort, unusable
//! profiles last for every source, repair of orders naming only missing profiles) and the
//! per-key overlay merge of `order`, `lastGood` and `usageStats`, on real SQLite stores.

use codex_profiler::engine::store::{OrderSource, StoreChoice};
use serde_json::{Value, json};

use super::{open, open_auto};
use crate::support::cli;
use crate::support::fixtures::{self, Fixture, oauth_profile};

const NOW: i64 = 1_795_306_000_000;
const LATER: i64 = NOW + 86_400_000;

fn oauth(name: &str, expires: i64) -> Value {
    oauth_profile(
        "openai",
        &format!("{name}@example.com"),
        &format!("acc-{name}"),
        "plus",
        expires,
    )
}

/// Six openai profiles of every kind plus a non-openai one; usage stats give lastUsed and
/// unusable windows.
fn mixed_store() -> (Value, Value) {
    let store = json!({"version": 1, "profiles": {
        "openai:key": {"type": "api_key", "provider": "openai", "key": "sk-FIXTURE"},
        "openai:tok": {"type": "token", "provider": "openai", "token": "tok-FIXTURE"},
        "openai:expired": oauth("expired", NOW - 1_000),
        "openai:busy": oauth("busy", LATER),
        "openai:old": oauth("old", LATER),
        "openai:fresh": oauth("fresh", LATER),
        "openai:off": oauth("off", LATER),
        "anthropic:x": {"type": "api_key", "provider": "anthropic", "key": "sk-ant-FIXTURE"}
    }});
    let state = json!({"version": 1, "usageStats": {
        "openai:old": {"lastUsed": NOW - 50_000},
        "openai:fresh": {"lastUsed": NOW - 10_000},
        "openai:expired": {"lastUsed": 1},
        // Unusable until max(cooldown, blocked) = NOW + 600_000.
        "openai:busy": {"lastUsed": 1, "cooldownUntil": NOW + 60_000, "blockedUntil": NOW + 600_000},
        // Disabled until NOW + 300_000: usable before busy.
        "openai:off": {"disabledUntil": NOW + 300_000, "disabledReason": "billing"},
        // An ended cooldown does not count.
        "openai:tok": {"cooldownUntil": NOW - 1}
    }});
    (store, state)
}

#[test]
fn automatic_order_follows_openclaw() {
    let fx = Fixture::new();
    let (store, state) = mixed_store();
    fx.state_db(&store, Some(&state));
    let snap = open_auto(&fx.state_dir()).load().unwrap();
    let order = snap.effective_order_at("openai", NOW);
    assert_eq!(order.source, OrderSource::Automatic);
    assert_eq!(
        order.ids,
        [
            "openai:old",     // oauth, unexpired, least recently used
            "openai:fresh",   // oauth, unexpired
            "openai:expired", // oauth, expired (though least recently used)
            "openai:tok",     // token
            "openai:key",     // api_key
            "openai:off",     // usable at NOW + 300 s
            "openai:busy",    // usable at NOW + 600 s
        ]
    );
    assert!(snap.stored_order("openai").is_none());
    // Nothing is unusable just before the tokens expire: busy and off take their place by
    // type and lastUsed.
    assert_eq!(
        snap.effective_order_at("openai", LATER - 1).ids[..3],
        ["openai:off", "openai:busy", "openai:old"]
    );
}

#[test]
fn unusable_profiles_go_last_for_every_source() {
    let fx = Fixture::new();
    let (store, state) = mixed_store();
    let mut state = state;
    state["order"] = json!({"openai": ["openai:busy", "openai:key", "openai:off", "openai:old"]});
    fx.state_db(&store, Some(&state));

    // A stored order keeps its sequence for usable profiles.
    let snap = open_auto(&fx.state_dir()).load().unwrap();
    let order = snap.effective_order_at("openai", NOW);
    assert!(matches!(order.source, OrderSource::Store { .. }));
    assert_eq!(
        order.ids,
        ["openai:key", "openai:old", "openai:off", "openai:busy"]
    );
    assert_eq!(
        snap.stored_order("openai").unwrap().0,
        ["openai:busy", "openai:key", "openai:off", "openai:old"]
    );

    // config auth.order: the same rule.
    state.as_object_mut().unwrap().remove("order");
    let fx2 = Fixture::new();
    fx2.state_db(&store, Some(&state));
    let config2 = fx2.state_dir().join("openclaw.json");
    fixtures::write_json(
        &config2,
        &json!({"auth": {"order": {"openai": ["openai:busy", "openai:tok", "openai:off"]}}}),
    );
    let order = open_auto(&fx2.state_dir())
        .load()
        .unwrap()
        .effective_order_at("openai", NOW);
    assert_eq!(order.source, OrderSource::ConfigOrder);
    assert_eq!(order.ids, ["openai:tok", "openai:off", "openai:busy"]);

    // config auth.profiles: sorted by mode like the automatic order, unusable last.
    fixtures::write_json(
        &config2,
        &json!({"auth": {"profiles": {
            "openai:busy": {"provider": "openai", "mode": "oauth"},
            "openai:key": {"provider": "openai", "mode": "api_key"},
            "openai:fresh": {"provider": "openai", "mode": "oauth"},
            "openai:old": {"provider": "openai", "mode": "oauth"}
        }}}),
    );
    let order = open_auto(&fx2.state_dir())
        .load()
        .unwrap()
        .effective_order_at("openai", NOW);
    assert_eq!(order.source, OrderSource::ConfigProfiles);
    assert_eq!(
        order.ids,
        ["openai:old", "openai:fresh", "openai:key", "openai:busy"]
    );
}

#[test]
fn orders_naming_missing_profiles() {
    let fx = Fixture::new();
    let (store, mut state) = mixed_store();
    // Missing ids are dropped and duplicates kept once.
    state["order"] = json!({"openai": ["openai:gone", "openai:tok", "openai:tok", "openai:key"]});
    fx.state_db(&store, Some(&state));
    let snap = open_auto(&fx.state_dir()).load().unwrap();
    assert_eq!(
        snap.effective_order_at("openai", NOW).ids,
        ["openai:tok", "openai:key"]
    );

    // Only missing ids: OpenClaw falls back to the automatic order.
    let fx = Fixture::new();
    state["order"] = json!({"openai": ["openai:gone", "openai:also-gone"]});
    fx.state_db(&store, Some(&state));
    let snap = open_auto(&fx.state_dir()).load().unwrap();
    let order = snap.effective_order_at("openai", NOW);
    assert_eq!(order.source, OrderSource::Automatic);
    assert_eq!(order.ids.len(), 7);
    assert_eq!(order.ids[0], "openai:old");
    assert_eq!(
        snap.stored_order("openai").unwrap().0,
        ["openai:gone", "openai:also-gone"]
    );
}

#[test]
fn overlay_merge_per_key_as_openclaw_does() {
    let fx = Fixture::new();
    let (store, state) = fixtures::state_db_example();
    fx.state_db(&store, Some(&state));
    // The overlay has its own profile, no order, an unreadable lastGood and a usageStats
    // entry with nothing OpenClaw reads for alice, a real one for bob.
    fx.agent_db(
        "main",
        Some(
            &json!({"version": 1, "profiles": {"openai:carol@example.com": oauth("carol", LATER)}}),
        ),
        Some(&json!({"version": 1,
        "lastGood": {"openai": ""},
        "usageStats": {
            "openai:alice@example.com": {"note": "kept but not read"},
            "openai:bob@example.com": {"errorCount": 9}
        }})),
    );
    let store = open_auto(&fx.state_dir());
    assert_eq!(store.layers().len(), 2);
    let snap = store.load().unwrap();
    // The overlay's profiles go in front of the shared order; the source is the shared layer.
    let order = snap.effective_order_at("openai", LATER);
    assert_eq!(
        order.ids,
        [
            "openai:carol@example.com",
            "openai:bob@example.com",
            "openai:alice@example.com"
        ]
    );
    match &order.source {
        OrderSource::Store { layer } => assert!(!layer.is_overlay()),
        other => panic!("unexpected source {other:?}"),
    }
    assert_eq!(
        snap.stored_order("openai").unwrap().0,
        ["openai:bob@example.com", "openai:alice@example.com"]
    );
    assert_eq!(
        snap.last_good("openai").as_deref(),
        Some("openai:bob@example.com")
    );
    assert_eq!(
        snap.usage_stats("openai:alice@example.com").last_used,
        Some(1_795_302_400_000)
    );
    assert_eq!(snap.usage_stats("openai:bob@example.com").error_count, 9);
    // bob's overlay entry replaces the shared one whole: its block is gone.
    assert_eq!(
        snap.usage_stats("openai:bob@example.com").blocked_until,
        None
    );
}

#[test]
fn an_overlay_last_good_naming_a_missing_profile_hides_the_shared_one() {
    let fx = Fixture::new();
    fx.state_db_from_example();
    fx.agent_db(
        "main",
        Some(&json!({"version": 1, "profiles": {}})),
        Some(&json!({"version": 1, "lastGood": {"openai": "openai:gone"}})),
    );
    let snap = open(&fx.state_dir(), "main", StoreChoice::Auto)
        .load()
        .unwrap();
    assert_eq!(snap.last_good("openai"), None);
}

#[test]
fn order_get_shows_the_order_the_gateway_tries() {
    let fx = Fixture::new();
    let now = chrono::Utc::now().timestamp_millis();
    let store = json!({"version": 1, "profiles": {
        "openai:a": oauth("a", now + 86_400_000),
        "openai:b": oauth("b", now + 86_400_000)
    }});
    let state = json!({"version": 1,
        "order": {"openai": ["openai:a", "openai:b"]},
        "usageStats": {"openai:a": {"cooldownUntil": now + 3_600_000}}});
    fx.state_db(&store, Some(&state));
    let run = cli::run(fx.home(), &[], &["order", "get", "--json"]);
    let doc = run.expect_code(0).json();
    // `order` is what is stored; `effective` what the gateway tries.
    assert_eq!(doc["order"], json!(["openai:a", "openai:b"]));
    assert_eq!(doc["effective"][0]["id"], "openai:b");
    assert_eq!(doc["effective"][1]["id"], "openai:a");
    assert_eq!(doc["source"], "store");
}
