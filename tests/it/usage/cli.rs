//! The `usage` command end to end: the real binary against a state-db store in a tempdir and
//! the loopback usage server, with `RUST_LOG=debug` so the secret checks cover log lines.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::support::cli::{self, Run};
use crate::support::usage_server::{self, Reply, UsageServer, full_payload};

const DAY_MS: i64 = 86_400_000;

/// Opaque tokens the scrubber would not recognise: a leak must show up as itself.
pub(super) fn access(name: &str) -> String {
    format!("tok-usage-{name}-8f3a9c2b7d41e6")
}
fn refresh(name: &str) -> String {
    format!("refresh-usage-{name}-5b2e9d0c71a4")
}

const NAMES: [&str; 6] = ["alice", "bob", "carol", "dave", "erin", "frank"];

pub(super) fn secrets() -> Vec<String> {
    NAMES.iter().flat_map(|n| [access(n), refresh(n)]).collect()
}

/// A state-db store as OpenClaw 2026.9.6 keeps it: alice (full usage), bob (429), carol (401),
/// dave (expired locally), erin (refresh in flight), frank (500 then success), and one
/// non-Codex profile.
pub(super) fn state_db(dir: &Path) -> PathBuf {
    let now = chrono::Utc::now().timestamp_millis();
    let oauth = |name: &str, expires: i64| {
        json!({"type": "oauth", "provider": "openai", "email": format!("{name}@example.com"),
            "access": access(name), "refresh": refresh(name),
            "accountId": format!("acct-{name}"), "chatgptPlanType": "plus", "expires": expires})
    };
    let fence = "openclaw-oauth-refresh-fence:v1:0123456789abcdef0123456789abcdef:access:\
                 0000000000000000000000000000000000000000000000000000000000000000";
    let mut profiles = serde_json::Map::new();
    for n in ["alice", "bob", "carol", "frank"] {
        profiles.insert(
            format!("openai:{n}@example.com"),
            oauth(n, now + 5 * DAY_MS),
        );
    }
    profiles.insert(
        "openai:dave@example.com".into(),
        oauth("dave", now - DAY_MS),
    );
    let mut erin = oauth("erin", 1);
    erin["access"] = json!(fence);
    profiles.insert("openai:erin@example.com".into(), erin);
    profiles.insert(
        "anthropic:default".into(),
        json!({"type": "api_key", "provider": "anthropic", "key": "sk-ant-not-codex"}),
    );
    let store = json!({"version": 1, "profiles": profiles});
    let state = json!({"version": 1, "order": {"openai": ["openai:alice@example.com"]},
        "lastGood": {"openai": "openai:alice@example.com"}, "usageStats": {}});
    let db = dir.join("state").join("openclaw.sqlite");
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(
        "CREATE TABLE config_machine_state (state_key TEXT NOT NULL PRIMARY KEY, \
         value_json TEXT NOT NULL, updated_at_ms INTEGER NOT NULL) STRICT;",
    )
    .unwrap();
    for (k, v) in [
        ("auth.sharedStore", json!({"location": "state-db"})),
        ("authProfiles.store", store),
        ("authProfiles.state", state),
    ] {
        conn.execute(
            "INSERT INTO config_machine_state (state_key, value_json, updated_at_ms) VALUES (?1, ?2, ?3)",
            rusqlite::params![k, v.to_string(), now],
        )
        .unwrap();
    }
    db
}

pub(super) fn server() -> UsageServer {
    usage_server::spawn([
        (access("alice").as_str(), Reply::Json(full_payload())),
        (access("bob").as_str(), Reply::Status(429)),
        (access("carol").as_str(), Reply::Status(401)),
        (
            access("frank").as_str(),
            Reply::Sequence(vec![Reply::Status(500), Reply::Json(full_payload())]),
        ),
    ])
}

/// Every file under `dir` with its bytes, except codex-profiler's own folder.
pub(super) use crate::support::fixtures::gateway_files as tree;

pub(super) fn usage(home: &Path, url: &str, args: &[&str]) -> Run {
    let state = home.join("state-dir");
    let mut all = vec!["--state-dir", state.to_str().unwrap()];
    all.extend_from_slice(args);
    let r = cli::run(home, &[("CODEX_PROFILER_USAGE_URL", url)], &all);
    let s = secrets();
    r.assert_no_secret(&s.iter().map(String::as_str).collect::<Vec<_>>());
    r
}

