//! The adapter in-process, driven through the fake Bot API with a small local handler that
//! stands in for the conversation core (it only uses the `Transport` seam).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use codex_profiler::adapters::telegram::{self, Handler, TelegramConfig, UpdateSource};
use codex_profiler::chat::transport::{Button, Incoming, Transport};
use serde_json::json;
use tokio::sync::oneshot;

use crate::support::bot_api::{FakeBotApi, Injection, TOKEN};

const WAIT: Duration = Duration::from_secs(10);

fn config(api: &FakeBotApi, extra: &[(&str, &str)]) -> TelegramConfig {
    let mut env: Vec<(String, String)> = vec![
        ("TELEGRAM_BOT_TOKEN".into(), TOKEN.into()),
        ("TELEGRAM_API_URL".into(), api.url.clone()),
        ("CODEX_PROFILER_ADMINS".into(), "1".into()),
        ("CODEX_PROFILER_POLL_TIMEOUT_SEC".into(), "1".into()),
    ];
    env.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    TelegramConfig::from_lookup(|k| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
        .expect("config")
}

/// Sends "got: <text>" with one button, then edits it to "done: <text>"; "slow" waits first.
/// Taps are answered with a notice. Every error the transport returns is kept.
fn echo(errors: Arc<Mutex<Vec<String>>>) -> Handler {
    Arc::new(move |event, t: Arc<dyn Transport>| {
        let errors = errors.clone();
        Box::pin(async move {
            let note = |r: Result<(), _>| {
                if let Err(e) = r {
                    errors.lock().unwrap().push(format!("{e}"));
                }
            };
            match event {
                Incoming::Text { origin, text, .. } => {
                    if text == "slow" {
                        tokio::time::sleep(Duration::from_millis(800)).await;
                    }
                    let kb = vec![vec![Button {
                        label: "Again".into(),
                        data: "codex_auth_usage:all".into(),
                    }]];
                    match t
                        .send(origin.chat, &format!("got: {text}"), Some(&kb))
                        .await
                    {
                        Ok(m) => note(t.edit(m, &format!("done: {text}"), None).await),
                        Err(e) => note(Err(e)),
                    }
                }
                Incoming::Button { callback_id, .. } => {
                    note(t.answer_callback(&callback_id, Some("ok")).await)
                }
            }
        })
    })
}

struct Running {
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), telegram::TelegramError>>,
}

impl Running {
    async fn stop(mut self) -> Result<(), telegram::TelegramError> {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        tokio::time::timeout(WAIT, self.task)
            .await
            .expect("bot stopped in time")
            .expect("join")
    }
}

fn start(cfg: TelegramConfig, handler: Handler) -> Running {
    let (tx, rx) = oneshot::channel::<()>();
    let menu = vec![
        ("codex_usage".to_owned(), "Check Codex quota".to_owned()),
        ("/codex_auth".to_owned(), "Codex logins".to_owned()),
    ];
    let task = tokio::spawn(telegram::run(cfg, menu, handler, async move {
        let _ = rx.await;
    }));
    Running {
        stop: Some(tx),
        task,
    }
}

#[tokio::test]
async fn publishes_menu_then_progress_and_edit_on_same_message() {
    let api = FakeBotApi::start().await;
    let errors = Arc::new(Mutex::new(Vec::new()));
    let bot = start(config(&api, &[]), echo(errors.clone()));
    let cmds = api.wait_calls("setMyCommands", 1, WAIT).await;
    assert_eq!(
        cmds[0].body["commands"],
        json!([{"command": "codex_usage", "description": "Check Codex quota"},
               {"command": "codex_auth", "description": "Codex logins"}])
    );
    api.push_text(7, 7, "/codex_usage all");
    let edits = api.wait_calls("editMessageText", 1, WAIT).await;
    let sent = api.calls("sendMessage");
    assert_eq!(sent[0].body["chat_id"], json!(7));
    assert_eq!(sent[0].body["text"], json!("got: /codex_usage all"));
    assert_eq!(
        sent[0].body["reply_markup"]["inline_keyboard"][0][0]["callback_data"],
        json!("codex_auth_usage:all")
    );
    // The edit targets the message sendMessage returned, and drops the buttons.
    assert_eq!(edits[0].body["message_id"], json!(1_001));
    assert_eq!(edits[0].body["text"], json!("done: /codex_usage all"));
    assert!(edits[0].body.get("reply_markup").is_none());
    bot.stop().await.expect("clean stop");
    assert!(errors.lock().unwrap().is_empty());
    // Handled updates were confirmed, so a restart does not run them again.
    assert_eq!(api.pending_updates(), 0);
}

