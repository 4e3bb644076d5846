//! `/codex_usage history` over the Telegram wire: the real adapter, the real conversation core
//! and engine over a state-db fixture with a seeded usage history, and the fake Bot API. The
//! chart arrives as a multipart `sendPhoto` whose bytes a real PNG decoder reads; the
//! progress message comes first and ends as the caption; a 429 on the upload is waited out;
//! a 5xx is said on the progress message; no history is a sentence and no photo.

use std::time::Duration;

use codex_profiler::adapters::telegram::{self, TelegramConfig};
use codex_profiler::chat::{ChatConfig, Conversation, StoreOptions};
use codex_profiler::engine::history::{HistoryStore, SqliteHistory, history_path};
use serde_json::json;

use crate::support::bot_api::{FakeBotApi, Injection, TOKEN};
use crate::support::fixtures::{Fixture, oauth_profile, tokens_of};
use crate::support::history::burning_to_58;
use crate::support::in_process_bot::InProcessBot;

const WAIT: Duration = Duration::from_secs(15);
const ADMIN: i64 = 1;
const ALICE: &str = "openai:alice@example.com";
const BOB: &str = "openai:bob@example.com";
const PROGRESS: &str = "Drawing the Codex usage history…";

struct Bot {
    api: FakeBotApi,
    fx: Fixture,
    tokens: Vec<String>,
    bot: InProcessBot,
}

/// The bot over alice and bob; `seed`: alice and bob have an hour of checks each.
async fn start(seed: bool) -> Bot {
    let fx = Fixture::new();
    let far = chrono::Utc::now().timestamp_millis() + 10 * 24 * 3600 * 1000;
    let store = json!({"version": 1, "profiles": {
        ALICE: oauth_profile("openai", "alice@example.com", "acc-alice", "plus", far),
        BOB: oauth_profile("openai", "bob@example.com", "acc-bob", "pro", far),
    }});
    fx.state_db(
        &store,
        Some(&json!({"version": 1, "order": {"openai": [ALICE, BOB]}})),
    );
    if seed {
        let now = chrono::Utc::now().timestamp_millis();
        let mut h = SqliteHistory::open_in(&fx.state_dir()).unwrap();
        h.append(&burning_to_58(ALICE, now)).unwrap();
        h.append(&burning_to_58(BOB, now)).unwrap();
    }
    let api = FakeBotApi::start().await;
    let env = [
        ("TELEGRAM_BOT_TOKEN", TOKEN.to_owned()),
        ("TELEGRAM_API_URL", api.url.clone()),
        ("CODEX_PROFILER_ADMINS", ADMIN.to_string()),
        ("CODEX_PROFILER_POLL_TIMEOUT_SEC", "1".to_owned()),
    ];
    let get = |k: &str| env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone());
    let tg = TelegramConfig::from_lookup(get).expect("telegram config");
    let chat = ChatConfig {
        store: StoreOptions {
            state_dir: Some(fx.state_dir()),
            ..StoreOptions::default()
        },
        // Never reached: the history chart does no usage check.
        usage_url: Some("http://127.0.0.1:9/usage".into()),
        ..ChatConfig::from_lookup(get).expect("chat config")
    };
    let conversation = Conversation::new(chat).expect("conversation");
    let bot = InProcessBot::start(&api, tg, conversation, WAIT).await;
    Bot {
        api,
        fx,
        tokens: tokens_of(&store),
        bot,
    }
}

impl Bot {
    async fn stop(&mut self) {
        let secrets: Vec<&str> = self.tokens.iter().map(String::as_str).collect();
        self.bot.stop(&self.api, &secrets, WAIT).await;
    }
}

