//! Chat load, latency and memory benchmark (see `docs/PERFORMANCE.md`, "Chat").
//!
//! Everything on loopback, the fakes in this process and each bot a child process:
//! - the floor: a bare teloxide `Dispatcher` reply bot (this binary run as `floor-bot`);
//! - ours: the real release `codex-profiler bot` with a fixture store of 50 Codex profiles and
//!   the loopback usage server answering each profile after 200 ms.
//!
//! Load: 1,000 chats (distinct users) each send `/codex_usage all` at once, again and again
//! (one wave after the previous one has every reply) for `BENCH_MINUTES`; every chat must get
//! its progress message and its final result in every wave, the child must stay alive. Per
//! wave and chat: the time from the update being available in `getUpdates` to the bot's first
//! `sendMessage` (progress) and, for ours, its `editMessageText` (final). Five rounds, floor
//! then ours in each; the ratio of progress p99 per round, the median of the rounds.
//!
//! Memory: 10,000 distinct users each send `/help` to a fresh child; its VmRSS / VmHWM from
//! `/proc/<pid>/status`. Run: `cargo bench --bench chat` (env `BENCH_MINUTES` (may be a
//! fraction), `BENCH_CHATS`, `BENCH_PROFILES`, `BENCH_USERS`, `BENCH_ROUNDS`). Under
//! `cargo test` (no `--bench` argument) it runs one short smoke round.

#[path = "../../tests/it/support/bot_api/mod.rs"]
#[allow(dead_code)]
mod bot_api;

mod child;
mod fixture;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bot_api::{FakeBotApi, TOKEN};
use child::{BotProcess, Memory};
use fixture::Setup;

/// Sizes of one run.
struct Plan {
    chats: usize,
    profiles: usize,
    users: usize,
    rounds: usize,
    duration: Duration,
    drain: bool,
}

/// Which bot a wave runs against.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Floor,
    Ours,
}

/// Latencies of one bot in one round, over all its waves.
#[derive(Default)]
struct Run {
    progress: Vec<Duration>,
    last: Vec<Duration>,
    waves: usize,
    /// The child's CPU time over the round's waves.
    cpu: Duration,
}

fn env_num<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn users_allowed() -> usize {
    (fixture::ALLOWED_USERS.end - fixture::ALLOWED_USERS.start) as usize
}

