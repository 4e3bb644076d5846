//! `layers` and `doctor`: a fixture for every layer disagreement and every doctor finding,
//! checked through the CLI (`--json` and text), with no token in any output.

use rusqlite::Connection;

use super::*;
use crate::support::fixtures::{json_example, oauth_profile, write_json};

const FAR: i64 = 4_102_444_800_000; // 2100-01-01

fn profile(id: &str, email: &str, account: &str) -> Value {
    let provider = id.split(':').next().unwrap();
    oauth_profile(provider, email, account, "plus", FAR)
}

fn pin(db: &Path, key: &str, profile: &str, source: &str) {
    let conn = Connection::open(db).unwrap();
    let entry = json!({"sessionId": "s", "authProfileOverride": profile, "authProfileOverrideSource": source});
    conn.execute(
        "INSERT INTO session_nodes (session_key, current_session_id, entry_json, updated_at) VALUES (?1, ?2, ?3, ?4)",
        rusqlite::params![key, format!("sid-{key}"), entry.to_string(), 1_i64],
    )
    .unwrap();
}

fn layers_json(fx: &Fixture, extra: &[&str], env: &[(&str, &str)]) -> Value {
    let state = fx.state_arg();
    let mut args = vec!["--state-dir", state.as_str(), "--json", "layers"];
    args.extend_from_slice(extra);
    let run = cli::run(fx.home(), env, &args);
    run.expect_code(0);
    no_leak(fx, &run);
    run.json()
}

fn has(dis: &Value, needle: &str) -> bool {
    dis.as_array()
        .unwrap()
        .iter()
        .any(|d| d.as_str().unwrap().contains(needle))
}

#[test]
fn layers_name_every_disagreement_of_orders_sessions_usage_and_labels() {
    let fx = Fixture::new();
    let store = json!({"version": 1, "profiles": {
        "openai:alice@example.com": profile("openai:a", "alice@example.com", "A"),
        "openai:bob@example.com": profile("openai:b", "bob@example.com", "B"),
        "openai:carol@example.com": profile("openai:c", "dave@example.com", "C"),
        "openai-codex:legacy@example.com": profile("openai-codex:l", "legacy@example.com", "L"),
    }});
    let shared = json!({"version": 1, "order": {"openai": ["openai:bob@example.com"]},
        "lastGood": {"openai": "openai:carol@example.com"},
        "usageStats": {"openai:alice@example.com": {"cooldownUntil": FAR, "cooldownReason": "rate_limit"}}});
    fx.state_db(&store, Some(&shared));
    let overlay = json!({"version": 1, "order": {"openai": [
        "openai:alice@example.com", "openai:bob@example.com", "openai:ghost"]}});
    let db = fx.agent_db("main", None, Some(&overlay));
    pin(
        &db,
        "agent:main:telegram:1",
        "openai:carol@example.com",
        "user",
    );
    pin(&db, "agent:main:ghost", "openai:ghost", "auto");
    pin(
        &db,
        "agent:main:legacy",
        "openai-codex:legacy@example.com",
        "user-link",
    );

    let out = layers_json(&fx, &["--session-key", "agent:main:legacy"], &[]);
    let rows = out["layers"].as_array().unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r["layer"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "stored_preference",
            "auth_order",
            "session_override",
            "effective_runtime_profile",
            "usage_source_profile",
            "display_label",
            "external_repo"
        ]
    );
    assert_eq!(rows[0]["profile"], "openai:alice@example.com");
    assert_eq!(
        rows[1]["profile"], "openai:bob@example.com",
        "alice is cooling down"
    );
    assert_eq!(rows[2]["profile"], "openai-codex:legacy@example.com");
    assert!(
        rows[2]["source"]
            .as_str()
            .unwrap()
            .contains("session_nodes")
    );
    assert_eq!(rows[3]["profile"], "openai-codex:legacy@example.com");
    assert_eq!(rows[4]["profile"], "openai:bob@example.com");
    let dis = &out["disagreements"];
    for needle in [
        "an order is stored in more than one layer",
        "openai:alice@example.com is in the order but unusable until",
        "the stored order names openai:ghost, which is not in the store",
        "lastGood is openai:carol@example.com, which is not in the auth order",
        "the stored order prefers openai:alice@example.com but the gateway will try openai:bob@example.com first",
        "session agent:main:ghost pins openai:ghost, which is not in the store",
        "the session runs on its override openai-codex:legacy@example.com while the auth order starts with openai:bob@example.com",
        "usage is read from openai:bob@example.com while the runtime profile is openai-codex:legacy@example.com",
        "profile openai:carol@example.com is labelled carol@example.com but holds the account of dave@example.com",
    ] {
        assert!(has(dis, needle), "missing {needle:?} in {dis:#}");
    }

    // The text form says the same in words.
    let text = cli(&fx, &["layers", "--session-key", "agent:main:telegram:1"]);
    text.expect_code(0);
    assert!(text.stdout.contains("Disagreements:"));
    assert!(
        text.stdout
            .contains("session agent:main:telegram:1 pins openai:carol@example.com (source: user)")
    );
}

