//! The device-code login: several "pending" polls at a 1 s interval, then approval, exchange
//! with the device redirect URI, and the saved profile.

use super::env::{Env, Kind};
use crate::support::oauth_server::Account;

#[test]
fn device_login_polls_until_approved_and_saves() {
    let env = Env::new(Kind::StateDb);
    env.server.set_account(Account::new(
        "66666666-aaaa-4bbb-8ccc-000000000006",
        "erin@example.com",
        "plus",
    ));
    env.server.set_device_pending_polls(2);
    let started = std::time::Instant::now();
    let r = env.run(&["--json", "auth", "device", "--profile", "erin@example.com"]);
    r.expect_code(0);
    assert!(
        env.server.rejections().is_empty(),
        "{:?}",
        env.server.rejections()
    );
    assert_eq!(
        env.server.device_polls(),
        3,
        "two pending polls, then success"
    );
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(3),
        "polls at the interval"
    );
    let j = r.json();
    assert_eq!(j["profile"], "openai:erin@example.com");
    assert_eq!(j["new_profile"], true);
    assert_eq!(j["action"], "device_login");
    // The code to type and the countdown are on stderr.
    assert!(r.stderr.contains("/codex/device"), "{}", r.stderr);
    assert!(r.stderr.contains("TEST-"), "{}", r.stderr);
    assert!(r.stderr.contains("left"), "{}", r.stderr);
    env.assert_clean(&r);
    assert_eq!(
        env.profiles()["openai:erin@example.com"]["email"],
        "erin@example.com"
    );
}

#[test]
fn device_login_unavailable_is_refused() {
    let env = Env::new(Kind::StateDb);
    env.server.set_device_enabled(false);
    let before = env.store_bytes();
    let r = env.run(&["--json", "auth", "device", "--profile", "erin"]);
    r.expect_code(5);
    assert_eq!(r.json()["error"], "device_login_unavailable");
    assert_eq!(env.store_bytes(), before);
}