fn percentile(v: &mut [Duration], p: f64) -> Duration {
    if v.is_empty() {
        return Duration::ZERO;
    }
    v.sort();
    let idx = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[idx.min(v.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// Push one message per chat at once; return the push instant per chat id.
fn push_all(api: &FakeBotApi, n: usize, text: &str, first_user: u64) -> HashMap<i64, Instant> {
    let mut pushed = HashMap::with_capacity(n);
    for i in 0..n as u64 {
        let user = first_user + i;
        pushed.insert(user as i64, Instant::now());
        api.push_text(user, user as i64, text);
    }
    pushed
}

/// Start a bot child against a fresh fake and wait for its first poll.
async fn start(kind: Kind, setup: &Setup) -> (FakeBotApi, BotProcess) {
    let api = FakeBotApi::start().await;
    let bot = match kind {
        Kind::Floor => BotProcess::floor(&api.url, TOKEN, setup.home()),
        Kind::Ours => {
            // glibc's allocator knobs reach the child only when asked (`BENCH_MALLOC_ARENA_MAX`).
            let extra: Vec<(String, String)> = std::env::var("BENCH_MALLOC_ARENA_MAX")
                .map(|v| vec![("MALLOC_ARENA_MAX".to_owned(), v)])
                .unwrap_or_default();
            BotProcess::ours(&setup.bot_env(&api.url, TOKEN), setup.home(), &extra)
        }
    };
    eprintln!("bot child pid {}", bot.pid());
    let polled = api
        .wait_calls("getUpdates", 1, Duration::from_secs(30))
        .await;
    assert!(!polled.is_empty(), "the bot child never polled");
    (api, bot)
}

/// One wave: every chat sends at once; wait for every reply; add the latencies to `run`.
async fn wave(
    api: &FakeBotApi,
    bot: &mut BotProcess,
    kind: Kind,
    (first, chats): (u64, usize),
    run: &mut Run,
) {
    let pushed = push_all(api, chats, "/codex_usage all", first);
    let final_method = match kind {
        Kind::Floor => "sendMessage",
        Kind::Ours => "editMessageText",
    };
    // Only this wave's chats count: a long result's overflow part (a `sendMessage` after
    // the edit) of the wave before may still be arriving.
    // Counted in place: copying the whole log (1,000 results of a few KiB) every 50 ms held
    // the fake's lock long enough to delay the bot's own requests, and more so the larger the
    // result, which is what this bench compares.
    let answered = |method: &str| {
        let mut chats = std::collections::HashSet::new();
        api.count(|r| {
            r.is(method)
                && r.body["chat_id"]
                    .as_i64()
                    .is_some_and(|c| pushed.contains_key(&c) && chats.insert(c))
        })
    };
    let deadline = Instant::now() + Duration::from_secs(300);
    while answered(final_method) < chats {
        assert!(bot.alive(), "the bot child died under load");
        assert!(
            Instant::now() < deadline,
            "lost replies: {} of {chats} chats got no final answer",
            chats - answered(final_method)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut first_send: HashMap<i64, Instant> = HashMap::new();
    let mut edit: HashMap<i64, Instant> = HashMap::new();
    for r in api.requests() {
        let Some(chat) = r.body["chat_id"]
            .as_i64()
            .filter(|c| pushed.contains_key(c))
        else {
            continue;
        };
        if r.is("sendMessage") {
            first_send.entry(chat).or_insert(r.at);
        } else if r.is("editMessageText") {
            assert!(
                r.text().starts_with("Codex usage"),
                "chat {chat} got a failure, not its result: {}",
                r.text()
            );
            edit.insert(chat, r.at);
        }
    }
    assert_eq!(first_send.len(), chats, "a chat got no progress message");
    if std::env::var_os("BENCH_TIMELINE").is_some() {
        timeline(&pushed, &first_send, &edit, &api.requests());
    }
    for (chat, at) in &pushed {
        if let Some(s) = first_send.get(chat) {
            run.progress.push(s.saturating_duration_since(*at));
        }
        if let Some(e) = edit.get(chat) {
            run.last.push(e.saturating_duration_since(*at));
        }
    }
    run.waves += 1;
    api.forget();
}

/// Where the progress messages fall against the first final edit, per 100 ms from the push
/// (`BENCH_TIMELINE=1`): progress sends taken after the results started going out wait
/// behind them.
fn timeline(
    pushed: &HashMap<i64, Instant>,
    sends: &HashMap<i64, Instant>,
    edits: &HashMap<i64, Instant>,
    requests: &[bot_api::Recorded],
) {
    let Some(t0) = pushed.values().min().copied() else {
        return;
    };
    let first_edit = edits
        .values()
        .min()
        .map(|e| ms(e.saturating_duration_since(t0)));
    let polls: Vec<f64> = requests
        .iter()
        .filter(|r| r.is("getUpdates") && r.at >= t0)
        .map(|r| ms(r.at.saturating_duration_since(t0)))
        .collect();
    let mut buckets: std::collections::BTreeMap<u64, (usize, usize)> = Default::default();
    for s in sends.values() {
        buckets
            .entry(s.saturating_duration_since(t0).as_millis() as u64 / 100)
            .or_default()
            .0 += 1;
    }
    for e in edits.values() {
        buckets
            .entry(e.saturating_duration_since(t0).as_millis() as u64 / 100)
            .or_default()
            .1 += 1;
    }
    eprintln!("first edit at {first_edit:?} ms; getUpdates at {polls:.0?}");
    for (b, (s, e)) in buckets {
        eprintln!("  {:>5} ms: {s:>4} progress {e:>4} final", b * 100);
    }
}

/// One bot for one round: waves until `duration` has passed (at least one).
async fn round(kind: Kind, setup: &Setup, plan: &Plan) -> Run {
    let (api, mut bot) = start(kind, setup).await;
    let mut run = Run::default();
    let mut last_used: HashMap<usize, Instant> = HashMap::new();
    let until = Instant::now() + plan.duration;
    let cpu_before = bot.cpu();
    loop {
        // The same user asking the same again within the dedupe window gets "duplicate", not
        // a check: each wave takes the next group of users, one not used for that long.
        let groups = (users_allowed() / plan.chats.max(1)).max(1);
        let group = run.waves % groups;
        if let Some(at) = last_used.get(&group) {
            let reuse = *at + codex_profiler::chat::dedupe::WINDOW + Duration::from_secs(1);
            tokio::time::sleep_until(reuse.into()).await;
        }
        last_used.insert(group, Instant::now());
        let first = fixture::ALLOWED_USERS.start + (group * plan.chats) as u64;
        wave(&api, &mut bot, kind, (first, plan.chats), &mut run).await;
        if Instant::now() >= until {
            break;
        }
    }
    run.cpu = bot.cpu().saturating_sub(cpu_before);
    run
}

/// Memory figures of one run: idle, after the users, after the drain, after `malloc_trim(0)`.
struct MemoryRun {
    idle: Memory,
    after: Memory,
    drained: Option<Memory>,
    trimmed: Option<Memory>,
    smaps: String,
}

/// Memory of a fresh child: idle, after `users` distinct users sent `/help`, and (if `drain`)
/// once their per-user workers idled out.
async fn memory(setup: &Setup, plan: &Plan) -> MemoryRun {
    let (api, mut bot) = start(Kind::Ours, setup).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let idle = bot.memory();
    let first = fixture::ALLOWED_USERS.start;
    for chunk in 0..plan.users.div_ceil(500) {
        let start = chunk * 500;
        let count = 500.min(plan.users - start);
        push_all(&api, count, "/help", first + start as u64);
        let deadline = Instant::now() + Duration::from_secs(120);
        while api.sends() < start + count {
            assert!(bot.alive(), "the bot child died");
            assert!(Instant::now() < deadline, "not every user got an answer");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        api.forget();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = bot.memory();
    let smaps = bot.smaps_rollup();
    let drained = if plan.drain {
        tokio::time::sleep(
            codex_profiler::adapters::telegram::DEFAULT_IDLE + Duration::from_secs(3),
        )
        .await;
        Some(bot.memory())
    } else {
        None
    };
    // What is live, not kept by the allocator (`BENCH_TRIM=0` skips it; needs `gdb`).
    let trim = plan.drain && std::env::var("BENCH_TRIM").map_or(true, |v| v != "0");
    let trimmed = (trim && bot.malloc_trim()).then(|| bot.memory());
    MemoryRun {
        idle,
        after,
        drained,
        trimmed,
        smaps,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some(child::FLOOR_ARG) {
        child::run_floor(&args[2], &args[3]);
        return;
    }
    let bench = args.iter().any(|a| a == "--bench");
    let plan = Plan {
        chats: env_num("BENCH_CHATS", if bench { 1_000 } else { 20 }),
        profiles: env_num("BENCH_PROFILES", if bench { 50 } else { 5 }),
        users: env_num("BENCH_USERS", if bench { 10_000 } else { 200 }),
        rounds: env_num("BENCH_ROUNDS", if bench { 5 } else { 1 }),
        duration: Duration::from_secs_f64(
            env_num("BENCH_MINUTES", if bench { 1.0 } else { 0.0 }) * 60.0,
        ),
        drain: bench && env_num("BENCH_USERS", 1) > 0,
    };
    let setup = Setup::new(plan.profiles);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let MemoryRun {
            idle,
            after,
            drained,
            trimmed,
            smaps,
        } = memory(&setup, &plan).await;
        println!(
            "\nmemory of the `codex-profiler bot` child (KiB): idle VmRSS {} (threads {}); after {} \
             distinct users VmRSS {} VmHWM {} (threads {})",
            idle.rss, idle.threads, plan.users, after.rss, after.hwm, after.threads
        );
        if let Some(d) = drained {
            println!("after their workers idled out: VmRSS {} VmHWM {}", d.rss, d.hwm);
        }
        if let Some(t) = trimmed {
            println!("then after malloc_trim(0) in the child: VmRSS {}", t.rss);
        }
        let rollup: Vec<&str> = smaps
            .lines()
            .filter(|l| ["Rss:", "Anonymous:", "Private_Clean:", "Shared_Clean:"].iter().any(|p| l.starts_with(p)))
            .collect();
        println!("smaps_rollup: {}", rollup.join("; ").split_whitespace().collect::<Vec<_>>().join(" "));

        println!(
            "\n{} chats x `/codex_usage all` on {} profiles, {:.1} min per bot per round; ms from \
             update available to:",
            plan.chats,
            plan.profiles,
            plan.duration.as_secs_f64() / 60.0
        );
        println!("| round | bot | waves | replies | progress p50 | progress p99 | final p50 | final p99 | CPU ms / 1,000 | p99 ratio |");
        println!("|---|---|---|---|---|---|---|---|---|---|");
        let mut ratios = Vec::new();
        for r in 1..=plan.rounds {
            let mut floor = round(Kind::Floor, &setup, &plan).await;
            let mut ours = round(Kind::Ours, &setup, &plan).await;
            let f99 = ms(percentile(&mut floor.progress, 0.99));
            let o99 = ms(percentile(&mut ours.progress, 0.99));
            let ratio = o99 / f99.max(0.001);
            ratios.push(ratio);
            for (name, run, ratio) in [("floor", &mut floor, 1.0), ("ours", &mut ours, ratio)] {
                let last = if run.last.is_empty() {
                    "- | -".to_owned()
                } else {
                    format!(
                        "{:.1} | {:.1}",
                        ms(percentile(&mut run.last, 0.5)),
                        ms(percentile(&mut run.last, 0.99))
                    )
                };
                let per_1000 = ms(run.cpu) * 1000.0 / run.progress.len().max(1) as f64;
                println!(
                    "| {r} | {name} | {} | {} | {:.1} | {:.1} | {last} | {per_1000:.0} | {ratio:.2}x |",
                    run.waves,
                    run.progress.len(),
                    ms(percentile(&mut run.progress, 0.5)),
                    ms(percentile(&mut run.progress, 0.99)),
                );
            }
        }
        println!(
            "\nprogress p99 ours / floor: median of {} rounds {:.2}x (rounds: {}); usage requests \
             answered {}",
            plan.rounds,
            median(&mut ratios.clone()),
            ratios.iter().map(|r| format!("{r:.2}x")).collect::<Vec<_>>().join(", "),
            setup.usage_hits()
        );
    });
}