#[test]
fn layers_show_config_hiding_old_session_files_and_the_codex_cli_login() {
    let fx = Fixture::new();
    let store = json!({"version": 1, "profiles": {
        "openai:alice@example.com": profile("openai:a", "alice@example.com", "A"),
        "openai:bob@example.com": profile("openai:b", "bob@example.com", "B"),
    }});
    fx.state_db(&store, Some(&json!({"version": 1})));
    write_json(
        &fx.state_dir().join("openclaw.json"),
        &json!({"auth": {"profiles": {"openai:alice@example.com": {"provider": "openai", "mode": "oauth"}}}}),
    );
    write_json(
        &fx.state_dir().join("agents/main/sessions/sessions.json"),
        &json!({"old-key": {"authProfileOverride": "openai:bob@example.com", "authProfileOverrideSource": "user"}}),
    );
    let codex_home = fx.home().join("codex");
    let codex = profile("openai:x", "zed@example.com", "Z");
    write_json(
        &codex_home.join("auth.json"),
        &json!({"auth_mode": "chatgpt", "tokens": {"access_token": codex["access"], "refresh_token": "rt_CODEXCLI_SECRET", "account_id": "99999999-aaaa-4bbb-8ccc-000000000099"}}),
    );
    let out = layers_json(
        &fx,
        &["--session-key", "old-key"],
        &[("CODEX_HOME", codex_home.to_str().unwrap())],
    );
    let rows = out["layers"].as_array().unwrap();
    assert_eq!(rows[1]["profile"], "openai:alice@example.com");
    assert!(
        rows[1]["source"]
            .as_str()
            .unwrap()
            .contains("auth.profiles")
    );
    assert_eq!(rows[2]["source"], "sessions/sessions.json");
    assert_eq!(rows[3]["profile"], "openai:bob@example.com");
    let external = rows[6]["detail"].as_str().unwrap();
    assert!(external.contains("zed@example.com"), "{external}");
    // Account ids are shown short, as in every other output.
    assert!(external.contains("(account 9999…0099)"), "{external}");
    assert!(!external.contains("99999999-aaaa"), "{external}");
    let dis = &out["disagreements"];
    assert!(
        has(
            dis,
            "openclaw.json auth.profiles lists only openai:alice@example.com, which hides the stored profiles openai:bob@example.com"
        ),
        "{dis:#}"
    );
    assert!(
        has(
            dis,
            "the Codex CLI's login is not among the stored profiles: `codex-profiler auth start --profile zed@example.com`"
        ),
        "{dis:#}"
    );
    assert!(!out.to_string().contains("rt_CODEXCLI_SECRET"));
}

fn doctor(fx: &Fixture) -> (i32, Value) {
    let run = cli(fx, &["--json", "doctor"]);
    no_leak(fx, &run);
    let text = cli(fx, &["doctor"]);
    assert_eq!(text.code, run.code);
    (run.code, run.json())
}

