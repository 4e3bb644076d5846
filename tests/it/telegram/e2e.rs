//! The real `codex-profiler bot` binary against the fake Bot API.

use std::time::Duration;

use serde_json::json;

use super::process::BotProcess;
use crate::support::bot_api::{FakeBotApi, TOKEN};
use crate::support::cli;

const WAIT: Duration = Duration::from_secs(15);

#[test]
fn no_token_exits_2_and_says_what_to_set() {
    let home = tempfile::tempdir().unwrap();
    let run = cli::run(home.path(), &[("CODEX_PROFILER_ADMINS", "1")], &["bot"]);
    run.expect_code(2);
    assert!(run.stderr.contains("TELEGRAM_BOT_TOKEN"), "{}", run.stderr);
    assert!(run.stderr.contains("codex-profiler chat"), "{}", run.stderr);
}

/// The README's set-up: `cp .env.example .env`, then run. The copy leaves most variables
/// empty; empty means unset, so `bot` says what to set and the CLI reads `~/.openclaw`.
#[test]
fn a_copied_env_example_works_as_the_readme_says() {
    let fx = crate::support::fixtures::Fixture::new();
    let (store, state) = crate::support::fixtures::state_db_example();
    fx.state_db(&store, Some(&state));
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".env.example");
    // `cli::run` starts the binary in the home, where `.env` is read from.
    std::fs::copy(example, fx.home().join(".env")).unwrap();

    let bot = cli::run(fx.home(), &[], &["bot"]);
    bot.expect_code(2);
    assert!(
        bot.stderr.contains("TELEGRAM_BOT_TOKEN is not set"),
        "{}",
        bot.stderr
    );
    assert!(bot.stderr.contains("codex-profiler chat"), "{}", bot.stderr);

    let profiles = cli::run(fx.home(), &[], &["--json", "profiles"]);
    profiles.expect_code(0);
    assert_eq!(
        profiles.json()["profiles"].as_array().map(Vec::len),
        Some(2)
    );

    let chat = cli::run_with_stdin(fx.home(), &[], &["chat"], "/help\n");
    chat.expect_code(0);
    assert!(chat.stdout.contains("/codex_usage"), "{}", chat.stdout);
}

#[test]
fn no_admin_refuses_to_start_naming_the_variable() {
    let home = tempfile::tempdir().unwrap();
    let run = cli::run(home.path(), &[("TELEGRAM_BOT_TOKEN", TOKEN)], &["bot"]);
    run.expect_code(2);
    assert!(
        run.stderr.contains("CODEX_PROFILER_ADMINS"),
        "{}",
        run.stderr
    );
    run.assert_no_secret(&[TOKEN]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishes_menu_answers_and_stops_cleanly_on_sigterm() {
    let home = tempfile::tempdir().unwrap();
    let api = FakeBotApi::start().await;
    let bot = BotProcess::start(home.path(), &api, &[]);
    let cmds = api.wait_calls("setMyCommands", 1, WAIT).await;
    let names: Vec<&str> = cmds[0].body["commands"]
        .as_array()
        .expect("commands")
        .iter()
        .filter_map(|c| c["command"].as_str())
        .collect();
    assert!(
        names.contains(&"codex_usage") && names.contains(&"codex_auth"),
        "{names:?}"
    );
    assert!(names.iter().all(|n| !n.starts_with('/')));

    // The admin gets the admin's start text; a stranger is refused with their id shown.
    api.push_text(1, 1, "/start");
    api.push_text(77, 77, "/codex_usage all");
    api.wait_until(WAIT, "both answers", |rs| {
        rs.iter()
            .filter(|r| r.method.eq_ignore_ascii_case("sendMessage"))
            .count()
            >= 2
    })
    .await;
    let to = |chat: i64| -> String {
        api.calls("sendMessage")
            .iter()
            .filter(|r| r.body["chat_id"] == json!(chat))
            .map(|r| r.body["text"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    assert!(to(1).contains("You are an admin"), "{}", to(1));
    assert!(to(77).contains("77"), "{}", to(77));
    assert!(to(77).contains("not allowed"), "{}", to(77));

    let ended = bot.terminate(WAIT).await;
    assert_eq!(ended.code, Some(0), "stderr:\n{}", ended.stderr);
    cli::assert_no_secret_in(&ended.stderr, &[TOKEN]);
    cli::assert_no_secret_in(&ended.stdout, &[TOKEN]);
    // Handled updates were confirmed before exit.
    assert_eq!(api.pending_updates(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_start_up_still_exits_cleanly() {
    let home = tempfile::tempdir().unwrap();
    let api = FakeBotApi::start().await;
    // getMe (the first call) hangs for a second: the signal arrives while the bot is
    // starting.
    api.set_delay(Some(Duration::from_secs(1)));
    let bot = BotProcess::start(home.path(), &api, &[]);
    api.wait_calls("getMe", 1, WAIT).await;
    let ended = bot.terminate(WAIT).await;
    assert_eq!(ended.code, Some(0), "stderr:\n{}", ended.stderr);
}
