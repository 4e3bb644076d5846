//! Interop with the real OpenClaw 2026.9.6 CLI. Each `openclaw` call costs several seconds, so
//! the checks are grouped into a few scenarios that share one scratch home each.

use std::path::Path;

use codex_profiler::engine::profile::ProfileId;
use codex_profiler::engine::store::{Change, Store, StoreChoice, StoreFormat, StoreOptions};
use serde_json::{Value, json};

use crate::support::cli;
use crate::support::fixtures::{Fixture, oauth_profile};
use crate::support::oauth_server::{self, Account};
use crate::support::openclaw::openclaw;

const FAR_FUTURE_MS: i64 = 1_900_000_000_000;

fn open(state_dir: &Path) -> Store {
    Store::open(StoreOptions {
        state_dir: state_dir.to_path_buf(),
        agent: "main".into(),
        choice: StoreChoice::Auto,
        auth_path: None,
    })
    .expect("open the store OpenClaw created")
}

/// OpenClaw shows instants as ISO 8601 strings (`2030-03-17T17:46:40.000Z`).
fn instant_ms(v: &Value) -> i64 {
    let s = v
        .as_str()
        .unwrap_or_else(|| panic!("not an ISO instant: {v}"));
    chrono::DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("not an ISO instant {s}: {e}"))
        .timestamp_millis()
}

fn listed<'a>(list: &'a Value, id: &str) -> &'a Value {
    list["profiles"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["id"] == id))
        .unwrap_or_else(|| panic!("openclaw does not list {id}: {list:#}"))
}

