//! A fake Telegram Bot API on loopback that speaks the real wire format: `POST
//! /bot<token>/<method>` with JSON or form bodies, `{"ok":true,"result":...}` replies,
//! `getUpdates` long polling from a queue the test pushes updates into (confirmed by
//! `offset`, like the real server), message ids from `sendMessage`. Every request is recorded
//! at wire level (method + body) so tests can check what the bot sent, including that no
//! secret is in it. Method names match case-insensitively; a 429 with `retry_after` or
//! "message is not modified" can be injected for the next call of a method.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use tokio::sync::Notify;

/// The token the fake accepts.
pub const TOKEN: &str = "424242:FAKEbotTOKENnotREAL_abcdefghijk";

/// The bot's own user id (messages it sends come "from" it).
pub const BOT_ID: u64 = 4_242;

/// One request as the bot sent it.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The method name exactly as in the URL.
    pub method: String,
    /// The body, parsed (JSON, or a form as an object of strings).
    pub body: Value,
    /// The raw body bytes as text.
    pub raw: String,
    /// When it arrived.
    pub at: Instant,
    /// For a successful `sendMessage`: the message id the fake gave the new message.
    pub sent_id: Option<i64>,
}

impl Recorded {
    /// Whether this is a call of `method` (teloxide writes method names in PascalCase).
    pub fn is(&self, method: &str) -> bool {
        self.method.eq_ignore_ascii_case(method)
    }

    /// The `text` field (empty when there is none).
    pub fn text(&self) -> &str {
        self.body["text"].as_str().unwrap_or_default()
    }

    /// (label, callback data) of the inline keyboard, row by row.
    pub fn buttons(&self) -> Vec<(String, String)> {
        let field = |b: &Value, k: &str| b[k].as_str().unwrap_or_default().to_owned();
        self.body["reply_markup"]["inline_keyboard"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|row| row.as_array().cloned().unwrap_or_default())
            .map(|b| (field(&b, "text"), field(&b, "callback_data")))
            .collect()
    }

    /// The callback data of the first button whose label contains `label`.
    #[track_caller]
    pub fn button(&self, label: &str) -> String {
        self.buttons()
            .into_iter()
            .find(|(l, _)| l.contains(label))
            .map(|(_, d)| d)
            .unwrap_or_else(|| panic!("no {label:?} button in {:?}", self.buttons()))
    }

    /// The id of the message this call created (`sendMessage`) or changed (edits).
    #[track_caller]
    pub fn message_id(&self) -> i64 {
        self.sent_id
            .or_else(|| self.body["message_id"].as_i64())
            .expect("message id")
    }
}

/// A canned failure for the next call of a method.
#[derive(Debug, Clone)]
pub enum Injection {
    /// HTTP 429 `Too Many Requests: retry after N` with `parameters.retry_after`.
    RetryAfter(u32),
    /// HTTP 400 "Bad Request: message is not modified: ...".
    NotModified,
    /// HTTP 400 with this description.
    BadRequest(String),
}

#[derive(Default)]
struct Inner {
    requests: Mutex<Vec<Recorded>>,
    updates: Mutex<VecDeque<(i64, Value)>>,
    injections: Mutex<HashMap<String, VecDeque<Injection>>>,
    new_update: Notify,
    new_request: Notify,
    next_update: AtomicI64,
    next_message: AtomicI64,
    next_callback: AtomicI64,
    delay: Mutex<Option<Duration>>,
}

/// A running fake. Dropping it stops the server.
pub struct FakeBotApi {
    /// Base URL to give the bot as `TELEGRAM_API_URL` (`http://127.0.0.1:PORT/`).
    pub url: String,
    inner: Arc<Inner>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeBotApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeBotApi {
    /// Start a fake on a free loopback port.
    pub async fn start() -> FakeBotApi {
        let inner = Arc::new(Inner::default());
        inner.next_update.store(1, Ordering::SeqCst);
        inner.next_message.store(1_000, Ordering::SeqCst);
        let app = Router::new()
            .route("/{bot}/{method}", post(handle))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake Bot API");
        let addr = listener.local_addr().expect("local addr");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeBotApi {
            url: format!("http://{addr}/"),
            inner,
            task,
        }
    }

    /// Delay every reply (other than `getUpdates`) by `d`, to model network latency.
    pub fn set_delay(&self, d: Option<Duration>) {
        *self.inner.delay.lock().unwrap() = d;
    }

    /// Queue a raw update object (an `update_id` is added). Returns the update id.
    pub fn push_update(&self, mut update: Value) -> i64 {
        let id = self.inner.next_update.fetch_add(1, Ordering::SeqCst);
        update["update_id"] = json!(id);
        self.inner.updates.lock().unwrap().push_back((id, update));
        self.inner.new_update.notify_waiters();
        id
    }

    /// A user types `text` in a chat (`chat_id` < 0 is a group). Returns the message id.
    pub fn push_text(&self, user: u64, chat_id: i64, text: &str) -> i64 {
        let message_id = self.inner.next_message.fetch_add(1, Ordering::SeqCst);
        self.push_update(json!({"message": {
            "message_id": message_id, "date": 1_700_000_000, "chat": chat(chat_id),
            "from": user_obj(user), "text": text,
        }}));
        message_id
    }

    /// A user taps a button with `data` on message `message_id` in `chat_id`. Returns the
    /// callback query id.
    pub fn push_tap(&self, user: u64, chat_id: i64, message_id: i64, data: &str) -> String {
        let id = format!(
            "cbq{}",
            self.inner.next_callback.fetch_add(1, Ordering::SeqCst)
        );
        self.push_update(json!({"callback_query": {
            "id": id, "from": user_obj(user), "chat_instance": "ci", "data": data,
            "message": {"message_id": message_id, "date": 1_700_000_000, "chat": chat(chat_id),
                        "from": bot_obj(), "text": "menu"},
        }}));
        id
    }

    /// Make the next call of `method` fail with `injection`.
    pub fn inject(&self, method: &str, injection: Injection) {
        self.inner
            .injections
            .lock()
            .unwrap()
            .entry(method.to_ascii_lowercase())
            .or_default()
            .push_back(injection);
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.inner.requests.lock().unwrap().clone()
    }

    /// The requests of one method (case-insensitive).
    pub fn calls(&self, method: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.method.eq_ignore_ascii_case(method))
            .collect()
    }

