//! The PKCE paste-back login end to end: new profile, re-login of the same account, a second
//! workspace of the same email, the json store's provider, and single use of a state.

use serde_json::Value;

use super::env::{Env, Kind};
use crate::support::cli::assert_no_secret_in;
use crate::support::oauth_server::Account;

#[test]
fn login_adds_a_new_profile_to_a_state_db_store() {
    let env = Env::new(Kind::StateDb);
    env.server.set_account(Account::new(
        "33333333-aaaa-4bbb-8ccc-000000000003",
        "carol@example.com",
        "pro",
    ));
    let start = env.run(&["auth", "start", "--profile", "carol@example.com"]);
    start.expect_code(0);
    let url = start
        .stdout
        .lines()
        .find(|l| l.starts_with(&env.server.issuer_url))
        .expect("authorize URL line")
        .to_owned();
    let callback = env.server.approve(&url);
    let before = env.profiles();
    let r = env.finish("carol@example.com", &callback);
    r.expect_code(0);
    assert!(
        env.server.rejections().is_empty(),
        "{:?}",
        env.server.rejections()
    );
    let j = r.json();
    assert_eq!(j["profile"], "openai:carol@example.com");
    assert_eq!(j["new_profile"], true);
    assert_eq!(j["store"]["format"], "state-db");
    assert_eq!(j["layer"]["scope"], "shared");
    assert_eq!(j["account"], "3333…0003");
    assert_eq!(j["plan"], "pro");
    assert_eq!(j["email"], "carol@example.com");
    let after = env.profiles();
    assert_eq!(after.len(), before.len() + 1);
    for (id, p) in &before {
        assert_eq!(&after[id], p, "{id} must be kept exactly");
    }
    let p = &after["openai:carol@example.com"];
    assert_eq!(p["type"], "oauth");
    assert_eq!(p["provider"], "openai");
    assert_eq!(p["accountId"], "33333333-aaaa-4bbb-8ccc-000000000003");
    assert_eq!(p["chatgptPlanType"], "pro");
    assert!(p["access"].as_str().unwrap().starts_with("eyJ"));
    assert!(p["refresh"].as_str().unwrap().starts_with("rt_"));
    let expires = p["expires"].as_i64().unwrap();
    let in_10_days = chrono::Utc::now().timestamp_millis() + 864_000_000;
    assert!(
        (expires - in_10_days).abs() < 60_000,
        "expires = now + expires_in"
    );
    // Nothing secret anywhere; the start output is checked against the verifier too (the
    // server saw it at the exchange), but it may show the state inside the URL.
    env.assert_clean(&r);
    let mut secrets = env.secrets();
    secrets.push(callback.clone());
    let state = url::Url::parse(&callback)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    secrets.retain(|s| s != &state);
    let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
    assert_no_secret_in(&format!("{}{}", start.stdout, start.stderr), &refs);
    assert!(
        start
            .stdout
            .contains("http://localhost:1455/auth/callback?code=…&state=…")
    );
    // The pending login is used up.
    let pending: Value = serde_json::from_slice(
        &std::fs::read(env.state.join("codex-profiler/pending.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(pending["logins"].as_array().unwrap().len(), 0);
}

#[test]
fn logging_in_again_updates_the_same_account() {
    let env = Env::new(Kind::StateDb);
    // alice's account from the reference store, under another name.
    let before = env.profiles();
    let j = env.login(
        "alice-again",
        Account::new(
            "11111111-aaaa-4bbb-8ccc-000000000001",
            "alice@example.com",
            "pro",
        ),
    );
    assert_eq!(j["profile"], "openai:alice@example.com");
    assert_eq!(j["new_profile"], false);
    let after = env.profiles();
    assert_eq!(after.len(), before.len(), "no second profile");
    let p = &after["openai:alice@example.com"];
    assert_ne!(p["access"], before["openai:alice@example.com"]["access"]);
    assert_eq!(p["chatgptPlanType"], "pro");
    assert_eq!(
        after["openai:bob@example.com"],
        before["openai:bob@example.com"]
    );
}

#[test]
fn another_workspace_of_the_same_email_is_a_new_profile() {
    let env = Env::new(Kind::StateDb);
    let before = env.profiles();
    let j = env.login(
        "alice@example.com",
        Account::new(
            "44444444-aaaa-4bbb-8ccc-000000000004",
            "alice@example.com",
            "team",
        ),
    );
    assert_eq!(j["new_profile"], true);
    assert_eq!(j["profile"], "openai:alice@example.com-44444444");
    let after = env.profiles();
    assert_eq!(after.len(), before.len() + 1);
    assert_eq!(
        after["openai:alice@example.com"], before["openai:alice@example.com"],
        "the other workspace's profile is not overwritten"
    );
}

#[test]
fn json_stores_get_the_legacy_provider() {
    let env = Env::new(Kind::Json);
    env.server.set_account(Account::new(
        "33333333-aaaa-4bbb-8ccc-000000000003",
        "carol@example.com",
        "plus",
    ));
    let cb = env.approved_callback("carol");
    let r = env.run(&[
        "auth",
        "finish",
        "--profile",
        "carol",
        "--callback-url",
        &cb,
    ]);
    r.expect_code(0);
    env.assert_clean(&r);
    assert!(
        r.stdout.contains("Added new profile openai-codex:carol"),
        "{}",
        r.stdout
    );
    let p = &env.profiles()["openai-codex:carol"];
    assert_eq!(p["provider"], "openai-codex");
    assert_eq!(p["email"], "carol@example.com");
}

#[test]
fn the_query_string_and_code_hash_state_forms_work_too() {
    let env = Env::new(Kind::StateDb);
    env.server.set_account(Account::new(
        "55555555-aaaa-4bbb-8ccc-000000000005",
        "dan@example.com",
        "plus",
    ));
    let cb = env.approved_callback("dan");
    let u = url::Url::parse(&cb).unwrap();
    let q: std::collections::HashMap<_, _> = u.query_pairs().into_owned().collect();
    let r = env.finish("dan", &format!("{}#{}", q["code"], q["state"]));
    r.expect_code(0);
    env.assert_clean(&r);
    let cb = env.approved_callback("dan");
    let r = env.finish("dan", url::Url::parse(&cb).unwrap().query().unwrap());
    r.expect_code(0);
    assert_eq!(r.json()["new_profile"], false);
    env.assert_clean(&r);
}

/// `RUST_LOG=trace` turns on every crate's most verbose logs (hyper, reqwest, rustls, oauth2):
/// the code, verifier and tokens of a whole login must still never appear.
#[test]
fn a_login_under_trace_logs_leaks_nothing() {
    let env = Env::new(Kind::StateDb);
    env.server.set_account(Account::new(
        "44444444-aaaa-4bbb-8ccc-000000000004",
        "trace@example.com",
        "plus",
    ));
    let cb = env.approved_callback("trace");
    let r = env.run_with(
        &[("RUST_LOG", "trace")],
        &[
            "--json",
            "auth",
            "finish",
            "--profile",
            "trace",
            "--callback-url",
            &cb,
        ],
    );
    r.expect_code(0);
    assert!(r.stderr.contains("TRACE"), "{}", r.stderr);
    env.assert_clean_with(&r, &[&cb]);
}