pub(super) fn setup() -> (tempfile::TempDir, UsageServer) {
    let home = tempfile::tempdir().unwrap();
    state_db(&home.path().join("state-dir"));
    (home, server())
}

/// The entry of `openai:<name>@example.com` in a `usage --json` document.
pub(super) fn entry<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["profile"] == format!("openai:{name}@example.com"))
        .unwrap_or_else(|| panic!("{name} missing"))
}

#[test]
fn json_document_classes_and_read_only() {
    let (home, server) = setup();
    let before = tree(&home.path().join("state-dir"));
    let r = usage(
        home.path(),
        &server.url,
        &["usage", "--format", "json", "--timeout-sec", "2"],
    );
    r.expect_code(0);
    assert_eq!(
        tree(&home.path().join("state-dir")),
        before,
        "the store changed"
    );
    let doc = r.json();
    assert_eq!(doc["ok"], true);
    assert_eq!(doc["store"]["format"], "state-db");
    assert!(
        doc["store"]["path"]
            .as_str()
            .unwrap()
            .ends_with("openclaw.sqlite")
    );
    assert_eq!(doc["remote_endpoint"], server.url);
    assert_eq!(doc["profiles"].as_array().unwrap().len(), 6);
    assert_eq!(
        doc["summary"],
        json!({"profiles_checked": 6, "remote_ok_count": 2, "remote_failed_count": 4,
            "usable_count": 2, "limited_count": 0})
    );
    let alice = entry(&doc, "alice");
    assert_eq!(alice["remote_usage_ok"], true);
    assert_eq!(alice["remote_usage"]["credits_balance"], json!(17.5));
    assert_eq!(
        alice["remote_usage"]["windows"][0]["remaining_percent"],
        json!(42.0)
    );
    assert_eq!(alice["local"]["in_order"], true);
    assert_eq!(alice["local"]["last_good"], true);
    assert_eq!(entry(&doc, "bob")["remote_error"], "rate_limited");
    let carol = entry(&doc, "carol");
    assert_eq!(carol["remote_error"], "auth_not_accepted_by_usage_endpoint");
    assert_eq!(carol["remote_status"], 401);
    assert!(carol["remote_hint"].is_string());
    assert_eq!(carol["local"]["status"], "ok");
    assert_eq!(entry(&doc, "dave")["remote_error"], "token_expired_locally");
    assert_eq!(entry(&doc, "erin")["remote_error"], "refresh_in_progress");
    assert_eq!(entry(&doc, "erin")["local"]["fence"], "refreshing");
    assert_eq!(entry(&doc, "frank")["remote_usage_ok"], true);
    assert!(entry(&doc, "frank").get("attempts").is_none());
    assert_eq!(server.hits(&access("dave")), 0);
    assert_eq!(server.hits(&access("erin")), 0);
    assert_eq!(server.hits(&access("frank")), 2);
    assert_eq!(doc["formatted_profiles"].as_array().unwrap().len(), 6);
    assert_eq!(doc["progress_message"], "Running Codex usage check…");
    assert!(
        doc["suggested_user_message"]
            .as_str()
            .unwrap()
            .contains("bob@example.com · ⚠ rate limited (429)")
    );
}

#[test]
fn text_lines_debug_and_json_flag() {
    let (home, server) = setup();
    let r = usage(home.path(), &server.url, &["usage", "--timeout-sec", "2"]);
    r.expect_code(0);
    // The usage lines and the summary; the forecast follows them (see `history.rs`).
    // Each reset is shown in the zone too (`resets 14:25 IST, in 2h 13m`): compared in the
    // relative form here, in the zone in `present.rs`.
    let shown = usage_server::relative_resets(&r.stdout);
    let lines: Vec<&str> = shown
        .lines()
        .take_while(|l| !l.starts_with("Forecast"))
        .collect();
    assert_eq!(lines.len(), 7, "{}", r.stdout);
    assert_eq!(
        lines[0],
        "alice@example.com · plus · 5h 42% left (resets 2h 13m) · week 88% left (resets 4d 15h) · \
         credits 17.5 · codex_other 5h 97% left (resets 1m)"
    );
    assert!(lines.contains(&"bob@example.com · ⚠ rate limited (429)"));
    assert_eq!(lines[6], "6 checked: 2 usable, 0 limited, 4 failed");

    // A fresh server each time: frank's 500-then-success script counts per server.
    let server = self::server();
    let r = usage(
        home.path(),
        &server.url,
        &["usage", "--debug", "--profile", "frank@example.com"],
    );
    r.expect_code(0);
    assert!(
        r.stdout.lines().next().unwrap().contains("[2 attempts, "),
        "{}",
        r.stdout
    );

    let server = self::server();
    let r = usage(
        home.path(),
        &server.url,
        &[
            "--json",
            "usage",
            "--debug",
            "--profile",
            "frank@example.com",
        ],
    );
    r.expect_code(0);
    let doc = r.json();
    assert_eq!(doc["profiles"][0]["attempts"], 2);
    assert_eq!(
        doc["profiles"][0]["attempt_ms"].as_array().unwrap().len(),
        2
    );
}

