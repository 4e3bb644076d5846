//! Every chat flow of SPEC section 7 over the Telegram wire: the real adapter and the real
//! conversation core, a scripted engine (`scripted`), and the fake Bot API.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use codex_profiler::adapters::telegram::TelegramConfig;
use codex_profiler::chat::{ChatConfig, Conversation};
use serde_json::{Value, json};

use super::scripted::{CODE, STATE, Scripted};
use crate::support::bot_api::{FakeBotApi, Injection, Recorded, TOKEN};
use crate::support::cli::assert_no_secret_in;
use crate::support::in_process_bot::InProcessBot;

const WAIT: Duration = Duration::from_secs(10);
const ADMIN: u64 = 1;
const VIEWER: u64 = 2;
const STRANGER: u64 = 3;
const GROUP: i64 = -500;

struct Harness {
    api: FakeBotApi,
    engine: Arc<Scripted>,
    bot: InProcessBot,
}

impl Harness {
    async fn start(extra: &[(&str, &str)]) -> Harness {
        let api = FakeBotApi::start().await;
        let mut env: Vec<(String, String)> = vec![
            ("TELEGRAM_BOT_TOKEN".into(), TOKEN.into()),
            ("TELEGRAM_API_URL".into(), api.url.clone()),
            ("CODEX_PROFILER_ADMINS".into(), ADMIN.to_string()),
            ("CODEX_PROFILER_USERS".into(), VIEWER.to_string()),
            ("CODEX_PROFILER_POLL_TIMEOUT_SEC".into(), "1".into()),
        ];
        env.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let tg = TelegramConfig::from_lookup(get).expect("telegram config");
        let chat = ChatConfig::from_lookup(get).expect("chat config");
        let engine = Arc::new(Scripted::default());
        let conversation = Conversation::with_backend(chat, engine.clone());
        let bot = InProcessBot::start(&api, tg, conversation, WAIT).await;
        Harness { api, engine, bot }
    }

    async fn stop(&mut self) {
        // Whatever happened, the bot token was never in a request body.
        self.bot.stop(&self.api, &[], WAIT).await;
    }

    fn to(&self, chat: i64) -> Vec<Recorded> {
        self.api.messages_to(chat)
    }

    fn texts(&self, chat: i64) -> String {
        self.to(chat)
            .iter()
            .map(|r| r.text().to_owned())
            .collect::<Vec<_>>()
            .join("\n---\n")
    }

    async fn wait_text(&self, chat: i64, needle: &str) -> Recorded {
        self.api.wait_text(chat, needle, WAIT).await
    }
}

fn usage_runs(h: &Harness) -> usize {
    h.engine.usage_runs.load(Ordering::SeqCst)
}

#[tokio::test]
async fn usage_selector_tap_progress_and_result_on_the_same_message() {
    let mut h = Harness::start(&[]).await;
    h.api.push_text(ADMIN, ADMIN as i64, "/codex_usage");
    let selector = h.wait_text(ADMIN as i64, "Which Codex profiles").await;
    let labels: Vec<String> = selector.buttons().into_iter().map(|(l, _)| l).collect();
    assert_eq!(
        labels[..2],
        ["Default".to_owned(), "All profiles".to_owned()],
        "{labels:?}"
    );
    assert!(
        labels.iter().any(|l| l.contains("alice@example.com")),
        "{labels:?}"
    );
    let all = selector.button("All profiles");
    assert!(all.starts_with("codex_auth_") && all.len() <= 64, "{all}");

    let menu_id = selector.message_id();
    let tap = h.api.push_tap(ADMIN, ADMIN as i64, menu_id, &all);
    let result = h.wait_text(ADMIN as i64, "week 88% left").await;
    // Progress first, then the result, both as edits of the selector message.
    let edits: Vec<Recorded> = h
        .to(ADMIN as i64)
        .into_iter()
        .filter(|r| r.is("editMessageText"))
        .collect();
    assert!(
        edits[0].text().contains("Running Codex usage check"),
        "{}",
        h.texts(ADMIN as i64)
    );
    assert!(edits.iter().all(|e| e.body["message_id"] == json!(menu_id)));
    assert_eq!(result.body["message_id"], json!(menu_id));
    assert!(
        result
            .text()
            .contains("alice@example.com · plus · 5h 42% left")
    );
    let answers = h.api.calls("answerCallbackQuery");
    assert_eq!(
        answers
            .iter()
            .filter(|a| a.body["callback_query_id"] == json!(tap))
            .count(),
        1
    );
    assert_eq!(
        h.api.calls("sendMessage").len(),
        1,
        "the result came by edit only"
    );
    h.stop().await;
}

