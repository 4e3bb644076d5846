//! Chat latency and memory benchmark (see `docs/PERFORMANCE.md, "Chat"`).
//!
//! Everything on loopback: the fake Bot API from the integration tests, a usage server, and
//! three bots taking turns against a fresh fake each:
//! 1. the floor: a minimal teloxide `Dispatcher` bot that only replies;
//! 2. our adapter with a trivial handler (send, then edit): the adapter's own overhead;
//! 3. our adapter with the real conversation core running `/codex_usage all`.
//!
//! N chats (distinct users) send their message at once; for each we measure the time from
//! the update being available in `getUpdates` to the bot's first `sendMessage` to that chat
//! (progress) and to its last `editMessageText` (final result). Then memory (VmRSS) idle and
//! after 10,000 distinct users. Run: `cargo bench --bench chat` (env `BENCH_CHATS`,
//! `BENCH_USERS` change the sizes). Under `cargo test` (no `--bench` argument) it runs one
//! short smoke round (20 chats, 200 users) so it keeps building and working without taking
//! minutes of CI.

#[path = "../../tests/it/support/bot_api/mod.rs"]
#[allow(dead_code)]
mod bot_api;

mod conversation;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bot_api::{FakeBotApi, TOKEN};
use codex_profiler::adapters::telegram::{self, Handler, TelegramConfig};
use codex_profiler::chat::transport::{Incoming, Transport};
use teloxide::prelude::*;
use tokio::sync::oneshot;

