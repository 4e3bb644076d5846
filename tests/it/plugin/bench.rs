//! The plugin against our own Telegram adapter, in one run (`scripts/plugin-bench`, method
//! and figures in docs/PERFORMANCE.md): the real OpenClaw gateway with this plugin and
//! `codex-profiler bot` side by side, each on a fake Bot API of its own, the same fixture and
//! loopback usage server behind both. After one cold request each (the gateway starts its
//! `plugin-host` on first use), `CODEX_PROFILER_BENCH_N` (default 20) senders each send one
//! `/codex_usage all` through the plugin and one through the bot, alternating, so load on the
//! machine falls on both alike. Timed from the update being queued to the placeholder's
//! `sendMessage` and to the final `editMessageText`, as the fake Bot API received them. Also
//! the idle resident memory of `plugin-host` and of `bot`, and, to tell OpenClaw's share from
//! ours, a `plugin-host` of its own driven over its pipes with no gateway in front.
//!
//! Both tests are ignored: `cargo test` never runs the bench (the end-to-end test covers
//! correctness); the outer one re-runs the inner one inside its own network namespace.

use std::time::{Duration, Instant};

use serde_json::json;

use super::driver::{Host, command_event, from};
use super::gateway_kit::{
    Senders, inside as is_inside, plugin_host_pid, push_command, rerun_in_netns, rss_kib,
    start_gateway, wait_for,
};
use super::host::{Setup, setup};
use crate::support::bot_api::FakeBotApi;
use crate::support::fixtures::Fixture;
use crate::telegram::process::BotProcess;

const OWNER: u64 = 1001;
/// Senders are `FIRST`, `FIRST + 1`, ...
const FIRST: u64 = 30_000;
const DEFAULT_N: usize = 20;

#[test]
#[ignore = "a bench: scripts/plugin-bench runs it"]
fn plugin_against_bot() {
    let n = std::env::var("CODEX_PROFILER_BENCH_N").unwrap_or_else(|_| DEFAULT_N.to_string());
    let out = rerun_in_netns("plugin::bench::inside", &[("CODEX_PROFILER_BENCH_N", n)]);
    for line in out.lines().filter(|l| l.starts_with("bench ")) {
        println!("{line}");
    }
}

/// One side's timings.
#[derive(Default)]
struct Side {
    placeholder: Vec<Duration>,
    result: Vec<Duration>,
}

