//! A login under a new name for an account already stored says which profile it updated and
//! why; `auth status --profile NAME` shows a login pending for a profile not stored yet.

use crate::oauth::env::{Env, Kind};
use crate::support::oauth_server::Account;

#[test]
fn a_login_under_a_new_name_for_a_stored_account_says_where_it_went_and_why() {
    let env = Env::new(Kind::StateDb);
    // The issuer logs in alice's stored account (same account id and email) as `work`.
    env.server.set_account(Account::new(
        "11111111-aaaa-4bbb-8ccc-000000000001",
        "alice@example.com",
        "plus",
    ));
    let cb = env.approved_callback("work");
    let r = env.run(&["auth", "finish", "--profile", "work", "--callback-url", &cb]);
    r.expect_code(0);
    env.assert_clean_with(&r, &[&cb]);
    let out = &r.stdout;
    assert!(
        out.contains("Updated profile openai:alice@example.com"),
        "{out}"
    );
    assert!(
        out.contains(
            "Not saved as openai:work: openai:alice@example.com already holds this account \
             (same account id 1111…0001 and email alice@example.com)"
        ),
        "{out}"
    );
    assert!(out.contains("choose another workspace"), "{out}");
    assert!(!env.profiles().contains_key("openai:work"));

    let cb = env.approved_callback("work");
    let r = env.finish("work", &cb);
    r.expect_code(0);
    let j = r.json();
    assert_eq!(j["profile"], "openai:alice@example.com");
    assert_eq!(j["requested_profile"], "openai:work");
    assert_eq!(j["stored_elsewhere"], "same_account");
    assert_eq!(j["new_profile"], false);
}

#[test]
fn auth_status_shows_a_login_pending_for_a_new_name() {
    let env = Env::new(Kind::StateDb);
    let _ = env.start("work");
    let r = env.run(&["auth", "status", "--profile", "work"]);
    r.expect_code(0);
    env.assert_clean(&r);
    assert!(
        r.stdout
            .contains("No profile `work` is stored yet: a login for it is pending"),
        "{}",
        r.stdout
    );
    let r = env.run(&["--json", "auth", "status", "--profile", "openai:work"]);
    r.expect_code(0);
    let j = r.json();
    assert_eq!(j["profiles"], serde_json::json!([]));
    assert_eq!(j["pending"][0]["profile"], "work");
    // A name with neither a profile nor a pending login is still no match.
    let r = env.run(&["auth", "status", "--profile", "nobody"]);
    r.expect_code(3);
}
