//! `auth status`: identity, expiry, fence and pending login per profile, text and JSON.

use super::env::{Env, Kind};

#[test]
fn status_shows_identity_expiry_and_pending_logins() {
    let env = Env::new(Kind::StateDb);
    let _ = env.start("alice@example.com");
    let r = env.run(&["--json", "auth", "status"]);
    r.expect_code(0);
    env.assert_clean(&r);
    let j = r.json();
    assert_eq!(j["store"]["format"], "state-db");
    let rows = j["profiles"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    let alice = rows
        .iter()
        .find(|p| p["profile"] == "openai:alice@example.com")
        .unwrap();
    assert_eq!(alice["account"], "1111…0001");
    assert_eq!(alice["plan"], "plus");
    assert_eq!(alice["fence"], "none");
    assert_eq!(alice["pending_login"], true);
    assert_eq!(alice["token_expires_at"], "2026-12-02T00:06:40Z");
    let bob = rows
        .iter()
        .find(|p| p["profile"] == "openai:bob@example.com")
        .unwrap();
    assert_eq!(bob["pending_login"], false);
    assert_eq!(j["pending"][0]["profile"], "alice@example.com");
    assert_eq!(j["pending"][0]["requester"], "cli");

    let r = env.run(&["auth", "status", "--profile", "bob@example.com"]);
    r.expect_code(0);
    env.assert_clean(&r);
    assert!(
        r.stdout
            .contains("openai:bob@example.com · bob@example.com · account 2222…0002 · pro"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("openai:alice@example.com ·"));
    let r = env.run(&["auth", "status", "--profile", "nobody"]);
    r.expect_code(3);
}