    /// Every request body the bot sent, one per line, for secret checks.
    pub fn wire_text(&self) -> String {
        self.requests()
            .iter()
            .map(|r| format!("{} {}", r.method, r.raw))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Wait until `pred` holds over the recorded requests, or panic after `timeout` with what
    /// was recorded.
    pub async fn wait_until(
        &self,
        timeout: Duration,
        what: &str,
        pred: impl Fn(&[Recorded]) -> bool,
    ) {
        let deadline = Instant::now() + timeout;
        loop {
            let notified = self.inner.new_request.notified();
            if pred(&self.inner.requests.lock().unwrap()) {
                return;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || tokio::time::timeout(left, notified).await.is_err() {
                if pred(&self.inner.requests.lock().unwrap()) {
                    return;
                }
                panic!(
                    "timed out waiting for {what}; requests:\n{}",
                    self.wire_text()
                );
            }
        }
    }

    /// Wait until at least `n` calls of `method` were made; returns them.
    pub async fn wait_calls(&self, method: &str, n: usize, timeout: Duration) -> Vec<Recorded> {
        let m = method.to_owned();
        self.wait_until(timeout, &format!("{n} × {method}"), move |rs| {
            rs.iter()
                .filter(|r| r.method.eq_ignore_ascii_case(&m))
                .count()
                >= n
        })
        .await;
        self.calls(method)
    }

    /// Every message the bot sent to or edited in `chat`, in order.
    pub fn messages_to(&self, chat: i64) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| {
                (r.is("sendMessage") || r.is("editMessageText")) && r.body["chat_id"] == json!(chat)
            })
            .collect()
    }

    /// Wait for a message to `chat` containing `needle`; returns the first such.
    pub async fn wait_text(&self, chat: i64, needle: &str, timeout: Duration) -> Recorded {
        let n = needle.to_owned();
        self.wait_until(timeout, &format!("{needle:?} in chat {chat}"), move |rs| {
            rs.iter()
                .any(|r| r.body["chat_id"] == json!(chat) && r.text().contains(&n))
        })
        .await;
        self.messages_to(chat)
            .into_iter()
            .find(|r| r.text().contains(needle))
            .expect("found")
    }

    /// Updates not yet confirmed by a `getUpdates` offset.
    pub fn pending_updates(&self) -> usize {
        self.inner.updates.lock().unwrap().len()
    }
}

fn chat(id: i64) -> Value {
    if id < 0 {
        json!({"id": id, "type": "supergroup", "title": "ops"})
    } else {
        json!({"id": id, "type": "private", "first_name": "U"})
    }
}

fn user_obj(id: u64) -> Value {
    json!({"id": id, "is_bot": false, "first_name": "U", "language_code": "en"})
}

fn bot_obj() -> Value {
    json!({"id": BOT_ID, "is_bot": true, "first_name": "codex", "username": "codex_profiler_bot"})
}

fn ok(result: Value) -> Response {
    (
        StatusCode::OK,
        axum::Json(json!({"ok": true, "result": result})),
    )
        .into_response()
}

fn fail(status: StatusCode, description: &str, parameters: Option<Value>) -> Response {
    let mut body = json!({"ok": false, "error_code": status.as_u16(), "description": description});
    if let Some(p) = parameters {
        body["parameters"] = p;
    }
    (status, axum::Json(body)).into_response()
}

fn parse_body(headers: &HeaderMap, bytes: &[u8]) -> Value {
    let ct = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if bytes.is_empty() {
        return json!({});
    }
    if ct.starts_with("application/x-www-form-urlencoded") {
        let map: serde_json::Map<String, Value> = url::form_urlencoded::parse(bytes)
            .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
            .collect();
        return Value::Object(map);
    }
    if let Some(boundary) = ct.split("boundary=").nth(1) {
        return parse_multipart(&String::from_utf8_lossy(bytes), boundary.trim_matches('"'));
    }
    serde_json::from_slice(bytes).unwrap_or(Value::Null)
}

