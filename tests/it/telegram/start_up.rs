//! Issue 9 §6 and §7 for the bot: it starts whatever the Bot API says about the menu, waits
//! for a Bot API that is down at start, stops only for a refused token (with that cause), and
//! never sends the bot token (which is in every request's path) to a proxy when
//! `TELEGRAM_API_URL` is loopback. The real `codex-profiler bot` binary against the fake.

use std::time::Duration;

use super::process::BotProcess;
use crate::support::bot_api::{FakeBotApi, Injection, TOKEN};
use crate::support::cli::assert_no_secret_in;
use crate::support::proxy::RecordingProxy;
use crate::trust::UsageWorld;

const WAIT: Duration = Duration::from_secs(20);
const ADMIN: i64 = 1;
/// Alice's usage line up to its first reset (shown in the zone: `resets 14:25 UTC, in 2h 13m`).
const ALICE_LINE: &str = "alice@example.com · plus · 5h 42% left (resets ";

/// Alice's store and usage server ([`UsageWorld`]): `/codex_usage all` has a real answer to
/// wait for.
struct World(UsageWorld);

impl std::ops::Deref for World {
    type Target = UsageWorld;
    fn deref(&self) -> &UsageWorld {
        &self.0
    }
}

impl World {
    fn new() -> World {
        World(UsageWorld::new())
    }

