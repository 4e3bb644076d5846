//! The OAuth endpoints misbehaving as real networks do (issue 13, fault tests; the cut
//! connection and the 5xx burst of the token endpoint are in `refusals.rs`): a token endpoint
//! that never answers, and device polls that are cut, stall or answer 5xx while the user
//! approves. Each ends in a clear error or a retry that succeeds, within bounded time, with
//! nothing written on failure, no panic and no secret shown.

use std::time::{Duration, Instant};

use super::env::{Env, Kind};
use crate::support::oauth_server::{Account, PollFault, TokenReply};

fn erin(env: &Env) {
    env.server.set_account(Account::new(
        "66666666-aaaa-4bbb-8ccc-000000000006",
        "erin@example.com",
        "plus",
    ));
}

/// The exchange is never retried (an authorization code is single-use): a stall is the
/// request timeout (30 s), then one clear sentence.
#[test]
fn a_stalled_token_endpoint_times_out_clearly_and_writes_nothing() {
    let env = Env::new(Kind::StateDb);
    erin(&env);
    env.server.set_token_reply(TokenReply::Hang);
    let cb = env.approved_callback("erin");
    let before = env.store_bytes();
    let t = Instant::now();
    let r = env.finish("erin", &cb);
    let took = t.elapsed();
    assert_eq!(
        (r.code, r.json()["error"].as_str()),
        (1, Some("timeout")),
        "{}",
        r.stderr
    );
    assert!(
        took >= Duration::from_secs(29) && took < Duration::from_secs(50),
        "{took:?}"
    );
    let sentences: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| l.starts_with("codex-profiler: "))
        .collect();
    assert_eq!(sentences.len(), 1, "{}", r.stderr);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    assert_eq!(env.store_bytes(), before, "nothing may be written");
    env.assert_clean_with(&r, &[&cb]);
}

/// A poll that fails in transit or with a server error is not the user's answer: the next
/// poll asks again, and the login completes once approved.
#[test]
fn device_polls_cut_stalled_or_answered_with_5xx_are_retried_until_approval() {
    let env = Env::new(Kind::StateDb);
    erin(&env);
    env.server.set_device_pending_polls(1);
    env.server.set_device_poll_faults(&[
        PollFault::Cut,
        PollFault::Status(502),
        PollFault::Status(503),
        PollFault::Hang,
        PollFault::Status(500),
    ]);
    let r = env.run(&["--json", "auth", "device", "--profile", "erin@example.com"]);
    r.expect_code(0);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    assert_eq!(
        env.server.device_polls(),
        2,
        "one pending poll, then success"
    );
    assert_eq!(r.json()["profile"], "openai:erin@example.com");
    assert_eq!(
        env.profiles()["openai:erin@example.com"]["email"],
        "erin@example.com"
    );
    env.assert_clean(&r);
}

/// A poll endpoint that only answers 5xx is given up after a few in a row, in one clear
/// sentence, not after the whole 15 minutes of the login.
#[test]
fn device_polls_failing_for_good_give_up_clearly_and_write_nothing() {
    let env = Env::new(Kind::StateDb);
    erin(&env);
    env.server
        .set_device_poll_faults(&[PollFault::Status(502); 50]);
    let before = env.store_bytes();
    let t = Instant::now();
    let r = env.run(&["--json", "auth", "device", "--profile", "erin@example.com"]);
    assert_eq!(
        (r.code, r.json()["error"].as_str()),
        (5, Some("device_login_failed")),
        "{}",
        r.stderr
    );
    assert!(t.elapsed() < Duration::from_secs(30), "{:?}", t.elapsed());
    assert!(r.stderr.contains("HTTP 502"), "{}", r.stderr);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    assert_eq!(env.store_bytes(), before, "nothing may be written");
    env.assert_clean(&r);
}