#[tokio::test]
async fn retry_after_on_an_edit_is_waited_out() {
    let api = FakeBotApi::start().await;
    api.inject("editMessageText", Injection::RetryAfter(1));
    let errors = Arc::new(Mutex::new(Vec::new()));
    let bot = start(config(&api, &[]), echo(errors.clone()));
    api.push_text(7, 7, "hi");
    let edits = api.wait_calls("editMessageText", 2, WAIT).await;
    let gap = edits[1].at.duration_since(edits[0].at);
    assert!(gap >= Duration::from_millis(950), "retried after {gap:?}");
    assert_eq!(edits[1].body["text"], json!("done: hi"));
    bot.stop().await.expect("clean stop");
    assert!(
        errors.lock().unwrap().is_empty(),
        "{:?}",
        errors.lock().unwrap()
    );
}

#[tokio::test]
async fn retry_after_on_send_and_answer_too() {
    let api = FakeBotApi::start().await;
    api.inject("sendmessage", Injection::RetryAfter(0));
    api.inject("ANSWERCALLBACKQUERY", Injection::RetryAfter(0));
    let errors = Arc::new(Mutex::new(Vec::new()));
    let bot = start(config(&api, &[]), echo(errors.clone()));
    api.push_text(7, 7, "hi");
    api.push_tap(7, 7, 1_001, "codex_auth_usage:all");
    api.wait_calls("answerCallbackQuery", 2, WAIT).await;
    api.wait_calls("editMessageText", 1, WAIT).await;
    assert_eq!(api.calls("sendMessage").len(), 2);
    bot.stop().await.expect("clean stop");
    assert!(
        errors.lock().unwrap().is_empty(),
        "{:?}",
        errors.lock().unwrap()
    );
}

/// A 5xx burst (the Bot API's own 500, then a proxy's HTML 502) on a send and an edit is
/// retried with backoff, and the reply still arrives. teloxide waits 10 s after each 5xx
/// itself, so this test takes about 2 x 11 s.
#[tokio::test]
async fn server_errors_on_send_and_edit_are_retried() {
    let api = FakeBotApi::start().await;
    api.inject("sendMessage", Injection::ServerError);
    api.inject("editMessageText", Injection::BadGateway);
    let errors = Arc::new(Mutex::new(Vec::new()));
    let bot = start(config(&api, &[]), echo(errors.clone()));
    api.push_text(7, 7, "hi");
    let edits = api
        .wait_calls("editMessageText", 2, Duration::from_secs(60))
        .await;
    assert_eq!(api.calls("sendMessage").len(), 2, "the send was retried");
    assert_eq!(edits[1].body["text"], json!("done: hi"));
    bot.stop().await.expect("clean stop");
    assert!(
        errors.lock().unwrap().is_empty(),
        "{:?}",
        errors.lock().unwrap()
    );
}