#[test]
fn selector_picks_profiles_and_no_match_exits_3() {
    let (home, server) = setup();
    let r = usage(
        home.path(),
        &server.url,
        &["--json", "usage", "--profile", "alice@example.com"],
    );
    r.expect_code(0);
    assert_eq!(r.json()["profiles"].as_array().unwrap().len(), 1);
    assert_eq!(server.total_hits(), 1);
    let r = usage(
        home.path(),
        &server.url,
        &["--json", "usage", "--profile", "default"],
    );
    r.expect_code(0);
    assert_eq!(
        r.json()["profiles"][0]["profile"],
        "openai:alice@example.com"
    );
    let r = usage(
        home.path(),
        &server.url,
        &["usage", "--profile", "nobody@example.com"],
    );
    r.expect_code(3);
    assert_eq!(server.total_hits(), 2);
}

#[test]
fn untrusted_endpoint_is_refused_before_any_request() {
    let (home, server) = setup();
    // 0.0.0.0 is not loopback, yet on Linux it reaches the server: a missing check would show.
    let sneaky = format!(
        "http://0.0.0.0:{}{}",
        server.addr.port(),
        usage_server::PATH
    );
    for url in [
        sneaky.as_str(),
        "https://evil.example/backend-api/wham/usage",
    ] {
        let r = usage(home.path(), url, &["--json", "usage"]);
        r.expect_code(5);
        assert_eq!(r.json()["error"], "untrusted_endpoint");
        assert!(
            r.stderr.contains("CODEX_PROFILER_USAGE_URL"),
            "{}",
            r.stderr
        );
    }
    assert_eq!(server.total_hits(), 0);
}

#[test]
fn a_legacy_json_store_is_read_only_too() {
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join("state-dir");
    let file = state
        .join("agents")
        .join("main")
        .join("agent")
        .join("auth-profiles.json");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    let expires = chrono::Utc::now().timestamp_millis() + 5 * DAY_MS;
    let doc = json!({"version": 1, "profiles": {"openai-codex:alice@example.com": {
        "type": "oauth", "provider": "openai-codex", "email": "alice@example.com",
        "access": access("alice"), "refresh": refresh("alice"), "accountId": "acct-alice",
        "expires": expires}}, "order": {"openai-codex": ["openai-codex:alice@example.com"]}});
    std::fs::write(&file, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    let server = server();
    let before = tree(&state);
    let r = usage(
        home.path(),
        &server.url,
        &["--json", "usage", "--profile", "default"],
    );
    r.expect_code(0);
    assert_eq!(tree(&state), before, "the store changed");
    let doc = r.json();
    assert_eq!(doc["store"]["format"], "json");
    assert_eq!(doc["profiles"][0]["provider"], "openai-codex");
    assert_eq!(doc["profiles"][0]["remote_usage_ok"], true);
    assert_eq!(server.hits(&access("alice")), 1);
}

/// `RUST_LOG=trace` turns on every crate's most verbose logs (hyper, reqwest, rustls...): the
/// bearer tokens must still never appear.
#[test]
fn trace_logs_hold_no_token() {
    let (home, server) = setup();
    let state = home.path().join("state-dir");
    let r = cli::run(
        home.path(),
        &[
            ("CODEX_PROFILER_USAGE_URL", &server.url),
            ("RUST_LOG", "trace"),
        ],
        &[
            "--state-dir",
            state.to_str().unwrap(),
            "usage",
            "--format",
            "json",
        ],
    );
    assert!(
        r.stderr.contains("TRACE") || r.stderr.contains("DEBUG"),
        "{}",
        r.stderr
    );
    let s = secrets();
    r.assert_no_secret(&s.iter().map(String::as_str).collect::<Vec<_>>());
}