fn decode(bytes: &[u8]) -> (u32, u32) {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("a PNG header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("a whole PNG frame");
    (info.width, info.height)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chart_is_a_real_png_photo_after_the_progress_which_becomes_its_caption() {
    let mut bot = start(true).await;
    // Telegram throttles the first upload: the adapter waits and sends it again.
    bot.api.inject("sendPhoto", Injection::RetryAfter(0));
    bot.api
        .push_text(ADMIN as u64, ADMIN, "/codex_usage history");
    let calls = bot.api.wait_calls("sendPhoto", 2, WAIT).await;
    bot.api
        .wait_until(WAIT, "the caption edit", |rs| {
            rs.iter()
                .any(|r| r.is("editMessageText") && r.text().starts_with("Codex usage history"))
        })
        .await;
    let progress = bot.api.wait_text(ADMIN, PROGRESS, WAIT).await;
    assert!(progress.is("sendMessage"), "the progress is a new message");
    let photo = &calls[1];
    assert!(photo.sent_id.is_some(), "accepted: {:?}", photo.body);
    assert!(
        photo.sent_id > progress.sent_id,
        "the photo comes after the progress"
    );
    let bytes = photo.photo().expect("a multipart photo part");
    let (w, h) = decode(bytes);
    assert_eq!(w, 1200);
    assert!((600..=4000).contains(&h), "{h}");
    assert!(
        bytes.len() > 10_000 && bytes.len() < 2_000_000,
        "{}",
        bytes.len()
    );
    let caption = photo.caption();
    assert!(
        caption.starts_with("Codex usage history, last 7 days (4 lines"),
        "{caption}"
    );
    assert!(
        caption.contains("alice@example.com, bob@example.com"),
        "{caption}"
    );
    assert!(
        caption.contains("\nForecast: pool (2 usable profiles)"),
        "{caption}"
    );
    assert!(caption.encode_utf16().count() <= 1024);
    let edit = bot
        .api
        .calls("editMessageText")
        .into_iter()
        .find(|r| r.text().starts_with("Codex usage history"))
        .expect("the caption edit");
    assert_eq!(edit.message_id(), progress.message_id(), "the same path");
    assert_eq!(edit.text(), caption);
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_error_on_the_upload_is_said_on_the_progress_message() {
    let mut bot = start(true).await;
    bot.api.always("sendPhoto", Injection::ServerError);
    bot.api.push_text(
        ADMIN as u64,
        ADMIN,
        "/codex_usage history alice@example.com",
    );
    // Each 5xx is retried (teloxide waits 10 s after each itself) before the failure is said.
    let failed = bot
        .api
        .wait_text(
            ADMIN,
            "Sending the usage history chart failed",
            Duration::from_secs(90),
        )
        .await;
    let progress = bot.api.wait_text(ADMIN, PROGRESS, WAIT).await;
    assert!(failed.is("editMessageText"));
    assert_eq!(failed.message_id(), progress.message_id());
    let text = failed.text();
    assert!(text.contains("Internal Server Error"), "{text}");
    // The chart as text instead: alice's two windows, no bob.
    assert!(text.contains("alice@example.com 5h"), "{text}");
    assert!(text.contains("alice@example.com week"), "{text}");
    assert!(text.contains("Forecast: pool (1 usable profile)"), "{text}");
    assert!(!text.contains("bob@"), "{text}");
    assert_eq!(
        bot.api.calls("sendPhoto").len(),
        codex_profiler::adapters::telegram::retry::MAX_SERVER_ERROR_ATTEMPTS as usize,
        "a 5xx is retried, boundedly"
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_history_yet_is_a_sentence_and_no_photo_and_no_file_is_made() {
    let mut bot = start(false).await;
    bot.api
        .push_text(ADMIN as u64, ADMIN, "/codex_usage history");
    let said = bot
        .api
        .wait_text(ADMIN, "No usage history yet for these profiles", WAIT)
        .await;
    assert!(said.is("editMessageText"));
    assert!(bot.api.calls("sendPhoto").is_empty());
    let history = history_path(&bot.fx.state_dir());
    assert!(!history.exists(), "reading made {}", history.display());
    bot.stop().await;
}

/// The fake answers like the real Bot API where a client gets it wrong: an unknown method is
/// a 404, a `sendPhoto` without its file part or with something that is not an image is a
/// 400, and nothing is recorded as a sent message.
#[tokio::test]
async fn the_fake_refuses_what_telegram_refuses() {
    let api = FakeBotApi::start().await;
    let http = reqwest::Client::new();
    let call = |method: &str, body: serde_json::Value| {
        let req = http
            .post(format!("{}bot{TOKEN}/{method}", api.url))
            .json(&body);
        async move {
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            (status, resp.json::<serde_json::Value>().await.unwrap())
        }
    };
    let (status, body) = call("sendRocket", json!({})).await;
    assert_eq!(status, 404);
    assert_eq!(body["ok"], json!(false));
    assert_eq!(body["description"], json!("Not Found: method not found"));
    let (status, body) = call("sendPhoto", json!({"chat_id": 1, "photo": "attach://x"})).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["description"],
        json!("Bad Request: there is no photo in the request")
    );
    let form = reqwest::multipart::Form::new()
        .text("chat_id", "1")
        .text("photo", "attach://f")
        .part(
            "f",
            reqwest::multipart::Part::bytes(b"GIF89a not a png".to_vec()).file_name("x.png"),
        );
    let resp = http
        .post(format!("{}bot{TOKEN}/sendPhoto", api.url))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(
        body["description"],
        json!("Bad Request: IMAGE_PROCESS_FAILED")
    );
    assert!(api.calls("sendPhoto").iter().all(|r| r.sent_id.is_none()));
}

/// A tiny valid PNG, `w`×`h`, grey.
fn tiny_png(w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc.write_header().unwrap();
    writer
        .write_image_data(&vec![128; (w * h * 3) as usize])
        .unwrap();
    writer.finish().unwrap();
    out
}

/// The adapter cuts a caption to Telegram's 1024 (the fake refuses longer ones, as Telegram
/// does), on a character boundary, and returns the photo message's id.
#[tokio::test]
async fn the_adapter_cuts_an_over_long_caption_to_1024() {
    use codex_profiler::chat::transport::{ChatId, Transport};
    use std::sync::Arc;

    let api = FakeBotApi::start().await;
    let env = [
        ("TELEGRAM_BOT_TOKEN", TOKEN.to_owned()),
        ("TELEGRAM_API_URL", api.url.clone()),
        ("CODEX_PROFILER_ADMINS", ADMIN.to_string()),
    ];
    let get = |k: &str| env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone());
    let config = TelegramConfig::from_lookup(get).expect("telegram config");
    let bot = telegram::bot_for(&config).expect("bot");
    let t = telegram::TelegramTransport::new(bot, Arc::new(config.token.clone()), true);
    assert!(t.photos());
    let caption = "é😀 alice@example.com, ".repeat(100);
    let png = tiny_png(40, 30);
    let sent = t
        .send_photo(ChatId(ADMIN), &png, &caption, None)
        .await
        .expect("accepted");
    let call = &api.photos_to(ADMIN)[0];
    assert_eq!(call.sent_id, Some(sent.message_id));
    assert_eq!(call.photo(), Some(png.as_slice()), "the bytes as given");
    let shown = call.caption();
    assert!(shown.encode_utf16().count() <= 1024, "{}", shown.len());
    assert!(shown.ends_with('…'), "{shown}");
    assert!(caption.starts_with(shown.trim_end_matches('…')));
}
