//! The trust boundary has no side doors (issue 9 §7): with every proxy variable pointing at a
//! loopback listener that records what it receives, the real binary's usage check, PKCE
//! finish and device login against loopback servers succeed and the proxy receives nothing.
//! Before the fix the bearer token, the code and the PKCE verifier went to the proxy in
//! clear text. (The Telegram client's side is in `telegram::start_up`.)

use serde_json::json;

use crate::oauth::env::{Env, Kind};
use crate::support::cli;
use crate::support::fixtures::{Fixture, oauth_profile};
use crate::support::oauth_server::Account;
use crate::support::proxy::RecordingProxy;
use crate::support::usage_server::{self, Reply, UsageServer};

/// A state-db store holding alice (valid for 10 days) and the loopback usage server
/// answering her token with the full payload.
pub struct UsageWorld {
    /// The store's home and state directory.
    pub fx: Fixture,
    /// The usage server.
    pub usage: UsageServer,
    /// Alice's access token (a secret: it must show up nowhere).
    pub access: String,
}

impl UsageWorld {
    /// Build it.
    pub fn new() -> UsageWorld {
        let fx = Fixture::new();
        let far = chrono::Utc::now().timestamp_millis() + 10 * 24 * 3600 * 1000;
        let alice = oauth_profile("openai", "alice@example.com", "acc-alice", "plus", far);
        let access = alice["access"].as_str().unwrap_or_default().to_owned();
        fx.state_db(
            &json!({"version": 1, "profiles": {"openai:alice@example.com": alice}}),
            None,
        );
        let usage =
            usage_server::spawn([(access.as_str(), Reply::Json(usage_server::full_payload()))]);
        UsageWorld { fx, usage, access }
    }
}

#[test]
fn a_usage_check_never_goes_through_a_proxy() {
    let proxy = RecordingProxy::start();
    let UsageWorld { fx, usage, access } = UsageWorld::new();
    // Once by address, once by the name `localhost`: both are loopback, neither is proxied.
    for url in [
        usage.url.clone(),
        usage.url.replace("127.0.0.1", "localhost"),
    ] {
        let mut env = proxy.env();
        env.push(("CODEX_PROFILER_USAGE_URL", url.clone()));
        env.push(("OPENCLAW_STATE_DIR", fx.state_arg()));
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let run = cli::run(
            fx.home(),
            &env,
            &["usage", "--format", "json", "--retries", "0"],
        );
        assert!(proxy.received().is_empty(), "{url}: {:?}", proxy.received());
        run.expect_code(0);
        let j = run.json();
        assert_eq!(j["profiles"][0]["remote_usage_ok"], true, "{url}: {j}");
        run.assert_no_secret(&[&access]);
    }
    assert_eq!(usage.hits(&access), 2);
}

#[test]
fn a_pkce_finish_and_a_device_login_never_go_through_a_proxy() {
    let proxy = RecordingProxy::start();
    let env = Env::new(Kind::StateDb);
    let vars = proxy.env();
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();

    env.server.set_account(Account::new(
        "33333333-aaaa-4bbb-8ccc-000000000003",
        "carol@example.com",
        "pro",
    ));
    let callback = env.approved_callback("carol@example.com");
    let finish = env.finish_with(&vars, "carol@example.com", &callback);
    assert!(proxy.received().is_empty(), "{:?}", proxy.received());
    finish.expect_code(0);
    assert_eq!(finish.json()["profile"], "openai:carol@example.com");

    env.server.set_account(Account::new(
        "66666666-aaaa-4bbb-8ccc-000000000006",
        "erin@example.com",
        "plus",
    ));
    env.server.set_device_pending_polls(1);
    let device = env.run_with(
        &vars,
        &["--json", "auth", "device", "--profile", "erin@example.com"],
    );
    assert!(proxy.received().is_empty(), "{:?}", proxy.received());
    device.expect_code(0);
    assert_eq!(device.json()["profile"], "openai:erin@example.com");
    env.assert_clean_with(&finish, &[&callback]);
    env.assert_clean(&device);
}
