//! The usage check under load and throttling, against the loopback usage server: the
//! concurrency cap holds for 1,000 profiles, a 429 with a short `Retry-After` is tried once
//! more after it, a long one is reported as `rate_limited` with the time.

use std::time::{Duration, Instant};

use codex_profiler::engine::health::{UsageStats, local_health};
use codex_profiler::engine::profile::{CodexProfile, Fence, ProfileId, Provider};
use codex_profiler::engine::usage::{
    DEFAULT_CONCURRENCY, ProfileToCheck, Progress, RemoteError, UsageChecker, UsageOptions,
};
use codex_profiler::secret::Secret;

use crate::support::usage_server::{self, Reply, full_payload};

fn profile(i: usize) -> ProfileToCheck {
    let now = chrono::Utc::now().timestamp_millis();
    let p = CodexProfile {
        id: ProfileId::parse(&format!("openai:p{i}@example.com")).unwrap(),
        provider: Provider::OpenAi,
        access: Some(Secret::new(token(i))),
        has_refresh: true,
        expires_ms: Some(now + 48 * 3_600_000),
        account_id: Some(format!("acct-{i}")),
        email: Some(format!("p{i}@example.com")),
        plan: None,
        fence: Fence::None,
    };
    let local = local_health(&p, &UsageStats::default(), true, false, now);
    ProfileToCheck { profile: p, local }
}

fn token(i: usize) -> String {
    format!("limits-token-{i}")
}

fn opts(url: &str, timeout: Duration) -> UsageOptions {
    let mut o = UsageOptions::new(url::Url::parse(url).unwrap());
    o.timeout = timeout;
    o.backoff = Duration::from_millis(10);
    o
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_profiles_never_exceed_the_default_cap() {
    const N: usize = 1000;
    let server = (0..N)
        .fold(usage_server::builder(), |b, i| {
            b.reply(&token(i), Reply::Json(full_payload()))
        })
        .delay(Duration::from_millis(20))
        .spawn();
    let checker = UsageChecker::new(opts(&server.url, Duration::from_secs(20))).unwrap();
    assert_eq!(checker.options().concurrency, DEFAULT_CONCURRENCY);
    let mut seen: Vec<Progress> = Vec::new();
    let run = checker
        .check_with_progress((0..N).map(profile).collect(), |p| seen.push(p))
        .await;
    let s = run.summary();
    assert_eq!(
        s.remote_ok_count,
        N,
        "{:?}",
        run.profiles.iter().find(|p| !p.remote_usage_ok)
    );
    assert_eq!(server.total_hits(), N);
    assert!(
        server.max_in_flight() <= DEFAULT_CONCURRENCY,
        "{} requests in flight at once",
        server.max_in_flight()
    );
    // The cap is a cap, not a queue of one.
    assert!(server.max_in_flight() > 1, "{}", server.max_in_flight());
    assert_eq!(seen.first(), Some(&Progress { done: 0, total: N }));
    assert_eq!(seen.last(), Some(&Progress { done: N, total: N }));
    assert_eq!(seen.len(), N + 1);
}

#[tokio::test]
async fn a_lower_cap_is_honoured() {
    let server = (0..12)
        .fold(usage_server::builder(), |b, i| {
            b.reply(&token(i), Reply::Json(full_payload()))
        })
        .delay(Duration::from_millis(30))
        .spawn();
    let mut o = opts(&server.url, Duration::from_secs(5));
    o.concurrency = 3;
    let run = UsageChecker::new(o)
        .unwrap()
        .check((0..12).map(profile).collect())
        .await;
    assert_eq!(run.summary().remote_ok_count, 12);
    assert_eq!(server.max_in_flight(), 3);
}

#[tokio::test]
async fn a_short_retry_after_is_waited_for_once() {
    let server = usage_server::spawn([
        (
            token(0).as_str(),
            Reply::Sequence(vec![
                Reply::RetryAfter("1".into()),
                Reply::Json(full_payload()),
            ]),
        ),
        // Throttled again after the wait: reported, not retried a second time.
        (token(1).as_str(), Reply::RetryAfter("0".into())),
    ]);
    let mut o = opts(&server.url, Duration::from_secs(3));
    o.retries = 0; // the 429 retry does not depend on --retries
    let checker = UsageChecker::new(o).unwrap();
    let started = Instant::now();
    let run = checker.check(vec![profile(0), profile(1)]).await;
    let (waited, again) = (&run.profiles[0], &run.profiles[1]);
    assert!(waited.remote_usage_ok, "{waited:?}");
    assert_eq!(server.hits(&token(0)), 2);
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(waited.attempts, 2);
    assert_eq!(again.remote_error, Some(RemoteError::RateLimited));
    assert_eq!(server.hits(&token(1)), 2);
    assert_eq!(again.retry_after_seconds, Some(0));
}

#[tokio::test]
async fn a_long_retry_after_is_rate_limited_with_the_time() {
    let in_two_hours = (chrono::Utc::now() + chrono::TimeDelta::hours(2))
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    let server = usage_server::spawn([
        (token(0).as_str(), Reply::RetryAfter("3600".into())),
        (token(1).as_str(), Reply::RetryAfter(in_two_hours)),
        (token(2).as_str(), Reply::Status(429)),
    ]);
    let checker = UsageChecker::new(opts(&server.url, Duration::from_secs(2))).unwrap();
    let started = Instant::now();
    let run = checker
        .check(vec![profile(0), profile(1), profile(2)])
        .await;
    assert!(started.elapsed() < Duration::from_secs(2), "it waited");
    for r in &run.profiles {
        assert_eq!(r.remote_error, Some(RemoteError::RateLimited), "{r:?}");
        assert_eq!(r.remote_status, Some(429));
    }
    assert_eq!(server.total_hits(), 3);
    assert_eq!(run.profiles[0].retry_after_seconds, Some(3600));
    let at = run.profiles[0].retry_at.as_deref().unwrap();
    let at = chrono::DateTime::parse_from_rfc3339(at).unwrap();
    let ahead = at.timestamp() - chrono::Utc::now().timestamp();
    assert!((3590..=3600).contains(&ahead), "{ahead}");
    let date = run.profiles[1].retry_after_seconds.unwrap();
    assert!((7190..=7200).contains(&date), "{date}");
    assert_eq!(run.profiles[2].retry_after_seconds, None);
    assert_eq!(run.profiles[2].retry_at, None);
    let line = codex_profiler::engine::usage::report::line(&run.profiles[0]);
    assert!(
        line.ends_with("⚠ rate limited (429), retry in 1h 0m"),
        "{line}"
    );
}