#[tokio::test]
async fn typed_usage_all_and_a_duplicate_within_20s_runs_once() {
    let mut h = Harness::start(&[]).await;
    h.api.push_text(ADMIN, ADMIN as i64, "/codex_usage all");
    let progress = h.wait_text(ADMIN as i64, "Running Codex usage check").await;
    assert!(progress.is("sendMessage"));
    h.api.push_text(ADMIN, ADMIN as i64, "/codex_usage all");
    let result = h.wait_text(ADMIN as i64, "bob@example.com · plus").await;
    assert!(result.is("editMessageText"));
    assert_eq!(result.body["message_id"], json!(progress.message_id()));
    h.wait_text(ADMIN as i64, "already running or just finished")
        .await;
    // After the first run finished: still a duplicate.
    h.api.push_text(ADMIN, ADMIN as i64, "/codex_usage all");
    h.api
        .wait_until(WAIT, "second duplicate notice", |rs| {
            rs.iter()
                .filter(|r| {
                    r.body["text"]
                        .as_str()
                        .unwrap_or_default()
                        .contains("already running or just finished")
                })
                .count()
                >= 2
        })
        .await;
    assert_eq!(usage_runs(&h), 1);
    h.stop().await;
}

#[tokio::test]
async fn a_stale_button_does_nothing_and_is_answered() {
    let mut h = Harness::start(&[]).await;
    let tap = h
        .api
        .push_tap(ADMIN, ADMIN as i64, 77, "codex_auth_usage:zz9");
    let forged = h.api.push_tap(ADMIN, ADMIN as i64, 77, "not_ours:x");
    h.api.wait_calls("answerCallbackQuery", 2, WAIT).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let answers = h.api.calls("answerCallbackQuery");
    for id in [&tap, &forged] {
        let mine: Vec<&Recorded> = answers
            .iter()
            .filter(|a| a.body["callback_query_id"] == json!(id))
            .collect();
        assert_eq!(mine.len(), 1, "answered exactly once");
    }
    let said = format!(
        "{}\n{}",
        h.texts(ADMIN as i64),
        answers.iter().map(|a| a.raw.clone()).collect::<String>()
    );
    assert!(said.contains("out of date"), "{said}");
    assert_eq!(usage_runs(&h), 0);
    h.stop().await;
}

#[tokio::test]
async fn permissions_stranger_viewer_admin_and_group() {
    let mut h = Harness::start(&[]).await;
    h.api
        .push_text(STRANGER, STRANGER as i64, "/codex_usage all");
    let refused = h.wait_text(STRANGER as i64, "not allowed").await;
    assert!(refused.text().contains(&STRANGER.to_string()));

    h.api.push_text(VIEWER, VIEWER as i64, "/codex_usage all");
    h.wait_text(VIEWER as i64, "alice@example.com · plus").await;
    h.api
        .push_text(VIEWER, VIEWER as i64, "/codex_auth login work");
    h.wait_text(VIEWER as i64, &VIEWER.to_string()).await;
    assert!(
        h.engine.pending.lock().unwrap().is_empty(),
        "viewer started a login"
    );

    h.api.push_text(ADMIN, GROUP, "/codex_auth login work");
    h.wait_text(GROUP, "private chat").await;
    assert!(
        h.engine.pending.lock().unwrap().is_empty(),
        "login started in a group"
    );
    assert_eq!(usage_runs(&h), 1);
    h.stop().await;
}

fn callback_url() -> String {
    format!("http://localhost:1455/auth/callback?code={CODE}&state={STATE}")
}

