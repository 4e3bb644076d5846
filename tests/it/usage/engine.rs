//! The engine entry point against the loopback usage server: each scripted reply lands in the
//! right class after the right number of attempts (the server counts them).

use std::time::{Duration, Instant};

use codex_profiler::engine::health::{UsageStats, local_health};
use codex_profiler::engine::profile::{CodexProfile, Fence, ProfileId, Provider};
use codex_profiler::engine::usage::{
    ProfileResult, ProfileToCheck, RemoteError, USER_AGENT, UsageChecker, UsageOptions,
};
use codex_profiler::secret::Secret;

use crate::support::usage_server::{self, Reply, full_payload, null_payload};

const HOUR_MS: i64 = 3_600_000;

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A profile named after its token, valid for two days unless told otherwise.
fn profile(token: &str, expires_ms: i64, fence: Fence) -> ProfileToCheck {
    let p = CodexProfile {
        id: ProfileId::parse(&format!("openai:{token}@example.com")).unwrap(),
        provider: Provider::OpenAi,
        access: (fence == Fence::None && !token.is_empty())
            .then(|| Secret::new(format!("secret-{token}"))),
        has_refresh: true,
        expires_ms: Some(expires_ms),
        account_id: Some(format!("acct-{token}")),
        email: Some(format!("{token}@example.com")),
        plan: None,
        fence,
    };
    let local = local_health(&p, &UsageStats::default(), true, false, now_ms());
    ProfileToCheck { profile: p, local }
}

fn ok_profile(token: &str) -> ProfileToCheck {
    profile(token, now_ms() + 48 * HOUR_MS, Fence::None)
}

fn opts(url: &str) -> UsageOptions {
    let mut o = UsageOptions::new(url::Url::parse(url).unwrap());
    o.timeout = Duration::from_millis(800);
    o.retries = 1;
    o.backoff = Duration::from_millis(20);
    o
}

fn tok(name: &str) -> String {
    format!("secret-{name}")
}

fn find<'a>(results: &'a [ProfileResult], name: &str) -> &'a ProfileResult {
    results
        .iter()
        .find(|r| r.profile == format!("openai:{name}@example.com"))
        .unwrap()
}

