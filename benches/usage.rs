//! Usage-check concurrency benchmark (plain binary, `harness = false`).
//!
//! 50 profiles against the loopback usage server adding 200 ms to every reply, measured three
//! ways in the same run: one profile alone, all 50 in one concurrent check, and the 50 checked
//! strictly one after another. Prints the median wall time of each and the ratios. The target
//! is 50 concurrent profiles in at most 1.5x the single-profile time.
//!
//! Run: `cargo bench --bench usage` (add `--profile dev` to skip the release build: the
//! numbers are dominated by the 200 ms replies, not by CPU).

use std::time::{Duration, Instant};

use codex_profiler::engine::health::{UsageStats, local_health};
use codex_profiler::engine::profile::{CodexProfile, Fence, ProfileId, Provider};
use codex_profiler::engine::usage::{ProfileToCheck, UsageChecker, UsageOptions};
use codex_profiler::secret::Secret;

#[allow(dead_code)]
#[path = "../tests/it/support/usage_server.rs"]
mod usage_server;

const PROFILES: usize = 50;
const DELAY: Duration = Duration::from_millis(200);
const ROUNDS: usize = 3;

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

fn main() {
    let server = (0..PROFILES)
        .fold(usage_server::builder(), |b, i| {
            b.reply(
                &format!("bench-token-{i}"),
                usage_server::Reply::Json(usage_server::full_payload()),
            )
        })
        .delay(DELAY)
        .spawn();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    let url = url::Url::parse(&server.url).unwrap_or_else(|e| panic!("{e}"));
    let checker = UsageChecker::new(UsageOptions::new(url)).unwrap_or_else(|e| panic!("{e}"));
    let now = chrono::Utc::now().timestamp_millis();
    let all = || (0..PROFILES).map(|i| profile(i, now)).collect::<Vec<_>>();

    let (mut single, mut concurrent, mut sequential) = (vec![], vec![], vec![]);
    for _ in 0..ROUNDS {
        rt.block_on(async {
            let t = Instant::now();
            let run = checker.check(vec![profile(0, now)]).await;
            single.push(t.elapsed());
            assert_eq!(run.summary().remote_ok_count, 1);

            let t = Instant::now();
            let run = checker.check(all()).await;
            concurrent.push(t.elapsed());
            assert_eq!(run.summary().remote_ok_count, PROFILES);

            let t = Instant::now();
            for p in all() {
                let r = checker.check_one(p).await;
                assert!(r.remote_usage_ok);
            }
            sequential.push(t.elapsed());
        });
    }
    let (s, c, q) = (median(single), median(concurrent), median(sequential));
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "usage check, {PROFILES} profiles, {} ms added per reply, median of {ROUNDS} rounds",
        DELAY.as_millis()
    );
    println!("single profile:          {:>8.1} ms", ms(s));
    println!(
        "{PROFILES} profiles concurrent:  {:>8.1} ms  ({:.2}x single)",
        ms(c),
        ms(c) / ms(s)
    );
    println!(
        "{PROFILES} profiles sequential:  {:>8.1} ms  ({:.2}x single, {:.1}x concurrent)",
        ms(q),
        ms(q) / ms(s),
        ms(q) / ms(c)
    );
    println!("requests served: {}", server.total_hits());
    let target = ms(c) <= 1.5 * ms(s);
    println!(
        "target (concurrent <= 1.5x single): {}",
        if target { "met" } else { "MISSED" }
    );
}