/// Latencies of one run, per chat.
struct Run {
    name: &'static str,
    progress: Vec<Duration>,
    last: Vec<Duration>,
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// VmRSS of this process in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn percentile(v: &mut [Duration], p: f64) -> Duration {
    if v.is_empty() {
        return Duration::ZERO;
    }
    v.sort();
    let idx = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[idx.min(v.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e3)
}

fn adapter_config(api: &FakeBotApi) -> TelegramConfig {
    let api_url = api.url.clone();
    TelegramConfig::from_lookup(move |k| match k {
        "TELEGRAM_BOT_TOKEN" => Some(TOKEN.into()),
        "TELEGRAM_API_URL" => Some(api_url.clone()),
        "CODEX_PROFILER_ADMINS" => Some("1".into()),
        "CODEX_PROFILER_POLL_TIMEOUT_SEC" => Some("1".into()),
        _ => None,
    })
    .expect("config")
}

/// Push one message per chat at once; return the push instant per chat id.
fn push_all(api: &FakeBotApi, n: usize, text: &str, first_user: u64) -> HashMap<i64, Instant> {
    let mut pushed = HashMap::new();
    for i in 0..n as u64 {
        let user = first_user + i;
        pushed.insert(user as i64, Instant::now());
        api.push_text(user, user as i64, text);
    }
    pushed
}

/// Wait until `done` chats have a request of `method`, polling (cheap for 10k chats).
async fn wait_chats(api: &FakeBotApi, method: &str, done: usize, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        let chats: std::collections::HashSet<i64> = api
            .calls(method)
            .iter()
            .filter_map(|r| r.body["chat_id"].as_i64())
            .collect();
        if chats.len() >= done {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

fn latencies(api: &FakeBotApi, pushed: &HashMap<i64, Instant>, name: &'static str) -> Run {
    let mut first_send: HashMap<i64, Instant> = HashMap::new();
    let mut last_edit: HashMap<i64, Instant> = HashMap::new();
    for r in api.requests() {
        let Some(chat) = r.body["chat_id"].as_i64() else {
            continue;
        };
        if r.method.eq_ignore_ascii_case("sendMessage") {
            first_send.entry(chat).or_insert(r.at);
        } else if r.method.eq_ignore_ascii_case("editMessageText") {
            last_edit.insert(chat, r.at);
        }
    }
    let since = |m: &HashMap<i64, Instant>| -> Vec<Duration> {
        m.iter()
            .filter_map(|(c, at)| pushed.get(c).map(|p| at.saturating_duration_since(*p)))
            .collect()
    };
    Run {
        name,
        progress: since(&first_send),
        last: since(&last_edit),
    }
}

/// The floor: teloxide's own Dispatcher, replying "ok" to every message.
async fn floor(n: usize) -> Run {
    let api = FakeBotApi::start().await;
    let bot = Bot::new(TOKEN).set_api_url(reqwest::Url::parse(&api.url).expect("url"));
    let handler = Update::filter_message().endpoint(|bot: Bot, msg: Message| async move {
        bot.send_message(msg.chat.id, "ok").await?;
        respond(())
    });
    let mut dispatcher = Dispatcher::builder(bot, handler).build();
    let token = dispatcher.shutdown_token();
    let task = tokio::spawn(async move { dispatcher.dispatch().await });
    api.wait_calls("getUpdates", 1, Duration::from_secs(10))
        .await;
    let pushed = push_all(&api, n, "/codex_usage all", 10_000);
    let ok = wait_chats(&api, "sendMessage", n, Duration::from_secs(120)).await;
    assert!(ok, "floor bot did not answer every chat");
    if let Ok(f) = token.shutdown() {
        f.await;
    }
    let _ = task.await;
    latencies(&api, &pushed, "teloxide floor (reply only)")
}

/// Send a progress message, then edit it: the adapter's shape without the core's work.
fn trivial() -> Handler {
    Arc::new(|event, t: Arc<dyn Transport>| {
        Box::pin(async move {
            if let Incoming::Text { origin, .. } = event {
                if let Ok(m) = t
                    .send(origin.chat, "Running Codex usage check…", None)
                    .await
                {
                    let _ = t.edit(m, "done", None).await;
                }
            }
        })
    })
}

/// Our adapter running against a fresh fake until the returned sender fires.
struct OurBot {
    api: FakeBotApi,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), telegram::TelegramError>>,
}

impl OurBot {
    async fn start(handler: Handler, menu: Vec<(String, String)>) -> OurBot {
        let api = FakeBotApi::start().await;
        let (stop, stopped) = oneshot::channel::<()>();
        let config = adapter_config(&api);
        let task = tokio::spawn(telegram::run(config, menu, handler, async move {
            let _ = stopped.await;
        }));
        api.wait_calls("getUpdates", 1, Duration::from_secs(10))
            .await;
        OurBot { api, stop, task }
    }

    async fn stop(self) -> FakeBotApi {
        let _ = self.stop.send(());
        let _ = self.task.await;
        self.api
    }
}

async fn adapter(
    name: &'static str,
    n: usize,
    handler: Handler,
    menu: Vec<(String, String)>,
    text: &str,
) -> Run {
    let bot = OurBot::start(handler, menu).await;
    let pushed = push_all(&bot.api, n, text, 10_000);
    let ok = wait_chats(&bot.api, "editMessageText", n, Duration::from_secs(300)).await;
    let api = bot.stop().await;
    assert!(ok, "{name}: not every chat got its final edit");
    latencies(&api, &pushed, name)
}

/// VmRSS (KiB) with the bot idle, after `users` distinct users each sent one message (their
/// workers still alive), and once those workers have ended ([`telegram::DEFAULT_IDLE`]).
async fn memory(
    users: usize,
    handler: Handler,
    menu: Vec<(String, String)>,
    text: &str,
) -> (u64, u64, u64) {
    let bot = OurBot::start(handler, menu).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let idle = rss_kib();
    for chunk in 0..users.div_ceil(500) {
        let start = chunk * 500;
        let count = 500.min(users - start);
        push_all(&bot.api, count, text, 10_000 + start as u64);
        let deadline = Instant::now() + Duration::from_secs(120);
        while bot.api.sends() < start + count && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // The fake's request log is test machinery, not the bot: keep it out of the figure.
        bot.api.forget();
    }
    assert!(bot.api.sends() >= users, "not every user got an answer");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = rss_kib();
    tokio::time::sleep(telegram::DEFAULT_IDLE + Duration::from_secs(3)).await;
    let drained = rss_kib();
    bot.stop().await;
    (idle, after, drained)
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let (chats, users) = if bench { (500, 10_000) } else { (20, 200) };
    let chats = env_usize("BENCH_CHATS", chats);
    let users = env_usize("BENCH_USERS", users);
    // A fixture store and a loopback usage server behind the real conversation core.
    let conversation = conversation::setup();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let base = rss_kib();
        // Memory first, so the latency runs' garbage (and the allocator keeping it) does not
        // count as the bot's.
        let (menu, handler) = conversation.handler().await;
        let (idle, after, drained) = memory(users, handler, menu, "/help").await;
        let mut runs = vec![floor(chats).await];
        runs.push(
            adapter(
                "adapter, trivial handler",
                chats,
                trivial(),
                vec![],
                "/codex_usage all",
            )
            .await,
        );
        let (menu, handler) = conversation.handler().await;
        runs.push(
            adapter(
                "adapter + conversation core",
                chats,
                handler,
                menu,
                "/codex_usage all",
            )
            .await,
        );
        println!("\n{chats} chats at once; ms from update available to:");
        println!("| bot | progress p50 | progress p99 | final p50 | final p99 |");
        println!("|---|---|---|---|---|");
        for mut r in runs {
            let (p50, p99) = (
                percentile(&mut r.progress, 0.5),
                percentile(&mut r.progress, 0.99),
            );
            let (f50, f99) = (percentile(&mut r.last, 0.5), percentile(&mut r.last, 0.99));
            let (f50, f99) = if r.last.is_empty() {
                ("-".into(), "-".into())
            } else {
                (ms(f50), ms(f99))
            };
            println!(
                "| {} | {} | {} | {} | {} |",
                r.name,
                ms(p50),
                ms(p99),
                f50,
                f99
            );
        }
        println!(
            "\nVmRSS (KiB): process start {base}; bot idle {idle}; after {users} distinct users \
             {after}; after their workers idled out {drained}"
        );
    });
}
