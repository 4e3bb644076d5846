//! Menus by role (issue 11 item 6): the adapter publishes everyone's menu in the default
//! scope and the admin menu in each admin's chat scope; users never get the admin wording.
//! A failed publication is retried, and only warns. And several agents over the wire (item 7).

use std::sync::Arc;
use std::time::Duration;

use codex_profiler::adapters::telegram::{self, Handler, TelegramConfig};
use codex_profiler::chat::transport::UserId;
use codex_profiler::chat::{ChatConfig, Conversation};
use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::support::bot_api::{FakeBotApi, Injection, TOKEN};

const WAIT: Duration = Duration::from_secs(20);

fn config(api: &FakeBotApi) -> TelegramConfig {
    let env = [
        ("TELEGRAM_BOT_TOKEN", TOKEN.to_owned()),
        ("TELEGRAM_API_URL", api.url.clone()),
        ("CODEX_PROFILER_ADMINS", "11,12".to_owned()),
        ("CODEX_PROFILER_POLL_TIMEOUT_SEC", "1".to_owned()),
    ];
    TelegramConfig::from_lookup(|k| env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()))
        .expect("config")
}

fn descriptions(call: &Value) -> String {
    call["commands"]
        .as_array()
        .expect("commands")
        .iter()
        .map(|c| format!("{}: {}\n", c["command"], c["description"]))
        .collect()
}

#[tokio::test]
async fn each_admin_gets_the_admin_menu_in_a_chat_scope_and_everyone_else_the_users_menu() {
    let api = FakeBotApi::start().await;
    let state = tempfile::tempdir().unwrap();
    let mut chat = ChatConfig {
        admins: [UserId(11), UserId(12)].into_iter().collect(),
        users: [UserId(20)].into_iter().collect(),
        ..ChatConfig::default()
    };
    chat.store.state_dir = Some(state.path().to_owned());
    let conv = Conversation::new(chat).expect("conversation");
    // The first try fails: it is retried, and the bot runs meanwhile.
    api.inject("setMyCommands", Injection::ServerError);
    let handler: Handler = Arc::new(|_, _| Box::pin(async {}));
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(telegram::run(
        config(&api),
        conv.menus(),
        handler,
        async move {
            let _ = rx.await;
        },
    ));
    // Default (after one refusal and a retry), admin 11, admin 12.
    let calls = api.wait_calls("setMyCommands", 4, WAIT).await;
    let bodies: Vec<&Value> = calls.iter().map(|c| &c.body).collect();
    let everyone = bodies[1];
    assert!(everyone.get("scope").is_none(), "{everyone}");
    let users = descriptions(everyone);
    assert!(users.contains("codex_usage"), "{users}");
    for admin_word in ["retire", "delete", "new logins"] {
        assert!(!users.contains(admin_word), "{users}");
    }
    for (body, admin) in bodies[2..].iter().zip([11, 12]) {
        assert_eq!(
            body["scope"],
            json!({"type": "chat", "chat_id": admin}),
            "{body}"
        );
        let menu = descriptions(body);
        assert!(
            menu.contains("retire") && menu.contains("new logins"),
            "{menu}"
        );
    }
    let _ = tx.send(());
    tokio::time::timeout(WAIT, task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

/// Several agents over the Telegram wire, with the `codex-profiler bot` binary and its real
/// engine: the admin's messages say whose view they are, and a switch to agent `work` by
/// name shows `work`'s overlay profile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bot_says_whose_view_it_is_and_switches_agents() {
    let fx = crate::chat::agents::two_agents();
    let api = FakeBotApi::start().await;
    let state = fx.state_arg();
    let bot = super::process::BotProcess::start(fx.home(), &api, &[("OPENCLAW_STATE_DIR", &state)]);
    api.push_text(1, 1, "/codex_auth");
    let first = api.wait_text(1, "Codex logins", WAIT).await;
    assert!(first.text().starts_with("Agent main\n"), "{}", first.text());
    api.push_text(1, 1, "/codex_auth agent work");
    api.wait_text(1, "now shows and changes agent work", WAIT)
        .await;
    api.push_text(1, 1, "/codex_auth");
    api.wait_text(1, "wanda@example.com", WAIT).await;
    let ended = bot.terminate(WAIT).await;
    assert_eq!(ended.code, Some(0), "{}", ended.stderr);
}
