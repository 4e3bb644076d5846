//! The chat flows of the sweep: `codex-profiler bot` against the fake Bot API (logins pasted
//! in a private chat and in a group, a device login, a usage check, a tap, the history chart
//! as a multipart upload, a profile's status), the terminal
//! adapter `chat` with a pasted callback URL, and `plugin-host` over its JSON lines.

use std::time::Duration;

use serde_json::{Value, json};

use super::interactive::Interactive;
use super::secrets::{LONG, SHORT};
use super::world::{World, nonce};
use crate::support::bot_api::{FakeBotApi, TOKEN};
use crate::support::oauth_server::REDIRECT_URI;
use crate::telegram::process::BotProcess;

const WAIT: Duration = Duration::from_secs(30);
const ADMIN: i64 = 1;
const GROUP: i64 = -900;

/// The bot: every flow, then SIGTERM; its streams and every Bot API request are kept.
pub fn bot(w: &mut World) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(bot_flows(w));
}

async fn bot_flows(w: &mut World) {
    let api = FakeBotApi::start().await;
    let state = w.fx.state_arg();
    let (mk, mv) = w.marker.split_once('=').expect("marker");
    let (mk, mv) = (mk.to_owned(), mv.to_owned());
    let env = [
        ("RUST_LOG", "trace"),
        (mk.as_str(), mv.as_str()),
        ("OPENCLAW_STATE_DIR", state.as_str()),
        ("CODEX_PROFILER_USAGE_URL", w.usage.url.as_str()),
        ("CODEX_PROFILER_AUTH_ISSUER", w.issuer.issuer_url.as_str()),
        ("CODEX_PROFILER_USERS", "2"),
    ];
    // The test gives the bot its token in the environment, as the operator does.
    w.given.push(format!("TELEGRAM_BOT_TOKEN={TOKEN}"));
    let bot = BotProcess::start(w.fx.home(), &api, &env);
    api.wait_calls("getUpdates", 1, WAIT).await;

    // A login pasted back in the private chat.
    w.next_account("tg1");
    api.push_text(1, ADMIN, "/codex_auth login tg1");
    let started = api.wait_text(ADMIN, "/oauth/authorize?", WAIT).await;
    let url = w.authorize_url(started.text());
    let callback = w.approve(&url);
    api.push_text(1, ADMIN, &callback);
    api.wait_text(ADMIN, "Added openai:tg1", WAIT).await;

    // Refused pastes (a state nobody started, bare and after `finish`): deleted, answered.
    let (code, state) = (format!("ac_SWEEPtgforged{}", nonce()), nonce());
    w.secrets.add("authorization code", &code, SHORT);
    w.secrets.add("OAuth state", &state, SHORT);
    let forged = format!("{REDIRECT_URI}?code={code}&state={state}");
    w.secrets.add("callback URL", &forged, LONG);
    let deletes = api.calls("deleteMessage").len();
    let sends = api.calls("sendMessage").len();
    api.push_text(1, ADMIN, &forged);
    api.push_text(1, ADMIN, &format!("/codex_auth finish tg1 {forged}"));
    api.wait_calls("deleteMessage", deletes + 2, WAIT).await;
    api.wait_calls("sendMessage", sends + 2, WAIT).await;

    // A second one pasted in a group: deleted, refused.
    w.next_account("tg2");
    api.push_text(1, ADMIN, "/codex_auth login tg2");
    api.wait_text(ADMIN, "tg2", WAIT).await;
    api.wait_until(WAIT, "a second authorize URL", |rs| {
        rs.iter()
            .filter(|r| r.text().contains("/oauth/authorize?"))
            .count()
            >= 2
    })
    .await;
    let second = api
        .messages_to(ADMIN)
        .into_iter()
        .rev()
        .find(|r| r.text().contains("/oauth/authorize?"))
        .expect("second authorize URL");
    let url2 = w.authorize_url(second.text());
    let callback2 = w.approve(&url2);
    api.push_text(1, GROUP, &callback2);
    api.wait_text(GROUP, "Never paste a login address in a group", WAIT)
        .await;

    // A device login, a usage check, a tap on a profile of the selector.
    w.next_account("tgdev");
    api.push_text(1, ADMIN, "/codex_auth device tgdev");
    api.wait_text(ADMIN, "added openai:tgdev", WAIT).await;
    api.push_text(1, ADMIN, "/codex_usage all");
    api.wait_text(ADMIN, "bob@example.com · ", WAIT).await;
    api.push_text(1, ADMIN, "/codex_usage");
    let selector = api.wait_text(ADMIN, "Which Codex profiles", WAIT).await;
    let n = api.calls("answerCallbackQuery").len();
    api.push_tap(
        1,
        ADMIN,
        selector.message_id(),
        &selector.button("bob@example.com"),
    );
    api.wait_calls("answerCallbackQuery", n + 1, WAIT).await;
    // The chart of the usage history: a multipart upload.
    api.push_text(1, ADMIN, "/codex_usage history");
    api.wait_until(WAIT, "a sendPhoto", |rs| {
        rs.iter().any(|r| r.is("sendPhoto"))
    })
    .await;
    api.push_text(1, ADMIN, "/codex_auth alice@example.com");
    api.wait_text(ADMIN, "alice@example.com", WAIT).await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    let ended = bot.terminate(WAIT).await;
    assert_eq!(ended.code, Some(0), "the bot exited badly");
    w.keep("`bot` stdout", ended.stdout.as_bytes());
    w.keep("`bot` stderr", ended.stderr.as_bytes());
    for (i, r) in api.requests().iter().enumerate() {
        let mut wire = format!("{} {}", r.method, r.raw).into_bytes();
        for f in &r.files {
            wire.extend_from_slice(&f.bytes);
        }
        w.keep(&format!("Bot API request #{i} ({})", r.method), &wire);
    }
}

