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
    env.assert_clean(&r);
}

#[test]
fn ctrl_c_cancels_a_device_login_cleanly() {
    let env = Env::new(Kind::StateDb);
    env.server.set_device_pending_polls(1000);
    let before = env.store_bytes();
    let state = env.state.to_string_lossy().into_owned();
    let mut c = crate::support::cli::command(env.home());
    c.args(["--state-dir", &state, "auth", "device", "--profile", "erin"])
        .env("CODEX_PROFILER_AUTH_ISSUER", &env.server.issuer_url)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = c.spawn().unwrap();
    // Wait until it has shown the code and polled at least once.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while env.server.device_polls() < 1 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let pid = i32::try_from(child.id()).unwrap();
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cancelled"), "{stderr}");
    assert!(
        stderr.contains("TEST-"),
        "the code was shown first: {stderr}"
    );
    assert_eq!(env.store_bytes(), before, "nothing saved");
    let secrets = env.secrets();
    let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
    crate::support::cli::assert_no_secret_in(&stderr, &refs);
}

/// The engine API the chat adapters use: events in order, and the flow gives up at its
/// deadline with a clear error.
#[tokio::test]
async fn the_engine_reports_progress_and_gives_up_at_the_deadline() {
    use codex_profiler::engine::oauth::device::{DeviceEvent, DeviceOptions, device_login};
    use codex_profiler::engine::oauth::exchange::http_client;
    use codex_profiler::engine::oauth::{Issuer, OAuthError};

    let server = crate::support::oauth_server::spawn();
    server.set_device_pending_polls(1000);
    let issuer = Issuer::from_override(Some(&server.issuer_url)).unwrap();
    let mut events = Vec::new();
    let mut on_event = |e: DeviceEvent| events.push(e);
    let opts = DeviceOptions {
        max_wait: std::time::Duration::from_millis(2500),
    };
    let r = device_login(&http_client(&issuer).unwrap(), &issuer, opts, &mut on_event).await;
    assert!(matches!(r, Err(OAuthError::DeviceExpired)), "{r:?}");
    assert!(
        matches!(&events[0], DeviceEvent::Code { user_code, verification_url, .. }
        if user_code.starts_with("TEST-") && verification_url == &format!("{}/codex/device", server.issuer_url))
    );
    assert!(
        events
            .iter()
            .skip(1)
            .all(|e| matches!(e, DeviceEvent::Waiting { .. }))
    );
    assert!(events.len() >= 3, "a countdown between polls: {events:?}");
    assert!(server.device_polls() >= 2);
}