/// Text fields of a `multipart/form-data` body (teloxide sends `setWebhook` this way). A
/// field holding JSON (`allowed_updates`) is parsed.
fn parse_multipart(body: &str, boundary: &str) -> Value {
    let mut map = serde_json::Map::new();
    for part in body.split(&format!("--{boundary}")) {
        let Some((head, value)) = part.split_once("\r\n\r\n") else {
            continue;
        };
        let Some(name) = head
            .split("name=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
        else {
            continue;
        };
        let value = value.strip_suffix("\r\n").unwrap_or(value);
        let parsed = match serde_json::from_str::<Value>(value) {
            Ok(v @ (Value::Array(_) | Value::Object(_))) => v,
            _ => Value::String(value.to_owned()),
        };
        map.insert(name.to_owned(), parsed);
    }
    Value::Object(map)
}

fn num(v: &Value, key: &str) -> Option<i64> {
    match &v[key] {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

async fn handle(
    State(inner): State<Arc<Inner>>,
    Path((bot, method)): Path<(String, String)>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    if bot != format!("bot{TOKEN}") {
        return fail(StatusCode::UNAUTHORIZED, "Unauthorized", None);
    }
    let body = parse_body(&headers, &bytes);
    let lower = method.to_ascii_lowercase();
    let injected = inner
        .injections
        .lock()
        .unwrap()
        .get_mut(&lower)
        .and_then(VecDeque::pop_front);
    let sent_id = (injected.is_none() && lower == "sendmessage")
        .then(|| inner.next_message.fetch_add(1, Ordering::SeqCst));
    inner.requests.lock().unwrap().push(Recorded {
        method: method.clone(),
        body: body.clone(),
        raw: String::from_utf8_lossy(&bytes).into_owned(),
        at: Instant::now(),
        sent_id,
    });
    inner.new_request.notify_waiters();
    match injected {
        Some(Injection::RetryAfter(s)) => {
            return fail(
                StatusCode::TOO_MANY_REQUESTS,
                &format!("Too Many Requests: retry after {s}"),
                Some(json!({"retry_after": s})),
            );
        }
        Some(Injection::NotModified) => {
            return fail(
                StatusCode::BAD_REQUEST,
                "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message",
                None,
            );
        }
        Some(Injection::BadRequest(d)) => return fail(StatusCode::BAD_REQUEST, &d, None),
        None => {}
    }
    if lower != "getupdates" {
        let delay = *inner.delay.lock().unwrap();
        if let Some(d) = delay {
            tokio::time::sleep(d).await;
        }
    }
    match lower.as_str() {
        "getupdates" => get_updates(&inner, &body).await,
        "getme" => {
            let mut me = bot_obj();
            for flag in [
                "can_join_groups",
                "can_read_all_group_messages",
                "supports_inline_queries",
                "can_connect_to_business",
                "has_main_web_app",
            ] {
                me[flag] = json!(false);
            }
            ok(me)
        }
        "getwebhookinfo" => {
            ok(json!({"url": "", "has_custom_certificate": false, "pending_update_count": 0}))
        }
        "sendmessage" => {
            let id = sent_id.unwrap_or_default();
            let chat_id = num(&body, "chat_id").unwrap_or_default();
            let mut m = json!({"message_id": id, "date": 1_700_000_000, "chat": chat(chat_id),
                               "from": bot_obj(), "text": body["text"].clone()});
            if body.get("reply_markup").is_some() {
                m["reply_markup"] = body["reply_markup"].clone();
            }
            ok(m)
        }
        "editmessagetext" => {
            let chat_id = num(&body, "chat_id").unwrap_or_default();
            let id = num(&body, "message_id").unwrap_or_default();
            ok(
                json!({"message_id": id, "date": 1_700_000_000, "edit_date": 1_700_000_001,
                      "chat": chat(chat_id), "from": bot_obj(), "text": body["text"].clone()}),
            )
        }
        _ => ok(json!(true)),
    }
}

async fn get_updates(inner: &Inner, body: &Value) -> Response {
    let offset = num(body, "offset");
    let limit = num(body, "limit").unwrap_or(100).clamp(1, 100) as usize;
    let timeout = Duration::from_secs(num(body, "timeout").unwrap_or(0).max(0) as u64);
    let deadline = Instant::now() + timeout;
    loop {
        let notified = inner.new_update.notified();
        {
            let mut q = inner.updates.lock().unwrap();
            // Like Telegram: an offset confirms (forgets) every update before it.
            if let Some(o) = offset {
                while q.front().is_some_and(|(id, _)| *id < o) {
                    q.pop_front();
                }
            }
            if !q.is_empty() {
                let batch: Vec<Value> = q.iter().take(limit).map(|(_, u)| u.clone()).collect();
                return ok(Value::Array(batch));
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || tokio::time::timeout(left, notified).await.is_err() {
            return ok(json!([]));
        }
    }
}