#[tokio::test]
async fn login_by_pasted_url_in_private_deletes_it_and_leaks_nothing() {
    let mut h = Harness::start(&[]).await;
    h.api
        .push_text(ADMIN, ADMIN as i64, "/codex_auth login work");
    h.wait_text(ADMIN as i64, "oauth/authorize").await;
    let pasted = h.api.push_text(ADMIN, ADMIN as i64, &callback_url());
    let deletes = h.api.wait_calls("deleteMessage", 1, WAIT).await;
    assert_eq!(deletes[0].body["message_id"], json!(pasted));
    assert_eq!(deletes[0].body["chat_id"], json!(ADMIN as i64));
    h.api
        .wait_until(WAIT, "login done", |_| {
            !h.engine.finished.lock().unwrap().is_empty()
        })
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(*h.engine.finished.lock().unwrap(), ["work"]);
    h.stop().await;
    // No code or state in anything the bot sent (the state is in the authorize URL by
    // design of OAuth, so only the code is checked there; the callback URL never).
    let wire = h.api.wire_text();
    assert_no_secret_in(&wire, &[CODE, &callback_url()]);
}

#[tokio::test]
async fn the_same_paste_in_a_group_is_refused_and_deleted() {
    let mut h = Harness::start(&[]).await;
    h.engine.pending.lock().unwrap().push((
        codex_profiler::chat::transport::UserId(ADMIN),
        "work".into(),
    ));
    let pasted = h.api.push_text(ADMIN, GROUP, &callback_url());
    let deletes = h.api.wait_calls("deleteMessage", 1, WAIT).await;
    assert_eq!(deletes[0].body["message_id"], json!(pasted));
    h.wait_text(GROUP, "Never paste a login address in a group")
        .await;
    assert!(h.engine.finished.lock().unwrap().is_empty());
    h.stop().await;
    assert_no_secret_in(&h.api.wire_text(), &[CODE, STATE]);
}

/// Where the bot may not delete messages (a group without the admin right, an old message),
/// it must not claim it did: the sender is told to delete the URL themselves.
#[tokio::test]
async fn a_paste_the_bot_cannot_delete_is_left_to_the_sender_to_delete() {
    let mut h = Harness::start(&[]).await;
    h.engine.pending.lock().unwrap().push((
        codex_profiler::chat::transport::UserId(ADMIN),
        "work".into(),
    ));
    h.api.always(
        "deleteMessage",
        Injection::BadRequest("Bad Request: message can't be deleted".into()),
    );
    h.api.push_text(ADMIN, GROUP, &callback_url());
    h.wait_text(GROUP, "delete it yourself").await;
    let said: Vec<String> = h.to(GROUP).iter().map(|r| r.text().to_owned()).collect();
    assert!(!said.join("\n").contains("I deleted"), "{said:?}");
    // In a private chat too: the login goes on, and the progress says to delete the URL.
    h.api.push_text(ADMIN, ADMIN as i64, &callback_url());
    h.wait_text(ADMIN as i64, "delete it yourself").await;
    let said: Vec<String> = h
        .to(ADMIN as i64)
        .iter()
        .map(|r| r.text().to_owned())
        .collect();
    assert!(!said.join("\n").contains("I deleted"), "{said:?}");
    h.stop().await;
    assert_no_secret_in(&h.api.wire_text(), &[CODE, STATE]);
}

#[tokio::test]
async fn delete_needs_a_confirmation_tap() {
    let mut h = Harness::start(&[]).await;
    h.api
        .push_text(ADMIN, ADMIN as i64, "/codex_auth alice@example.com");
    let status = h.api.wait_until(WAIT, "status with buttons", |rs| {
        rs.iter()
            .any(|r| r.body["reply_markup"].to_string().contains("Delete"))
    });
    status.await;
    let status = h
        .to(ADMIN as i64)
        .into_iter()
        .rev()
        .find(|r| !r.buttons().is_empty())
        .expect("status");
    let delete = status.button("Delete");
    h.api
        .push_tap(ADMIN, ADMIN as i64, status.message_id(), &delete);
    h.api
        .wait_until(WAIT, "confirmation", |rs| {
            rs.iter().any(|r| {
                r.body["reply_markup"]
                    .to_string()
                    .contains("Yes, delete it")
            })
        })
        .await;
    assert!(
        h.engine.deleted.lock().unwrap().is_empty(),
        "deleted without confirmation"
    );
    let confirm_msg = h
        .to(ADMIN as i64)
        .into_iter()
        .rev()
        .find(|r| {
            r.body["reply_markup"]
                .to_string()
                .contains("Yes, delete it")
        })
        .expect("confirm");
    let confirm = confirm_msg.button("Yes, delete it");
    h.api
        .push_tap(ADMIN, ADMIN as i64, confirm_msg.message_id(), &confirm);
    h.api
        .wait_until(WAIT, "deleted", |_| {
            !h.engine.deleted.lock().unwrap().is_empty()
        })
        .await;
    assert_eq!(
        *h.engine.deleted.lock().unwrap(),
        ["openai:alice@example.com"]
    );
    h.stop().await;
}