#[tokio::test]
async fn message_not_modified_counts_as_success() {
    let api = FakeBotApi::start().await;
    api.inject("editMessageText", Injection::NotModified);
    let errors = Arc::new(Mutex::new(Vec::new()));
    let bot = start(config(&api, &[]), echo(errors.clone()));
    api.push_text(7, 7, "same");
    api.wait_calls("editMessageText", 1, WAIT).await;
    bot.stop().await.expect("clean stop");
    assert_eq!(api.calls("editMessageText").len(), 1, "not retried");
    assert!(
        errors.lock().unwrap().is_empty(),
        "{:?}",
        errors.lock().unwrap()
    );
}

#[tokio::test]
async fn other_errors_reach_the_core_without_the_token() {
    let api = FakeBotApi::start().await;
    api.inject(
        "editMessageText",
        Injection::BadRequest("Bad Request: message to edit not found".into()),
    );
    let errors = Arc::new(Mutex::new(Vec::new()));
    let bot = start(config(&api, &[]), echo(errors.clone()));
    api.push_text(7, 7, "x");
    api.wait_calls("editMessageText", 1, WAIT).await;
    bot.stop().await.expect("clean stop");
    let errors = errors.lock().unwrap().clone();
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].contains("message to edit not found"),
        "{errors:?}"
    );
}

#[tokio::test]
async fn network_errors_at_start_are_retried_and_never_show_the_token() {
    // A port nobody listens on: reqwest's error quotes the URL, which holds the token. The
    // bot keeps trying (logging each failure) until it is stopped, which ends it cleanly.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}/", listener.local_addr().unwrap());
    drop(listener);
    let cfg = TelegramConfig::from_lookup(|k| match k {
        "TELEGRAM_BOT_TOKEN" => Some(TOKEN.into()),
        "TELEGRAM_API_URL" => Some(dead.clone()),
        "CODEX_PROFILER_ADMINS" => Some("1".into()),
        _ => None,
    })
    .unwrap();
    let logs = Logs::default();
    // A current-thread test runtime: every task runs on this thread, under this subscriber.
    let _guard = tracing::subscriber::set_default(
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_writer(logs.clone())
            .with_ansi(false)
            .finish(),
    );
    let stop = tokio::time::sleep(Duration::from_millis(1_700));
    telegram::run(cfg, vec![], echo(Arc::default()), stop)
        .await
        .expect("stopped cleanly while waiting for the Bot API");
    let text = logs.text();
    assert!(
        text.matches("the Bot API did not answer getMe; retrying")
            .count()
            >= 2,
        "{text}"
    );
    crate::support::cli::assert_no_secret_in(&text, &[TOKEN, &TOKEN[7..]]);
}

/// Log lines captured in memory.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Logs {
    type Writer = Logs;
    fn make_writer(&'a self) -> Logs {
        self.clone()
    }
}