fn codes(v: &Value) -> Vec<(String, String)> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_owned(),
                f["severity"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn doctor_is_healthy_on_a_clean_store() {
    let fx = example_store(Format::StateDb);
    let (code, out) = doctor(&fx);
    assert_eq!(code, 0, "{out:#}");
    assert_eq!(out["healthy"], true);
}

#[test]
fn doctor_finds_every_mixed_state() {
    let fx = Fixture::new();
    let mut failed = profile("openai:f", "f@example.com", "F");
    failed["access"] = json!("openclaw-oauth-refresh-fence:v1:failed:x");
    failed["refresh"] = json!("openclaw-oauth-refresh-fence:v1:failed:x");
    failed["expires"] = json!(1);
    let store = json!({"version": 1, "profiles": {
        "openai:alice@example.com": profile("openai:a", "alice@example.com", "A"),
        "openai:alice-copy": profile("openai:a", "alice@example.com", "A"),
        "openai:alice-team": profile("openai:a", "alice@example.com", "T"),
        "openai:bob@example.com": profile("openai:b", "bob@example.com", "B"),
        "openai-codex:old@example.com": profile("openai-codex:o", "old@example.com", "O"),
        "openai:failed": failed,
    }});
    let state = json!({"version": 1,
        "order": {"openai": ["openai:alice@example.com", "openai:ghost"]},
        "usageStats": {"openai:bob@example.com": {"cooldownUntil": 1000, "cooldownReason": "rate_limit"}}});
    fx.state_db(&store, Some(&state));
    fx.json_single("main", &json_example());
    let (code, out) = doctor(&fx);
    assert_eq!(code, 1);
    let got = codes(&out);
    for (c, sev) in [
        ("legacy_json_beside_database", "action"),
        ("unmigrated_openai_codex_ids", "action"),
        ("order_points_nowhere", "action"),
        ("same_account_two_ids", "info"),
        ("same_email_different_workspaces", "info"),
        ("stale_cooldown", "info"),
        ("failed_refresh_fence", "action"),
    ] {
        assert!(
            got.contains(&(c.into(), sev.into())),
            "missing {c} in {got:?}"
        );
    }
    for f in out["findings"].as_array().unwrap() {
        assert!(!f["meaning"].as_str().unwrap().is_empty());
        if f["severity"] == "action" {
            assert!(f["fix"].is_string(), "{f:#}");
        }
    }

    // Config `auth.profiles` hiding stored profiles (needs no stored order).
    let fx = Fixture::new();
    let store = json!({"version": 1, "profiles": {
        "openai:alice@example.com": profile("openai:a", "alice@example.com", "A"),
        "openai:bob@example.com": profile("openai:b", "bob@example.com", "B"),
    }});
    fx.state_db(&store, None);
    write_json(
        &fx.state_dir().join("openclaw.json"),
        &json!({"auth": {"profiles": {"openai:alice@example.com": {"provider": "openai", "mode": "oauth"}}}}),
    );
    let (code, out) = doctor(&fx);
    assert_eq!(code, 1);
    assert!(codes(&out).contains(&("config_profiles_hide_stored".into(), "action".into())));

    // Config `auth.order` naming a missing profile, and a refresh in flight.
    let fx = Fixture::new();
    let mut busy = profile("openai:b", "bob@example.com", "B");
    busy["access"] = json!("openclaw-oauth-refresh-fence:v1:abc");
    busy["expires"] = json!(1);
    let store = json!({"version": 1, "profiles": {
        "openai:alice@example.com": profile("openai:a", "alice@example.com", "A"),
        "openai:bob@example.com": busy,
    }});
    fx.state_db(&store, None);
    write_json(
        &fx.state_dir().join("openclaw.json"),
        &json!({"auth": {"order": {"openai": ["openai:alice@example.com", "openai:ghost"]}}}),
    );
    let (code, out) = doctor(&fx);
    assert_eq!(code, 1);
    let got = codes(&out);
    assert!(
        got.contains(&("config_order_points_nowhere".into(), "action".into())),
        "{got:?}"
    );
    assert!(
        got.contains(&("refresh_in_progress".into(), "info".into())),
        "{got:?}"
    );

    // No store at all: one clear finding, exit 1.
    let fx = Fixture::new();
    let (code, out) = doctor(&fx);
    assert_eq!(code, 1);
    assert_eq!(
        codes(&out),
        [("store_unreadable".to_owned(), "action".to_owned())]
    );
    assert!(
        out["findings"][0]["fix"]
            .as_str()
            .unwrap()
            .contains("openclaw doctor")
    );
}