/// The `q` quantile of `xs` (nearest rank).
fn quantile(xs: &[Duration], q: f64) -> Duration {
    let mut v = xs.to_vec();
    v.sort();
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
    v[rank - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// `/codex_usage all` from `user` on `api`: (to the placeholder, to the final edit).
async fn one(api: &FakeBotApi, user: u64) -> (Duration, Duration) {
    let mark = api.requests().len();
    let t0 = Instant::now();
    push_command(api, user, "/codex_usage all");
    let placeholder = wait_for(api, mark, user, "Running Codex usage check").await;
    let result = wait_for(api, mark, user, "bob@example.com").await;
    assert!(
        placeholder.is("sendMessage") && result.is("editMessageText"),
        "{}",
        api.wire_text()
    );
    assert_eq!(result.message_id(), placeholder.message_id());
    (placeholder.at - t0, result.at - t0)
}

/// The host's own share: a `plugin-host` of its own on the same store, driven over its pipes
/// as the plugin drives it, one `/codex_usage all` per sender (to its first `send`, the
/// progress, and to `done`, after the result's edit).
fn host_alone(fx: &Fixture, usage: &str, users: &[u64]) -> Side {
    let state = fx.state_dir();
    let mut host = Host::spawn(
        fx.home(),
        &[
            ("OPENCLAW_STATE_DIR", state.to_str().unwrap()),
            ("CODEX_PROFILER_USAGE_URL", usage),
        ],
    );
    host.next();
    host.send(&json!({"type": "hello", "protocol": 1}));
    let mut side = Side::default();
    for (i, &user) in users.iter().enumerate() {
        let id = format!("b{i}");
        let t0 = Instant::now();
        host.send(&command_event(&id, &from(user, false), "/codex_usage all"));
        let first = host.next();
        let placeholder = t0.elapsed();
        assert_eq!(first["type"], "send", "{first}");
        host.until_done(&id);
        // The cold start is the first sender's; the rounds are the rest.
        if i > 0 {
            side.placeholder.push(placeholder);
            side.result.push(t0.elapsed());
        }
    }
    host.close();
    side
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by plugin_against_bot inside its own network namespace"]
async fn inside() {
    if !is_inside() {
        return;
    }
    let n: usize = std::env::var("CODEX_PROFILER_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_N)
        .max(1);
    let Setup {
        fx, server: usage, ..
    } = setup();
    let home = fx.home().to_path_buf();
    let state = fx.state_dir();
    // The cold request's sender, then one per round.
    let users: Vec<u64> = (0..=n as u64).map(|i| FIRST + i).collect();

    let gw_api = FakeBotApi::start().await;
    let env = json!({"OPENCLAW_STATE_DIR": state, "CODEX_PROFILER_USAGE_URL": usage.url});
    let who = Senders {
        owner: OWNER,
        allow: &users,
    };
    let started = Instant::now();
    let gw = start_gateway((&home, &state), &gw_api, &who, "info", env).await;
    let gateway_start = started.elapsed();

    let bot_api = FakeBotApi::start().await;
    let list: Vec<String> = users.iter().map(u64::to_string).collect();
    let list = list.join(",");
    let bot = BotProcess::start(
        &home,
        &bot_api,
        &[
            ("OPENCLAW_STATE_DIR", state.to_str().unwrap()),
            ("CODEX_PROFILER_USAGE_URL", usage.url.as_str()),
            ("CODEX_PROFILER_ADMINS", "1001"),
            ("CODEX_PROFILER_USERS", list.as_str()),
        ],
    );
    bot_api
        .wait_calls("getUpdates", 1, Duration::from_secs(60))
        .await;

    let cold_plugin = one(&gw_api, users[0]).await;
    let cold_bot = one(&bot_api, users[0]).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let host = plugin_host_pid().expect("the plugin started its host");
    let (host_idle, bot_idle) = (rss_kib(host), rss_kib(bot.id()));

    let (mut plugin, mut ours) = (Side::default(), Side::default());
    for &user in &users[1..] {
        let (p, r) = one(&gw_api, user).await;
        plugin.placeholder.push(p);
        plugin.result.push(r);
        let (p, r) = one(&bot_api, user).await;
        ours.placeholder.push(p);
        ours.result.push(r);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (host_after, bot_after) = (rss_kib(host), rss_kib(bot.id()));
    let hits = usage.total_hits();
    let alone = host_alone(&fx, &usage.url, &users);

    println!(
        "bench gateway ready after {:.1} s",
        gateway_start.as_secs_f64()
    );
    println!(
        "bench cold (first request): plugin placeholder {:.1} ms, final {:.1} ms; bot placeholder {:.1} ms, final {:.1} ms",
        ms(cold_plugin.0),
        ms(cold_plugin.1),
        ms(cold_bot.0),
        ms(cold_bot.1)
    );
    println!(
        "bench n = {n} requests per side, alternating; usage server hits {hits} (2 a request: {})",
        4 * users.len()
    );
    for (name, q) in [("p50", 0.5), ("p99", 0.99)] {
        println!(
            "bench plugin-host alone over its pipes {name}: first send {:.1} ms, done {:.1} ms",
            ms(quantile(&alone.placeholder, q)),
            ms(quantile(&alone.result, q))
        );
    }
    for (what, p, b) in [
        ("placeholder", &plugin.placeholder, &ours.placeholder),
        ("final edit", &plugin.result, &ours.result),
    ] {
        for (q, name) in [(0.5, "p50"), (0.99, "p99")] {
            let (pq, bq) = (quantile(p, q), quantile(b, q));
            println!(
                "bench {what} {name}: plugin {:.1} ms, bot {:.1} ms, plugin/bot x{:.2}",
                ms(pq),
                ms(bq),
                pq.as_secs_f64() / bq.as_secs_f64().max(1e-6)
            );
        }
    }
    println!(
        "bench idle VmRSS: plugin-host {host_idle} KiB (after the run {host_after} KiB), bot {bot_idle} KiB (after {bot_after} KiB)"
    );
    drop(gw);
    drop(bot);
}
