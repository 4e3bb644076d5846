//! Reading every format: the reference examples, overlays, split json, config precedence,
//! detection, and the `profiles` / `order get` output.

use codex_profiler::engine::health::{TokenStatus, iso_ms};
use codex_profiler::engine::profile::{Fence, ProfileId, Provider};
use codex_profiler::engine::store::{LayerScope, OrderSource, StoreFormat};
use serde_json::json;

use super::open_auto;
use crate::support::cli;
use crate::support::fixtures::{self, Fixture, oauth_profile};

// A moment after every lastUsed in the examples and before bob's block/cooldown ends.
const NOW: i64 = 1_795_306_000_000;

fn id(s: &str) -> ProfileId {
    ProfileId::parse(s).unwrap()
}

#[test]
fn state_db_example_reads_profiles_order_last_good_and_health() {
    let fx = Fixture::new();
    let path = fx.state_db_from_example();
    let store = open_auto(&fx.state_dir());
    assert_eq!(store.info().format, StoreFormat::StateDb);
    assert_eq!(store.info().path, path);
    assert_eq!(store.codex_provider(), Provider::OpenAi);
    let snap = store.load().unwrap();
    assert_eq!(
        snap.codex_ids(),
        [id("openai:alice@example.com"), id("openai:bob@example.com")]
    );
    assert!(snap.skipped.is_empty());
    // The stored list is kept as stored; the gateway tries bob (blocked at NOW) last.
    assert_eq!(
        snap.stored_order("openai").unwrap().0,
        ["openai:bob@example.com", "openai:alice@example.com"]
    );
    let order = snap.effective_order_at("openai", NOW);
    assert_eq!(
        order.ids,
        ["openai:alice@example.com", "openai:bob@example.com"]
    );
    assert!(
        matches!(order.source, OrderSource::Store { ref layer } if layer.scope == LayerScope::Shared)
    );
    // Once bob's block has ended, the stored order applies as stored.
    assert_eq!(
        snap.effective_order_at("openai", 1_795_316_800_000).ids,
        ["openai:bob@example.com", "openai:alice@example.com"]
    );
    assert_eq!(
        snap.last_good("openai").as_deref(),
        Some("openai:bob@example.com")
    );

    let alice = snap.profile(&id("openai:alice@example.com")).unwrap();
    assert_eq!(alice.plan.as_deref(), Some("plus"));
    assert_eq!(
        alice.account_id.as_deref(),
        Some("11111111-aaaa-4bbb-8ccc-000000000001")
    );
    let h = snap.health(alice, NOW);
    assert_eq!(h.status, TokenStatus::Ok);
    assert!(h.in_order && !h.last_good);
    assert_eq!(h.last_used, iso_ms(1_795_302_400_000));

    let bob = snap.profile(&id("openai:bob@example.com")).unwrap();
    let h = snap.health(bob, NOW);
    assert!(h.last_good && h.in_order);
    assert_eq!(h.blocked_until, iso_ms(1_795_316_800_000));
    assert_eq!(h.error_count, 2);
    assert_eq!(h.fence, "none");
}

#[test]
fn legacy_json_example_reads_with_claims_from_the_token() {
    let fx = Fixture::new();
    fx.json_single("main", &fixtures::json_example());
    let store = open_auto(&fx.state_dir());
    assert_eq!(store.info().format, StoreFormat::Json);
    assert_eq!(store.codex_provider(), Provider::OpenAiCodex);
    let snap = store.load().unwrap();
    let bob = snap.profile(&id("openai-codex:bob@example.com")).unwrap();
    // The entry has no chatgptPlanType: it comes from the JWT.
    assert_eq!(bob.plan.as_deref(), Some("pro"));
    assert_eq!(bob.provider, Provider::OpenAiCodex);
    let h = snap.health(bob, NOW);
    assert_eq!(h.cooldown_until, iso_ms(1_795_306_600_000));
    assert!(h.last_good);
    // bob cools down until 1_795_306_600_000: last at NOW, first again afterwards.
    assert_eq!(
        snap.effective_order_at("openai-codex", NOW).ids,
        [
            "openai-codex:alice@example.com",
            "openai-codex:bob@example.com"
        ]
    );
    assert_eq!(
        snap.effective_order_at("openai-codex", 1_795_306_600_000)
            .ids,
        [
            "openai-codex:bob@example.com",
            "openai-codex:alice@example.com"
        ]
    );
}

