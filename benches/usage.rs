//! Usage-check benchmark (plain binary, `harness = false`), against the loopback usage server
//! adding a fixed delay to every reply. Two cases, each with its baseline in the same run:
//!
//! 1. **50 profiles at `--concurrency 50`** against one profile alone (target: at most 1.5x),
//!    and the 50 strictly one after another for scale.
//! 2. **1,000 profiles at the default cap (16)**: the most requests the server ever had in
//!    flight (must never exceed 16), and the wall time against the ideal for a cap of 16,
//!    `ceil(1000 / 16)` rounds of one reply each (one profile's time per round).
//!
//! Run: `cargo bench --bench usage` (add `--profile dev` to skip the release build: the
//! numbers are dominated by the replies' delay, not by CPU). Under `cargo test` (no `--bench`
//! argument) it runs one short smoke round of each case with small counts.

use std::time::{Duration, Instant};

use codex_profiler::engine::health::{UsageStats, local_health};
use codex_profiler::engine::profile::{CodexProfile, Fence, ProfileId, Provider};
use codex_profiler::engine::usage::{
    DEFAULT_CONCURRENCY, ProfileToCheck, UsageChecker, UsageOptions,
};
use codex_profiler::secret::Secret;

#[allow(dead_code)]
#[path = "../tests/it/support/usage_server.rs"]
mod usage_server;

fn profile(i: usize, now_ms: i64) -> ProfileToCheck {
    let p = CodexProfile {
        id: ProfileId::parse(&format!("openai:bench{i}@example.com"))
            .unwrap_or_else(|e| panic!("{e}")),
        provider: Provider::OpenAi,
        access: Some(Secret::new(format!("bench-token-{i}"))),
        has_refresh: true,
        expires_ms: Some(now_ms + 48 * 3_600_000),
        account_id: Some(format!("acct-{i}")),
        email: Some(format!("bench{i}@example.com")),
        plan: Some("plus".into()),
        fence: Fence::None,
    };
    let local = local_health(&p, &UsageStats::default(), true, false, now_ms);
    ProfileToCheck { profile: p, local }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A server answering `n` tokens with the full payload after `delay`.
fn server(n: usize, delay: Duration) -> usage_server::UsageServer {
    (0..n)
        .fold(usage_server::builder(), |b, i| {
            b.reply(
                &format!("bench-token-{i}"),
                usage_server::Reply::Json(usage_server::full_payload()),
            )
        })
        .delay(delay)
        .spawn()
}

fn checker(url: &str, concurrency: usize) -> UsageChecker {
    let url = url::Url::parse(url).unwrap_or_else(|e| panic!("{e}"));
    let mut opts = UsageOptions::new(url);
    opts.concurrency = concurrency;
    UsageChecker::new(opts).unwrap_or_else(|e| panic!("{e}"))
}

/// Check `profiles` once; its wall time, after checking that all `ok` answered.
async fn timed_check(
    checker: &UsageChecker,
    profiles: impl Iterator<Item = ProfileToCheck>,
    ok: usize,
) -> Duration {
    let t = Instant::now();
    let run = checker.check(profiles.collect()).await;
    let took = t.elapsed();
    assert_eq!(run.summary().remote_ok_count, ok);
    took
}

/// Case 1: `n` profiles at `--concurrency n` against one alone, and one after another.
fn wide(rt: &tokio::runtime::Runtime, n: usize, delay: Duration, rounds: usize) {
    let server = server(n, delay);
    let checker = checker(&server.url, n);
    let now = chrono::Utc::now().timestamp_millis();
    let all = || (0..n).map(move |i| profile(i, now));
    let (mut single, mut concurrent, mut sequential) = (vec![], vec![], vec![]);
    for _ in 0..rounds {
        rt.block_on(async {
            single.push(timed_check(&checker, (0..1).map(|i| profile(i, now)), 1).await);

            concurrent.push(timed_check(&checker, all(), n).await);

            let t = Instant::now();
            for p in all() {
                assert!(checker.check_one(p).await.remote_usage_ok);
            }
            sequential.push(t.elapsed());
        });
    }
    let (s, c, q) = (median(single), median(concurrent), median(sequential));
    println!(
        "case 1: {n} profiles, --concurrency {n}, {} ms added per reply, median of {rounds} rounds",
        delay.as_millis()
    );
    println!("  single profile:            {:>9.1} ms  (1.00x)", ms(s));
    println!(
        "  {n} profiles concurrent:    {:>9.1} ms  ({:.2}x single)",
        ms(c),
        ms(c) / ms(s)
    );
    println!(
        "  {n} profiles one by one:    {:>9.1} ms  ({:.2}x single, {:.1}x concurrent)",
        ms(q),
        ms(q) / ms(s),
        ms(q) / ms(c)
    );
    println!(
        "  max requests in flight: {} of {n}; target (concurrent <= 1.5x single): {}",
        server.max_in_flight(),
        if ms(c) <= 1.5 * ms(s) {
            "met"
        } else {
            "MISSED"
        }
    );
}

/// Case 2: `n` profiles at the default cap: most in flight, and time against the ideal.
fn capped(rt: &tokio::runtime::Runtime, n: usize, delay: Duration, rounds: usize) {
    let cap = DEFAULT_CONCURRENCY;
    let server = server(n, delay);
    let checker = checker(&server.url, cap);
    let now = chrono::Utc::now().timestamp_millis();
    let (mut single, mut full) = (vec![], vec![]);
    for _ in 0..rounds {
        rt.block_on(async {
            single.push(timed_check(&checker, (0..1).map(|i| profile(i, now)), 1).await);

            full.push(timed_check(&checker, (0..n).map(|i| profile(i, now)), n).await);
        });
    }
    let (s, f) = (median(single), median(full));
    let waves = n.div_ceil(cap);
    let ideal = ms(s) * waves as f64;
    let most = server.max_in_flight();
    println!(
        "case 2: {n} profiles, default cap {cap}, {} ms added per reply, median of {rounds} rounds",
        delay.as_millis()
    );
    println!("  single profile:            {:>9.1} ms  (1.00x)", ms(s));
    println!(
        "  {n} profiles:             {:>9.1} ms  ({:.1}x single; ideal for the cap: {waves} rounds = {ideal:.1} ms, {:.2}x ideal)",
        ms(f),
        ms(f) / ms(s),
        ms(f) / ideal
    );
    println!(
        "  max requests in flight: {most} (cap {cap}): {}",
        if most <= cap {
            "within the cap"
        } else {
            "OVER THE CAP"
        }
    );
    assert!(most <= cap, "{most} requests in flight with a cap of {cap}");
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    if bench {
        wide(&rt, 50, Duration::from_millis(200), 3);
        println!();
        capped(&rt, 1000, Duration::from_millis(50), 3);
    } else {
        wide(&rt, 5, Duration::from_millis(5), 1);
        capped(&rt, 40, Duration::from_millis(5), 1);
    }
}
