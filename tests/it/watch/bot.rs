//! The bot's watcher: the real `codex-profiler bot` with a 2 s interval against the fake Bot
//! API and a scripted usage endpoint. alice's window has reset but the gateway still blocks
//! her: each admin gets one message (in their private chat) with an Unblock button; a plain
//! user's tap is refused and changes nothing; an admin's tap clears the block in the store.

use std::time::Duration;

use super::*;
use crate::support::bot_api::FakeBotApi;
use crate::support::cli::assert_no_secret_in;
use crate::telegram::process::BotProcess;

const WAIT: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bot_tells_each_admin_once_and_the_unblock_button_clears_the_block() {
    let until = chrono::Utc::now().timestamp_millis() + 4 * 3_600_000;
    let g = Gateway::new(Some(until));
    // Baseline (cron's first run): alice limited. Then every check finds her quota back.
    let server = g.server(Reply::Sequence(vec![used(100.0), used(3.0)]), used(20.0));
    g.once(&server, &[]).expect_code(0);

    let api = FakeBotApi::start().await;
    let bot = BotProcess::start(
        g.fx.home(),
        &api,
        &[
            ("OPENCLAW_STATE_DIR", &g.fx.state_arg()),
            ("CODEX_PROFILER_ADMINS", "1,2"),
            ("CODEX_PROFILER_USERS", "3"),
            ("CODEX_PROFILER_USAGE_URL", &server.url),
            ("CODEX_PROFILER_WATCH_INTERVAL", "2"),
        ],
    );
    let note = api.wait_text(1, "usable again", WAIT).await;
    let other = api.wait_text(2, "usable again", WAIT).await;
    for m in [&note, &other] {
        assert!(
            m.text().contains("keeps alice@example.com out until"),
            "{}",
            m.text()
        );
        assert!(
            m.text().starts_with("Codex watcher: 2 changes"),
            "{}",
            m.text()
        );
    }
    let data = note.button("Unblock alice@example.com");
    assert!(
        data.starts_with("codex_auth_unblock:") && data.len() <= 64,
        "{data}"
    );

    // A plain user (in their own chat) is refused; nothing is written.
    api.push_tap(3, 3, note.message_id(), &data);
    api.wait_calls("answerCallbackQuery", 1, WAIT).await;
    assert!(
        g.alice_stats()["blockedUntil"].is_i64(),
        "a refused tap changed the store"
    );

    api.push_tap(1, 1, note.message_id(), &data);
    api.wait_text(1, "Cleared the block of openai:alice@example.com", WAIT)
        .await;
    let stats = g.alice_stats();
    assert!(
        stats.get("blockedUntil").is_none() && stats.get("cooldownUntil").is_none(),
        "{stats}"
    );
    assert_eq!(stats["lastUsed"], 1, "other fields kept: {stats}");

    // Later rounds find nothing new: no second notification to either admin.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let told = |chat| {
        api.messages_to(chat)
            .iter()
            .filter(|m| m.text().starts_with("Codex watcher"))
            .count()
    };
    assert_eq!((told(1), told(2)), (1, 1), "{}", api.wire_text());
    let refusals: Vec<String> = api
        .calls("answerCallbackQuery")
        .iter()
        .map(|c| c.body["text"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(refusals.iter().any(|t| t.contains("admin")), "{refusals:?}");

    let ended = bot.terminate(Duration::from_secs(10)).await;
    assert_eq!(ended.code, Some(0), "{}", ended.stderr);
    let secrets = g.secrets();
    let all = format!("{}\n{}\n{}", api.wire_text(), ended.stdout, ended.stderr);
    assert_no_secret_in(
        &all,
        &secrets.iter().map(String::as_str).collect::<Vec<_>>(),
    );
}