#[tokio::test]
async fn every_reply_lands_in_its_class_with_the_right_attempts() {
    let s = |n: u16| Reply::Status(n);
    let server = usage_server::spawn([
        (tok("full").as_str(), Reply::Json(full_payload())),
        (tok("nulls").as_str(), Reply::Json(null_payload())),
        (tok("unauth").as_str(), s(401)),
        (tok("forbidden").as_str(), s(403)),
        (tok("limited").as_str(), s(429)),
        (tok("missing").as_str(), s(404)),
        (
            tok("flaky").as_str(),
            Reply::Sequence(vec![s(500), Reply::Json(full_payload())]),
        ),
        (tok("down").as_str(), s(503)),
        (
            tok("slow").as_str(),
            Reply::Delay(
                Duration::from_secs(3),
                Box::new(Reply::Json(full_payload())),
            ),
        ),
        (tok("hang").as_str(), Reply::Hang),
        (tok("html").as_str(), Reply::Html),
        (tok("huge").as_str(), Reply::Huge(5 * 1024 * 1024)),
        (tok("chunked").as_str(), Reply::HugeChunked(5 * 1024 * 1024)),
    ]);
    let names = [
        "full",
        "nulls",
        "unauth",
        "forbidden",
        "limited",
        "missing",
        "flaky",
        "down",
        "slow",
        "hang",
        "html",
        "huge",
        "chunked",
    ];
    let checker = UsageChecker::new(opts(&server.url)).unwrap();
    let run = checker
        .check(names.iter().map(|n| ok_profile(n)).collect())
        .await;
    assert_eq!(run.profiles.len(), names.len());
    // (name, expected error, expected status, attempts)
    let expected: [(&str, Option<RemoteError>, Option<u16>, usize); 13] = [
        ("full", None, Some(200), 1),
        ("nulls", None, Some(200), 1),
        (
            "unauth",
            Some(RemoteError::AuthNotAcceptedByUsageEndpoint),
            Some(401),
            1,
        ),
        (
            "forbidden",
            Some(RemoteError::ForbiddenByUsageEndpoint),
            Some(403),
            1,
        ),
        ("limited", Some(RemoteError::RateLimited), Some(429), 1),
        ("missing", Some(RemoteError::HttpError), Some(404), 1),
        ("flaky", None, Some(200), 2),
        ("down", Some(RemoteError::ServerError), Some(503), 2),
        ("slow", Some(RemoteError::Timeout), None, 2),
        ("hang", Some(RemoteError::Timeout), None, 2),
        ("html", Some(RemoteError::MalformedResponse), Some(200), 1),
        ("huge", Some(RemoteError::MalformedResponse), Some(200), 1),
        (
            "chunked",
            Some(RemoteError::MalformedResponse),
            Some(200),
            1,
        ),
    ];
    for (name, error, status, attempts) in expected {
        let r = find(&run.profiles, name);
        assert_eq!(r.remote_error, error, "{name}");
        assert_eq!(r.remote_usage_ok, error.is_none(), "{name}");
        assert_eq!(r.remote_status, status, "{name}");
        assert_eq!(server.hits(&tok(name)), attempts, "{name}: requests seen");
        assert_eq!(r.attempts as usize, attempts, "{name}: attempts counted");
        assert_eq!(r.local.status.as_str(), "ok", "{name}: local health kept");
    }
    // Concurrent: the slowest profile is two timed-out attempts plus a short backoff.
    assert!(run.elapsed_ms < 2_600, "run took {} ms", run.elapsed_ms);

    let full = find(&run.profiles, "full").remote_usage.clone().unwrap();
    assert_eq!(full.plan.as_deref(), Some("plus"));
    assert_eq!(full.credits_balance, Some(17.5));
    let labels: Vec<&str> = full.windows.iter().map(|w| w.label.as_str()).collect();
    assert_eq!(labels, ["5h", "week"]);
    assert_eq!(full.windows[0].remaining_percent, Some(42.0));
    assert_eq!(full.additional_limits.len(), 1);
    assert_eq!(find(&run.profiles, "full").plan.as_deref(), Some("plus"));

    let nulls = find(&run.profiles, "nulls").remote_usage.clone().unwrap();
    assert_eq!(nulls.plan, None);
    assert_eq!(nulls.windows.len(), 1);
    assert_eq!(nulls.windows[0].remaining_percent, None);

    assert!(find(&run.profiles, "unauth").remote_hint.is_some());
    let debug = format!("{run:?}");
    for n in names {
        assert!(!debug.contains(&tok(n)), "token of {n} in Debug output");
    }
}

#[tokio::test]
async fn sends_the_spec_headers() {
    let server = usage_server::spawn([(tok("hdr").as_str(), Reply::Json(full_payload()))]);
    let mut no_account = ok_profile("noacct");
    no_account.profile.account_id = None;
    let run = UsageChecker::new(opts(&server.url))
        .unwrap()
        .check(vec![ok_profile("hdr"), no_account])
        .await;
    assert!(run.profiles[0].remote_usage_ok);
    let reqs = server.requests();
    let hdr = reqs
        .iter()
        .find(|r| r.token.as_deref() == Some(&tok("hdr")))
        .unwrap();
    assert_eq!(hdr.account_id.as_deref(), Some("acct-hdr"));
    assert_eq!(hdr.accept.as_deref(), Some("application/json"));
    assert_eq!(hdr.user_agent.as_deref(), Some(USER_AGENT));
    assert!(USER_AGENT.starts_with("codex-profiler/"));
    let noacct = reqs
        .iter()
        .find(|r| r.token.as_deref() == Some(&tok("noacct")))
        .unwrap();
    assert_eq!(noacct.account_id, None);
    // Unknown token: the server's default 401.
    assert_eq!(
        run.profiles[1].remote_error,
        Some(RemoteError::AuthNotAcceptedByUsageEndpoint)
    );
}

