//! What `usage` lines and hints say when labels collide or a profile needs a new login: two
//! profiles with the same email are told apart, and hints name the real profile.

use serde_json::json;

use crate::support::cli;
use crate::support::fixtures::Fixture;
use crate::support::usage_server::{self, Reply, full_payload};

const DAY_MS: i64 = 86_400_000;

fn token(name: &str) -> String {
    format!("tok-labels-{name}-4c1d8e7f02b9")
}

fn profile(email: &str, account: &str, name: &str) -> serde_json::Value {
    let now = chrono::Utc::now().timestamp_millis();
    json!({"type": "oauth", "provider": "openai", "email": email, "access": token(name),
        "refresh": format!("refresh-labels-{name}-9a7e"), "accountId": account,
        "chatgptPlanType": "plus", "expires": now + 5 * DAY_MS})
}

#[test]
fn same_email_profiles_get_distinct_lines_and_hints_name_the_profile() {
    let fx = Fixture::new();
    let store = json!({"version": 1, "profiles": {
        "openai:alice@example.com": profile("alice@example.com", "11111111-aaaa-4bbb-8ccc-000000000001", "a1"),
        "openai:alice-team": profile("alice@example.com", "22222222-aaaa-4bbb-8ccc-000000000002", "a2"),
        "openai:carol@example.com": profile("carol@example.com", "33333333-aaaa-4bbb-8ccc-000000000003", "c"),
    }});
    fx.state_db(&store, None);
    let server = usage_server::spawn([
        (token("a1").as_str(), Reply::Json(full_payload())),
        (token("a2").as_str(), Reply::Json(full_payload())),
        (token("c").as_str(), Reply::Status(401)),
    ]);
    let state = fx.state_arg();
    let env = [("CODEX_PROFILER_USAGE_URL", server.url.as_str())];
    let secrets: Vec<String> = ["a1", "a2", "c"].iter().map(|n| token(n)).collect();
    let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();

    let r = cli::run(fx.home(), &env, &["--state-dir", &state, "usage"]);
    r.assert_no_secret(&refs);
    let lines: Vec<&str> = r.stdout.lines().filter(|l| l.contains("alice")).collect();
    assert_eq!(lines.len(), 2, "{}", r.stdout);
    assert_ne!(lines[0], lines[1], "{}", r.stdout);
    assert!(
        r.stdout
            .contains("alice@example.com (plus, account 2222…0002) · plus"),
        "{}",
        r.stdout
    );

    let r = cli::run(
        fx.home(),
        &env,
        &["--state-dir", &state, "usage", "--format", "json"],
    );
    r.assert_no_secret(&refs);
    let doc = r.json();
    let carol = doc["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["profile"] == "openai:carol@example.com")
        .unwrap();
    let hint = carol["remote_hint"].as_str().unwrap();
    assert!(
        hint.contains("auth start --profile carol@example.com"),
        "{hint}"
    );
    assert!(!hint.contains("NAME"), "{hint}");
    let formatted = doc["formatted_profiles"].to_string();
    assert!(
        formatted.contains("alice@example.com (plus, account 2222…0002)"),
        "{formatted}"
    );
}