#[tokio::test]
async fn users_do_not_wait_on_each_other_and_keep_their_order() {
    let api = FakeBotApi::start().await;
    let bot = start(config(&api, &[]), echo(Arc::default()));
    api.push_text(1, 1, "slow");
    api.push_text(1, 1, "second");
    api.push_text(2, 2, "fast");
    api.wait_calls("editMessageText", 3, WAIT).await;
    let texts: Vec<String> = api
        .calls("sendMessage")
        .iter()
        .map(|r| r.body["text"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(texts, ["got: fast", "got: slow", "got: second"]);
    bot.stop().await.expect("clean stop");
}

#[tokio::test]
async fn shutdown_lets_in_flight_handlers_finish() {
    let api = FakeBotApi::start().await;
    let bot = start(config(&api, &[]), echo(Arc::default()));
    api.push_text(1, 1, "slow");
    api.wait_calls("getUpdates", 2, WAIT).await;
    let t0 = Instant::now();
    bot.stop().await.expect("clean stop");
    assert!(t0.elapsed() < Duration::from_secs(5));
    let edits = api.calls("editMessageText");
    assert_eq!(edits.len(), 1, "the in-flight request finished before exit");
}

#[tokio::test]
async fn text_fallback_sends_no_buttons() {
    let api = FakeBotApi::start().await;
    let bot = start(
        config(&api, &[("CODEX_PROFILER_INLINE_BUTTONS", "false")]),
        echo(Arc::default()),
    );
    api.push_text(7, 7, "hi");
    api.wait_calls("editMessageText", 1, WAIT).await;
    assert!(
        api.calls("sendMessage")[0]
            .body
            .get("reply_markup")
            .is_none()
    );
    bot.stop().await.expect("clean stop");
}

#[tokio::test]
async fn taps_without_a_message_are_answered_here() {
    let api = FakeBotApi::start().await;
    let bot = start(config(&api, &[]), echo(Arc::default()));
    api.push_update(json!({"callback_query": {"id": "inline1", "chat_instance": "c",
        "from": {"id": 9, "is_bot": false, "first_name": "U"}, "inline_message_id": "x", "data": "d"}}));
    let answers = api.wait_calls("answerCallbackQuery", 1, WAIT).await;
    assert_eq!(answers[0].body["callback_query_id"], json!("inline1"));
    bot.stop().await.expect("clean stop");
}

#[tokio::test]
async fn webhook_mode_checks_the_secret_and_dispatches() {
    let api = FakeBotApi::start().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let cfg = config(
        &api,
        &[
            ("TELEGRAM_WEBHOOK_URL", "https://bot.example.com/tg/hook"),
            ("TELEGRAM_WEBHOOK_LISTEN", &listen),
        ],
    );
    assert!(matches!(cfg.source, UpdateSource::Webhook { .. }));
    let bot = start(cfg, echo(Arc::default()));
    let set = api.wait_calls("setWebhook", 1, WAIT).await;
    assert_eq!(set[0].body["url"], json!("https://bot.example.com/tg/hook"));
    let secret = set[0].body["secret_token"]
        .as_str()
        .expect("secret")
        .to_owned();
    let client = reqwest::Client::new();
    let update = json!({"update_id": 1, "message": {"message_id": 5, "date": 0,
        "chat": {"id": 3, "type": "private", "first_name": "U"},
        "from": {"id": 3, "is_bot": false, "first_name": "U"}, "text": "hello"}});
    let hook = format!("http://{listen}/tg/hook");
    let forged = client
        .post(&hook)
        .header("X-Telegram-Bot-Api-Secret-Token", "nope")
        .json(&update)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    let real = client
        .post(&hook)
        .header("X-Telegram-Bot-Api-Secret-Token", &secret)
        .json(&update)
        .send()
        .await
        .unwrap();
    assert_eq!(real.status(), 200);
    let edits = api.wait_calls("editMessageText", 1, WAIT).await;
    assert_eq!(edits[0].body["text"], json!("done: hello"));
    assert_eq!(
        api.calls("sendMessage").len(),
        1,
        "the forged update was not handled"
    );
    bot.stop().await.expect("clean stop");
    api.wait_calls("deleteWebhook", 1, WAIT).await;
    assert!(api.calls("getUpdates").is_empty());
}

#[tokio::test]
async fn a_flood_from_one_user_is_capped_but_every_tap_is_answered() {
    let api = FakeBotApi::start().await;
    let bot = start(config(&api, &[]), echo(Arc::default()));
    api.push_text(5, 5, "slow");
    let taps: Vec<String> = (0..40)
        .map(|_| api.push_tap(5, 5, 1, "codex_auth_usage:all"))
        .collect();
    let answers = api.wait_calls("answerCallbackQuery", 40, WAIT).await;
    for id in &taps {
        let n = answers
            .iter()
            .filter(|a| a.body["callback_query_id"] == json!(id))
            .count();
        assert_eq!(n, 1, "tap {id} answered {n} times");
    }
    // Taps beyond the queue's room were answered without a notice (not handled).
    let plain = answers
        .iter()
        .filter(|a| a.body.get("text").is_none())
        .count();
    assert!(plain > 0, "nothing was dropped");
    bot.stop().await.expect("clean stop");
}