#[test]
fn agent_overlay_order_wins_over_the_shared_store() {
    let fx = Fixture::new();
    fx.state_db_from_example();
    let overlay = fx.agent_db("main", None, Some(&fixtures::overlay_state_example()));
    let snap = open_auto(&fx.state_dir()).load().unwrap();
    let order = snap.effective_order_at("openai", NOW);
    assert_eq!(
        order.ids,
        ["openai:alice@example.com", "openai:bob@example.com"]
    );
    match order.source {
        OrderSource::Store { layer } => {
            assert_eq!(layer.path, overlay);
            assert!(layer.is_overlay());
        }
        other => panic!("unexpected source {other:?}"),
    }
    // lastGood and usageStats are not in the overlay: the shared ones still count.
    assert_eq!(
        snap.last_good("openai").as_deref(),
        Some("openai:bob@example.com")
    );
    assert_eq!(snap.usage_stats("openai:bob@example.com").error_count, 2);
}

#[test]
fn an_agent_db_without_a_store_row_is_not_an_overlay() {
    let fx = Fixture::new();
    fx.state_db_from_example();
    let db = fx.agent_db("main", None, Some(&fixtures::overlay_state_example()));
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute("DELETE FROM auth_profile_store", []).unwrap();
    drop(conn);
    let store = open_auto(&fx.state_dir());
    assert_eq!(store.layers().len(), 1);
    let (ids, layer) = store.load().unwrap().stored_order("openai").unwrap();
    assert_eq!(ids, ["openai:bob@example.com", "openai:alice@example.com"]);
    assert!(!layer.is_overlay());
}

#[test]
fn agent_db_shared_store_with_a_per_agent_overlay() {
    let fx = Fixture::new();
    let (store, state) = fixtures::state_db_example();
    let shared = fx.agent_db("main", Some(&store), Some(&state));
    // The overlay replaces bob's entry and alice's usage stats, key by key.
    let bob2 = oauth_profile(
        "openai",
        "bob@example.com",
        "acc-bob-2",
        "team",
        1_796_170_000_000,
    );
    fx.agent_db(
        "work",
        Some(&json!({"version": 1, "profiles": {"openai:bob@example.com": bob2}})),
        Some(&json!({"version": 1, "usageStats": {"openai:alice@example.com": {"errorCount": 7}}})),
    );
    let s = super::open(
        &fx.state_dir(),
        "work",
        codex_profiler::engine::store::StoreChoice::Auto,
    );
    assert_eq!(s.info().format, StoreFormat::AgentDb);
    assert_eq!(s.info().path, shared);
    assert_eq!(s.layers().len(), 2);
    let snap = s.load().unwrap();
    assert_eq!(
        snap.profile(&id("openai:bob@example.com"))
            .unwrap()
            .plan
            .as_deref(),
        Some("team")
    );
    assert_eq!(
        snap.profile(&id("openai:alice@example.com"))
            .unwrap()
            .plan
            .as_deref(),
        Some("plus")
    );
    assert_eq!(snap.usage_stats("openai:alice@example.com").error_count, 7);
    assert_eq!(snap.usage_stats("openai:bob@example.com").error_count, 2);
    assert_eq!(
        snap.last_good("openai").as_deref(),
        Some("openai:bob@example.com")
    );
}