/// The store engine against a state-db store that OpenClaw itself created:
/// - a profile OpenClaw pasted is read by us (and survives our write);
/// - a Codex profile our engine writes is listed by `openclaw models auth list --json` with the
///   right id, provider, type, email and expiry;
/// - a login finished with `codex-profiler auth finish` is listed with its email and expiry, and
///   `openclaw models status --json` reports it `ok` (issue 3);
/// - after `openclaw models auth order set`, our `order get` agrees with OpenClaw's.
#[test]
fn state_db_store_round_trips_with_openclaw() {
    let claw = openclaw();
    let fx = Fixture::new();
    let home = fx.home();

    // OpenClaw creates the store on a fresh home (state-db, auth.sharedStore set).
    claw.run(
        home,
        &[
            "models",
            "auth",
            "paste-token",
            "--provider",
            "openai",
            "--profile-id",
            "openai:pasted",
        ],
        Some("eyJhbGciOiJub25lIn0.eyJleHAiOjE5MDAwMDAwMDB9.interop\n"),
    )
    .ok();

    let store = open(&fx.state_dir());
    assert_eq!(store.info().format, StoreFormat::StateDb);
    let before = store.load().expect("load");
    assert!(
        before
            .all_profile_ids()
            .contains(&"openai:pasted".to_string())
    );
    assert_eq!(
        before.raw_profile("openai:pasted").expect("pasted")["type"],
        "token"
    );
    assert!(
        before.codex.is_empty(),
        "a pasted token is not a Codex OAuth profile"
    );

    // Our engine writes a Codex profile.
    let id = ProfileId::parse("openai:alice@example.com").expect("id");
    let profile = oauth_profile(
        "openai",
        "alice@example.com",
        "acct-alice",
        "plus",
        FAR_FUTURE_MS,
    );
    let Value::Object(fields) = profile else {
        panic!("profile is an object")
    };
    let applied = store
        .apply(&Change::UpsertProfile {
            id: id.clone(),
            fields,
        })
        .expect("write");
    assert_eq!(applied.written.len(), 1);
    assert!(
        applied.after.raw_profile("openai:pasted").is_some(),
        "the pasted profile survives"
    );

    // A login finished through our CLI against a loopback issuer is written the same way.
    let issuer = oauth_server::spawn();
    issuer.set_account(Account::new("acct-bob-0002", "bob@example.com", "pro"));
    let env = [("CODEX_PROFILER_AUTH_ISSUER", issuer.issuer_url.as_str())];
    let state_arg = fx.state_arg();
    let started = cli::run(
        home,
        &env,
        &[
            "--state-dir",
            &state_arg,
            "--json",
            "auth",
            "start",
            "--profile",
            "bob@example.com",
        ],
    );
    started.expect_code(0);
    let callback = issuer.approve(
        started.json()["authorize_url"]
            .as_str()
            .expect("authorize_url"),
    );
    let finished = cli::run(
        home,
        &env,
        &[
            "--state-dir",
            &state_arg,
            "--json",
            "auth",
            "finish",
            "--profile",
            "bob@example.com",
            "--callback-url",
            &callback,
        ],
    );
    finished.expect_code(0);
    let secrets = issuer.secrets();
    let secrets: Vec<&str> = secrets
        .iter()
        .map(String::as_str)
        .chain([callback.as_str()])
        .collect();
    finished.assert_no_secret(&secrets);
    let bob_expires = open(&fx.state_dir())
        .load()
        .expect("load")
        .raw_profile("openai:bob@example.com")
        .and_then(|p| p["expires"].as_i64())
        .expect("bob stored with an expiry");

    // `auth.profiles` (added by paste-token) would hide our profiles from OpenClaw's automatic
    // selection, which `models status` reports on: remove it, as a gateway owner would.
    let config_path = fx.state_dir().join("openclaw.json");
    let mut config: Value =
        serde_json::from_slice(&std::fs::read(&config_path).expect("config")).expect("config JSON");
    config["auth"]
        .as_object_mut()
        .expect("auth")
        .remove("profiles");
    std::fs::write(
        &config_path,
        serde_json::to_vec_pretty(&config).expect("ser"),
    )
    .expect("write config");

    // OpenClaw reads what we wrote. `auth.profiles` in openclaw.json (added by paste-token) does
    // not filter `auth list`, which lists every stored profile.
    let list = claw
        .run(home, &["models", "auth", "list", "--json"], None)
        .ok()
        .json();
    let alice = listed(&list, "openai:alice@example.com");
    assert_eq!(alice["provider"], "openai");
    assert_eq!(alice["type"], "oauth");
    assert_eq!(alice["email"], "alice@example.com");
    assert_eq!(instant_ms(&alice["expiresAt"]), FAR_FUTURE_MS, "{alice:#}");
    assert_eq!(listed(&list, "openai:pasted")["type"], "token");
    let bob = listed(&list, "openai:bob@example.com");
    assert_eq!(
        (bob["provider"].as_str(), bob["type"].as_str()),
        (Some("openai"), Some("oauth"))
    );
    assert_eq!(bob["email"], "bob@example.com");
    assert_eq!(instant_ms(&bob["expiresAt"]), bob_expires);

    // ... and considers the logged-in profile healthy.
    let status = claw
        .run(home, &["models", "status", "--json"], None)
        .ok()
        .json();
    let oauth_profiles = status["auth"]["oauth"]["profiles"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let bob_status = oauth_profiles
        .iter()
        .find(|p| p["profileId"] == "openai:bob@example.com")
        .unwrap_or_else(|| panic!("models status does not report bob: {status:#}"));
    assert_eq!(bob_status["status"], "ok", "{bob_status:#}");

    // OpenClaw writes an order (into the agent's own overlay database); we agree on it.
    claw.run(
        home,
        &[
            "models",
            "auth",
            "order",
            "set",
            "--provider",
            "openai",
            "openai:alice@example.com",
            "openai:pasted",
        ],
        None,
    )
    .ok();
    let theirs = claw.openai_order(home);
    let ours = cli::run(
        home,
        &[],
        &[
            "--state-dir",
            &fx.state_arg(),
            "--json",
            "order",
            "get",
            "--provider",
            "openai",
        ],
    );
    ours.expect_code(0);
    let ours = ours.json();
    assert_eq!(
        ours["order"], theirs["order"],
        "ours: {ours:#}\ntheirs: {theirs:#}"
    );
    assert_eq!(
        theirs["order"],
        json!(["openai:alice@example.com", "openai:pasted"])
    );
    assert!(
        ours.to_string().contains("agent-db") || ours.to_string().contains("overlay"),
        "our order get names the overlay layer it came from: {ours:#}"
    );
}