    /// The bot's environment for this world, plus `more`.
    fn env(&self, more: &[(&'static str, String)]) -> Vec<(&'static str, String)> {
        let mut env = vec![
            ("OPENCLAW_STATE_DIR", self.fx.state_arg()),
            ("CODEX_PROFILER_USAGE_URL", self.usage.url.clone()),
        ];
        env.extend(more.iter().cloned());
        env
    }

    fn start(&self, api_url: &str, more: &[(&'static str, String)]) -> BotProcess {
        let env = self.env(more);
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        BotProcess::start_at(self.fx.home(), api_url, &env)
    }
}

/// `/codex_usage all` from the admin gets alice's usage line.
async fn answers_a_usage_check(api: &FakeBotApi) {
    api.push_text(1, ADMIN, "/codex_usage all");
    api.wait_text(ADMIN, ALICE_LINE, WAIT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_menu_the_server_answers_with_500_does_not_stop_the_bot() {
    let w = World::new();
    let api = FakeBotApi::start().await;
    api.always("setMyCommands", Injection::ServerError);
    let bot = w.start(&api.url, &[]);
    api.wait_calls("setMyCommands", 1, WAIT).await;
    api.wait_calls("getUpdates", 1, WAIT).await;
    answers_a_usage_check(&api).await;
    // (teloxide holds a 5xx reply 10 s before it returns the error, so the warning and the
    // retry come later; `an_unknown_menu_method_is_retried_in_the_background` sees them.)
    let ended = bot.terminate(WAIT).await;
    assert_eq!(ended.code, Some(0), "stderr:\n{}", ended.stderr);
    assert!(!ended.stderr.contains("did not accept the bot"));
    assert_no_secret_in(&ended.stderr, &[TOKEN, &w.access]);
}

/// A `setMyCommands` that hangs (longer than the client's 17 s timeout): the bot answers
/// meanwhile, because the menu is published beside polling, not before it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_menu_does_not_hold_up_the_answers() {
    let w = World::new();
    let api = FakeBotApi::start().await;
    api.always("setMyCommands", Injection::Slow(Duration::from_secs(30)));
    let bot = w.start(&api.url, &[]);
    api.wait_calls("setMyCommands", 1, WAIT).await;
    let asked = std::time::Instant::now();
    answers_a_usage_check(&api).await;
    assert!(
        asked.elapsed() < Duration::from_secs(10),
        "{:?}",
        asked.elapsed()
    );
    let ended = bot.terminate(WAIT).await;
    assert_eq!(ended.code, Some(0), "stderr:\n{}", ended.stderr);
}

/// A server that does not know `setMyCommands`, then one that answers `result: null`: the
/// bot polls and answers meanwhile, retries in the background, and publishes the menu once
/// the server takes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_menu_method_is_retried_in_the_background() {
    let w = World::new();
    let api = FakeBotApi::start().await;
    api.inject("setMyCommands", Injection::UnknownMethod);
    api.inject("setMyCommands", Injection::NullResult);
    let bot = w.start(&api.url, &[]);
    api.wait_calls("getUpdates", 1, WAIT).await;
    answers_a_usage_check(&api).await;
    let menus = api.wait_calls("setMyCommands", 3, WAIT).await;
    assert_eq!(menus[2].body, menus[0].body, "the same menu each time");
    // Backoff between tries: 1 s, then 2 s.
    assert!(menus[1].at - menus[0].at >= Duration::from_millis(900));
    assert!(menus[2].at - menus[1].at >= Duration::from_millis(1900));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let ended = bot.terminate(WAIT).await;
    assert_eq!(ended.code, Some(0), "stderr:\n{}", ended.stderr);
    assert!(
        ended.stderr.contains("command menu published"),
        "{}",
        ended.stderr
    );
    assert_no_secret_in(&ended.stderr, &[TOKEN, &w.access]);
}

/// The Bot API is not listening when the bot starts (connection refused), then answers its
/// first `getMe` with a 500: the bot logs, backs off, and starts once the server is there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bot_api_down_at_start_is_waited_for() {
    let w = World::new();
    let reserved = FakeBotApi::reserve();
    reserved.inject("getMe", Injection::ServerError);
    let bot = w.start(&reserved.url, &[]);
    // Long enough for a few refused tries (0.5 s, 1 s, ...).
    tokio::time::sleep(Duration::from_millis(1_800)).await;
    let api = reserved.start().await;
    api.wait_calls("getUpdates", 1, Duration::from_secs(40))
        .await;
    assert!(api.calls("getMe").len() >= 2, "{}", api.wire_text());
    answers_a_usage_check(&api).await;
    let ended = bot.terminate(WAIT).await;
    assert_eq!(ended.code, Some(0), "stderr:\n{}", ended.stderr);
    assert!(
        ended
            .stderr
            .contains("the Bot API did not answer getMe; retrying"),
        "{}",
        ended.stderr
    );
    assert_no_secret_in(&ended.stderr, &[TOKEN, &w.access]);
}

/// A wrong token: `getMe` gets 401, the bot exits 1 with that cause in one sentence, and
/// never starts polling.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_stops_with_the_cause_named() {
    let w = World::new();
    let api = FakeBotApi::start().await;
    let wrong = "424242:WRONGtokenNOTaccepted_zyxwvut";
    let bot = w.start(
        &api.url,
        &[
            ("TELEGRAM_BOT_TOKEN", wrong.to_owned()),
            ("RUST_LOG", "warn".to_owned()),
        ],
    );
    let ended = bot.wait_exit(WAIT).await;
    assert_eq!(ended.code, Some(1), "stderr:\n{}", ended.stderr);
    let lines: Vec<&str> = ended.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one sentence: {lines:?}");
    assert!(
        lines[0].contains("the bot token was refused (401)"),
        "{}",
        lines[0]
    );
    assert!(!lines[0].contains("did not accept the bot"), "{}", lines[0]);
    assert_no_secret_in(&ended.stderr, &[wrong, TOKEN]);
    assert_eq!(api.calls("getMe").len(), 1, "{}", api.wire_text());
    assert!(api.calls("getUpdates").is_empty(), "{}", api.wire_text());
}

/// Every proxy variable points at a recording listener: the bot talks to the loopback Bot
/// API directly, and the proxy never sees the token (it is in every request's path).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_loopback_bot_api_is_never_reached_through_a_proxy() {
    let w = World::new();
    let proxy = RecordingProxy::start();
    let api = FakeBotApi::start().await;
    let bot = w.start(&api.url, &proxy.env());
    api.wait_calls("getUpdates", 1, WAIT).await;
    answers_a_usage_check(&api).await;
    let ended = bot.terminate(WAIT).await;
    assert!(proxy.received().is_empty(), "{:?}", proxy.received());
    assert_eq!(ended.code, Some(0), "stderr:\n{}", ended.stderr);
    // Each call went through once: everyone's menu, then (if the bot got that far) the
    // admin's chat-scoped one.
    let menus = api.calls("setMyCommands").len();
    assert!(
        api.calls("getMe").len() == 1 && (1..=2).contains(&menus),
        "{menus}"
    );
}