#[test]
fn split_json_state_file_wins() {
    let fx = Fixture::new();
    fx.json_split(
        "main",
        &fixtures::json_example(),
        &json!({"version": 1, "order": {"openai-codex": ["openai-codex:alice@example.com"]}}),
    );
    let snap = open_auto(&fx.state_dir()).load().unwrap();
    assert_eq!(
        snap.effective_order("openai-codex").ids,
        ["openai-codex:alice@example.com"]
    );
    // Keys the state file lacks still come from the profiles file.
    assert_eq!(
        snap.last_good("openai-codex").as_deref(),
        Some("openai-codex:bob@example.com")
    );
}

#[test]
fn config_order_and_config_profiles_apply_when_nothing_is_stored() {
    let fx = Fixture::new();
    let (store, _) = fixtures::state_db_example();
    fx.state_db(&store, None);
    let snap = open_auto(&fx.state_dir()).load().unwrap();
    assert_eq!(
        snap.effective_order("openai").source,
        OrderSource::Automatic
    );
    assert_eq!(snap.effective_order("openai").ids.len(), 2);

    fixtures::write_json(
        &fx.state_dir().join("openclaw.json"),
        &json!({"auth": {"profiles": {"openai:bob@example.com": {"provider": "openai", "mode": "oauth"}}}}),
    );
    let snap = open_auto(&fx.state_dir()).load().unwrap();
    let order = snap.effective_order("openai");
    assert_eq!(order.source, OrderSource::ConfigProfiles);
    assert_eq!(order.ids, ["openai:bob@example.com"]);
    let alice = snap.profile(&id("openai:alice@example.com")).unwrap();
    assert!(!snap.health(alice, NOW).in_order);

    fixtures::write_json(
        &fx.state_dir().join("openclaw.json"),
        &json!({"auth": {"order": {"openai": ["openai:alice@example.com"]}, "profiles": {"openai:bob@example.com": {}}}}),
    );
    let order = open_auto(&fx.state_dir())
        .load()
        .unwrap()
        .effective_order("openai");
    assert_eq!(order.source, OrderSource::ConfigOrder);
    assert_eq!(order.ids, ["openai:alice@example.com"]);
}

#[test]
fn fences_and_malformed_entries() {
    let fx = Fixture::new();
    let fence = "openclaw-oauth-refresh-fence:v1:0123456789abcdef0123456789abcdef";
    let hex64 = "ab".repeat(32);
    fx.state_db(
        &json!({"version": 1, "profiles": {
            "openai:refreshing": {"type": "oauth", "provider": "openai", "access": format!("{fence}:access:{hex64}"), "refresh": format!("{fence}:refresh:{hex64}"), "expires": 1},
            "openai:failed": {"type": "oauth", "provider": "openai", "access": format!("{fence}:failed:access:{hex64}"), "refresh": format!("{fence}:failed:refresh:{hex64}"), "expires": 1},
            "openai:broken": {"type": "oauth", "provider": "openai", "access": 12, "expires": "soon"},
            "openai:ok": oauth_profile("openai", "ok@example.com", "acc", "plus", NOW + 3_600_000),
        }}),
        None,
    );
    let snap = open_auto(&fx.state_dir()).load().unwrap();
    assert_eq!(snap.codex.len(), 3);
    assert_eq!(snap.skipped.len(), 1);
    assert_eq!(snap.skipped[0].id, "openai:broken");
    assert_eq!(
        snap.profile(&id("openai:refreshing")).unwrap().fence,
        Fence::Refreshing
    );
    let failed = snap.profile(&id("openai:failed")).unwrap();
    assert_eq!(snap.health(failed, NOW).status, TokenStatus::RefreshFailed);
    assert_eq!(
        snap.health(snap.profile(&id("openai:ok")).unwrap(), NOW)
            .status,
        TokenStatus::Expiring
    );
}