#[tokio::test]
async fn retries_are_configurable_and_zero_means_one_attempt() {
    let server = usage_server::spawn([(tok("down").as_str(), Reply::Status(500))]);
    for (retries, attempts) in [(0, 1), (2, 3)] {
        let before = server.hits(&tok("down"));
        let mut o = opts(&server.url);
        o.retries = retries;
        let run = UsageChecker::new(o)
            .unwrap()
            .check(vec![ok_profile("down")])
            .await;
        assert_eq!(run.profiles[0].remote_error, Some(RemoteError::ServerError));
        assert_eq!(server.hits(&tok("down")) - before, attempts);
    }
}

#[tokio::test]
async fn refused_connection_is_a_connection_error_after_retries() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let run = UsageChecker::new(opts(&format!("http://127.0.0.1:{port}/u")))
        .unwrap()
        .check(vec![ok_profile("nobody")])
        .await;
    let r = &run.profiles[0];
    assert_eq!(r.remote_error, Some(RemoteError::ConnectionError));
    assert_eq!(r.attempts, 2);
    assert_eq!(r.remote_status, None);
}

#[tokio::test]
async fn unusable_tokens_are_never_sent() {
    let server = usage_server::spawn([]);
    let expired = profile("expired", now_ms() - HOUR_MS, Fence::None);
    let refreshing = profile("refreshing", 1, Fence::Refreshing);
    let failed = profile("failed", 1, Fence::Failed);
    let missing = profile("", now_ms() + 48 * HOUR_MS, Fence::None);
    let run = UsageChecker::new(opts(&server.url))
        .unwrap()
        .check(vec![expired, refreshing, failed, missing])
        .await;
    let errors: Vec<Option<RemoteError>> = run.profiles.iter().map(|r| r.remote_error).collect();
    assert_eq!(
        errors,
        [
            Some(RemoteError::TokenExpiredLocally),
            Some(RemoteError::RefreshInProgress),
            Some(RemoteError::RefreshFailed),
            Some(RemoteError::MissingAccessToken),
        ]
    );
    assert!(run.profiles.iter().all(|r| r.attempts == 0));
    assert_eq!(server.total_hits(), 0);
    assert_eq!(run.profiles[0].local.status.as_str(), "expired");
    assert_eq!(run.profiles[2].local.fence, "refresh_failed");
    assert!(run.profiles[2].remote_hint.is_some());
}

#[tokio::test]
async fn profiles_are_checked_concurrently() {
    let names: Vec<String> = (0..10).map(|i| format!("p{i}")).collect();
    let server = names
        .iter()
        .fold(usage_server::builder(), |b, n| {
            b.reply(&tok(n), Reply::Json(full_payload()))
        })
        .delay(Duration::from_millis(300))
        .spawn();
    let started = Instant::now();
    let run = UsageChecker::new(opts(&server.url))
        .unwrap()
        .check(names.iter().map(|n| ok_profile(n)).collect())
        .await;
    let wall = started.elapsed();
    assert_eq!(run.summary().remote_ok_count, 10);
    // One-after-another would take 3 s.
    assert!(wall < Duration::from_millis(900), "took {wall:?}");
    // Results keep the input order.
    let ids: Vec<&str> = run.profiles.iter().map(|r| r.profile.as_str()).collect();
    let want: Vec<String> = names
        .iter()
        .map(|n| format!("openai:{n}@example.com"))
        .collect();
    assert_eq!(ids, want);
}

#[tokio::test]
async fn a_listener_that_never_reads_times_out_after_retries() {
    // The kernel completes the handshake (the backlog accepts it); nobody ever reads or answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let started = Instant::now();
    let run = UsageChecker::new(opts(&format!("http://127.0.0.1:{port}/u")))
        .unwrap()
        .check(vec![ok_profile("silent")])
        .await;
    let r = &run.profiles[0];
    assert_eq!(r.remote_error, Some(RemoteError::Timeout));
    assert_eq!(r.attempts, 2);
    // Two 800 ms attempts and a 20 ms backoff: the timeout bounds each attempt.
    assert!(started.elapsed() < Duration::from_millis(2_200));
    drop(silent);
}