#[tokio::test]
async fn delete_by_text_needs_the_confirm_word() {
    let mut h = Harness::start(&[]).await;
    h.api
        .push_text(ADMIN, ADMIN as i64, "/codex_auth delete bob@example.com");
    h.api.wait_calls("sendMessage", 1, WAIT).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        h.engine.deleted.lock().unwrap().is_empty(),
        "{}",
        h.texts(ADMIN as i64)
    );
    h.api.push_text(
        ADMIN,
        ADMIN as i64,
        "/codex_auth delete bob@example.com confirm",
    );
    h.api
        .wait_until(WAIT, "deleted", |_| {
            !h.engine.deleted.lock().unwrap().is_empty()
        })
        .await;
    assert_eq!(
        *h.engine.deleted.lock().unwrap(),
        ["openai:bob@example.com"]
    );
    h.stop().await;
}

#[tokio::test]
async fn text_fallback_without_buttons() {
    let mut h = Harness::start(&[("CODEX_PROFILER_INLINE_BUTTONS", "false")]).await;
    h.api.push_text(ADMIN, ADMIN as i64, "/codex_usage");
    let menu = h.wait_text(ADMIN as i64, "Reply with:").await;
    assert!(menu.text().contains("default | all"), "{}", menu.text());
    assert!(
        h.api
            .requests()
            .iter()
            .all(|r| r.body.get("reply_markup").is_none_or(Value::is_null))
    );
    h.api.push_text(ADMIN, ADMIN as i64, "all");
    h.wait_text(ADMIN as i64, "bob@example.com · plus").await;
    assert_eq!(usage_runs(&h), 1);
    h.stop().await;
}

#[tokio::test]
async fn a_429_on_the_result_edit_is_waited_out() {
    let mut h = Harness::start(&[]).await;
    h.api.inject("editMessageText", Injection::RetryAfter(1));
    h.api.push_text(ADMIN, ADMIN as i64, "/codex_usage all");
    // The fake records the refused try too: wait for the second one.
    let edits = h.api.wait_calls("editMessageText", 2, WAIT).await;
    assert!(edits[0].text().contains("bob@example.com · plus"));
    assert_eq!(edits[1].body, edits[0].body, "the same edit, repeated");
    assert!(edits[1].at.duration_since(edits[0].at) >= Duration::from_millis(950));
    h.stop().await;
}

#[tokio::test]
async fn a_long_report_continues_in_follow_up_messages() {
    let mut h = Harness::start(&[]).await;
    h.engine.lines_per_profile.store(40, Ordering::SeqCst);
    h.api.push_text(ADMIN, ADMIN as i64, "/codex_usage all");
    h.wait_text(
        ADMIN as i64,
        "bob@example.com · plus · 5h 42% left (resets 2h 13m) · week 88% left (resets 4d 15h) #39",
    )
    .await;
    let msgs = h.to(ADMIN as i64);
    assert!(msgs.iter().all(|r| r.text().chars().count() <= 4096));
    let edits = msgs.iter().filter(|r| r.is("editMessageText")).count();
    let sends = msgs.iter().filter(|r| r.is("sendMessage")).count();
    assert!(
        edits >= 1 && sends >= 2,
        "progress + follow-ups: {edits} edits, {sends} sends"
    );
    h.stop().await;
}