#[test]
fn profiles_command_json_and_text_hold_no_token() {
    let fx = Fixture::new();
    fx.state_db_from_example();
    let (store, _) = fixtures::state_db_example();
    let tokens = fixtures::tokens_of(&store);
    let secrets: Vec<&str> = tokens.iter().map(String::as_str).collect();

    let run = cli::run(fx.home(), &[], &["--json", "profiles"]);
    run.expect_code(0).assert_no_secret(&secrets);
    let doc = run.json();
    assert_eq!(doc["ok"], true);
    assert_eq!(doc["store"]["format"], "state-db");
    assert_eq!(
        doc["store"]["path"],
        fx.state_db_path().to_string_lossy().as_ref()
    );
    let p = &doc["profiles"][1];
    assert_eq!(p["id"], "openai:bob@example.com");
    assert_eq!(p["provider"], "openai");
    assert_eq!(p["email"], "bob@example.com");
    assert_eq!(p["plan"], "pro");
    assert_eq!(p["account_id"], "22222222-aaaa-4bbb-8ccc-000000000002");
    assert_eq!(p["local"]["last_good"], true);
    assert_eq!(p["local"]["in_order"], true);
    assert_eq!(p["local"]["error_count"], 2);
    assert_eq!(p["local"]["fence"], "none");
    assert_eq!(doc["skipped"], json!([]));

    let run = cli::run(fx.home(), &[], &["profiles"]);
    run.expect_code(0).assert_no_secret(&secrets);
    assert!(
        run.stdout.contains("openai:alice@example.com"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("LASTGOOD"));
    assert!(run.stdout.contains("store: state-db"));
}

#[test]
fn order_get_names_the_layer() {
    let fx = Fixture::new();
    fx.state_db_from_example();
    let overlay = fx.agent_db("main", None, Some(&fixtures::overlay_state_example()));
    let run = cli::run(fx.home(), &[], &["order", "get", "--json"]);
    let doc = run.expect_code(0).json();
    assert_eq!(doc["provider"], "openai");
    assert_eq!(
        doc["order"],
        json!(["openai:alice@example.com", "openai:bob@example.com"])
    );
    assert_eq!(doc["source"], "store");
    assert_eq!(doc["layer"]["scope"], "overlay");
    assert_eq!(doc["layer"]["path"], overlay.to_string_lossy().as_ref());
    assert_eq!(doc["last_good"], "openai:bob@example.com");

    let run = cli::run(
        fx.home(),
        &[("OPENCLAW_STATE_DIR", &fx.state_arg())],
        &["order", "get", "--provider", "anthropic"],
    );
    run.expect_code(0);
    assert!(run.stdout.contains("automatic"), "{}", run.stdout);
}

#[test]
fn forced_formats_and_auth_path() {
    let fx = Fixture::new();
    fx.state_db_from_example();
    let run = cli::run(
        fx.home(),
        &[],
        &["--store", "agent-db", "--json", "profiles"],
    );
    assert_eq!(run.expect_code(1).json()["error"], "store_missing");
    // --store json beside a database store: refused, nothing created.
    let run = cli::run(fx.home(), &[], &["--store", "json", "profiles"]);
    run.expect_code(1);
    assert!(run.stderr.contains("database store"), "{}", run.stderr);
    assert!(!fx.json_path("main").exists());
    let other = fx.home().join("elsewhere.json");
    fixtures::write_json(&other, &fixtures::json_example());
    let run = cli::run(
        fx.home(),
        &[],
        &["--auth-path", other.to_str().unwrap(), "--json", "profiles"],
    );
    let doc = run.expect_code(0).json();
    assert_eq!(doc["store"]["format"], "json");
    assert_eq!(doc["profiles"].as_array().unwrap().len(), 2);
}

#[test]
fn fresh_install_is_a_state_db_store_with_nothing_in_it() {
    let fx = Fixture::new();
    fx.fresh_state_db();
    fx.agent_db("main", None, None);
    let store = open_auto(&fx.state_dir());
    assert_eq!(store.info().format, StoreFormat::StateDb);
    assert!(store.load().unwrap().codex.is_empty());
    assert_eq!(
        fx.state_db_cells(),
        (None, None, None),
        "reading wrote nothing"
    );
}