/// The terminal adapter: a login with the callback URL pasted, a usage check.
pub fn terminal(w: &mut World) {
    let mut chat = Interactive::spawn(w.command(&["chat"]));
    w.next_account("term");
    chat.line("/codex_auth login term");
    let out = chat.wait_for(0, "/oauth/authorize?", WAIT);
    let url = w.authorize_url(&out);
    let callback = w.approve(&url);
    let from = chat.out().len();
    chat.line(&callback);
    chat.wait_for(from, "Added openai:term", WAIT);
    let from = chat.out().len();
    chat.line("/codex_usage all");
    chat.wait_for(from, "bob@example.com · ", WAIT);
    let (code, out, err) = chat.close(WAIT);
    assert_eq!(code, 0, "chat exited badly");
    w.keep("`chat` stdout", out.as_bytes());
    w.keep("`chat` stderr", err.as_bytes());
}

fn event(kind: &str, id: &str, extra: Value) -> String {
    let mut v = json!({
        "type": kind, "id": id, "channel": "telegram", "sender": "1001", "chat": "1001",
        "is_owner": true, "authorized": true, "private": true, "buttons": true,
    });
    if let (Some(v), Some(extra)) = (v.as_object_mut(), extra.as_object()) {
        v.extend(extra.clone());
    }
    v.to_string()
}

/// `plugin-host`: a usage check, a refused paste, a device login, a tap.
pub fn plugin_host(w: &mut World) {
    let mut host = Interactive::spawn(w.command(&["plugin-host"]));
    host.wait_for(0, "\"hello\"", WAIT);
    host.line(&json!({"type": "hello", "protocol": 1, "plugin": "sweep"}).to_string());
    let done = |id: &str| format!(r#""type":"done","event":"{id}""#);
    let step = |host: &mut Interactive, line: String, id: &str| {
        let from = host.out().len();
        host.line(&line);
        host.wait_for(from, &done(id), WAIT)
    };
    step(
        &mut host,
        event("command", "c1", json!({"text": "/codex_usage all"})),
        "c1",
    );
    let login = step(
        &mut host,
        event("command", "c2", json!({"text": "/codex_auth login plug"})),
        "c2",
    );
    if login.contains("/oauth/authorize?") {
        w.authorize_url(&login);
    }
    // A callback URL pasted: refused, never quoted (the plugin cannot delete it).
    let (code, state) = (format!("ac_SWEEPplug{}", nonce()), nonce());
    let pasted = format!("{REDIRECT_URI}?code={code}&state={state}");
    w.secrets.add("authorization code", &code, SHORT);
    w.secrets.add("OAuth state", &state, SHORT);
    w.secrets.add("callback URL", &pasted, LONG);
    step(
        &mut host,
        event("paste", "p1", json!({"url": pasted})),
        "p1",
    );
    w.next_account("plugdev");
    step(
        &mut host,
        event(
            "command",
            "c3",
            json!({"text": "/codex_auth device plugdev"}),
        ),
        "c3",
    );
    let menu = step(
        &mut host,
        event("command", "c4", json!({"text": "/codex_usage"})),
        "c4",
    );
    let data = menu
        .split('"')
        .find(|s| s.starts_with("codex_auth_") && s.ends_with(":all"))
        .map(str::to_owned);
    if let Some(data) = data {
        step(
            &mut host,
            event("tap", "t1", json!({"data": data, "message": 501})),
            "t1",
        );
    }
    let (code, out, err) = host.close(WAIT);
    assert_eq!(code, 0, "plugin-host exited badly");
    w.keep("`plugin-host` stdout", out.as_bytes());
    w.keep("`plugin-host` stderr", err.as_bytes());
}
