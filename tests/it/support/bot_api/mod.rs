//! A fake Telegram Bot API on loopback that speaks the real wire format: `POST
//! /bot<token>/<method>` with JSON, form or multipart bodies (`sendPhoto` uploads, see
//! `upload`), `{"ok":true,"result":...}` replies,
//! `getUpdates` long polling from a queue the test pushes updates into (confirmed by
//! `offset`, like the real server), message ids from `sendMessage`. Every request is recorded
//! at wire level (method + body) so tests can check what the bot sent, including that no
//! secret is in it. Method names match case-insensitively.
//!
//! It can be as unfriendly as real servers and what stands in front of them, per method: a
//! 429 with `retry_after`, "message is not modified", an HTTP 500, an HTML 502 from a proxy,
//! Telegram's answer for a method it does not know, `result: null`, a 401, a slow reply;
//! for the next call ([`FakeBotApi::inject`]) or every call ([`FakeBotApi::always`]). A
//! connection refused at start is [`FakeBotApi::reserve`]: the port is known, nothing listens
//! until [`Reserved::start`].

mod recorded;
mod upload;
mod wire;

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::post;
use serde_json::{Value, json};
use tokio::sync::Notify;

pub use recorded::Recorded;
use wire::{bot_obj, chat, handle, user_obj};

/// The token the fake accepts.
pub const TOKEN: &str = "424242:FAKEbotTOKENnotREAL_abcdefghijk";

/// The bot's own user id (messages it sends come "from" it).
pub const BOT_ID: u64 = 4_242;

/// A canned failure for the next call of a method.
#[derive(Debug, Clone)]
pub enum Injection {
    /// HTTP 429 `Too Many Requests: retry after N` with `parameters.retry_after`.
    RetryAfter(u32),
    /// HTTP 400 "Bad Request: message is not modified: ...".
    NotModified,
    /// HTTP 400 with this description.
    BadRequest(String),
    /// HTTP 500 `{"ok":false,"error_code":500,"description":"Internal Server Error"}`.
    ServerError,
    /// HTTP 502 with an HTML body, as a reverse proxy in front of the server gives.
    BadGateway,
    /// HTTP 404 `Not Found: method not found`, the real answer for an unknown method.
    UnknownMethod,
    /// HTTP 200 `{"ok":true,"result":null}`.
    NullResult,
    /// HTTP 401 `Unauthorized`, what Telegram says to a wrong token.
    Unauthorized,
    /// Wait this long, then answer normally.
    Slow(Duration),
}

#[derive(Default)]
pub(crate) struct Inner {
    requests: Mutex<Vec<Recorded>>,
    updates: Mutex<VecDeque<(i64, Value)>>,
    injections: Mutex<HashMap<String, VecDeque<Injection>>>,
    always: Mutex<HashMap<String, Injection>>,
    new_update: Notify,
    new_request: Notify,
    next_update: AtomicI64,
    next_message: AtomicI64,
    next_callback: AtomicI64,
    delay: Mutex<Option<Duration>>,
    sends: std::sync::atomic::AtomicUsize,
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

/// A loopback port where the fake will listen, refusing connections until started.
pub struct Reserved {
    /// Base URL to give the bot as `TELEGRAM_API_URL`.
    pub url: String,
    addr: std::net::SocketAddr,
    inner: Arc<Inner>,
}

impl Reserved {
    /// Make the first call of `method` after the start fail (no race with the bot's tries).
    pub fn inject(&self, method: &str, injection: Injection) {
        inject_into(&self.inner, method, injection);
    }

    /// Start listening on the reserved port.
    pub async fn start(self) -> FakeBotApi {
        let listener = tokio::net::TcpListener::bind(self.addr)
            .await
            .expect("bind the reserved port");
        FakeBotApi::serve(listener, self.inner)
    }
}

fn new_inner() -> Arc<Inner> {
    let inner = Arc::new(Inner::default());
    inner.next_update.store(1, Ordering::SeqCst);
    inner.next_message.store(1_000, Ordering::SeqCst);
    inner
}

fn inject_into(inner: &Inner, method: &str, injection: Injection) {
    inner
        .injections
        .lock()
        .unwrap()
        .entry(method.to_ascii_lowercase())
        .or_default()
        .push_back(injection);
}

impl FakeBotApi {
    /// Start a fake on a free loopback port.
    pub async fn start() -> FakeBotApi {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake Bot API");
        FakeBotApi::serve(listener, new_inner())
    }

    /// A free loopback port with nothing listening yet: connections are refused until
    /// [`Reserved::start`].
    pub fn reserve() -> Reserved {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a probe");
        let addr = probe.local_addr().expect("local addr");
        drop(probe);
        Reserved {
            url: format!("http://{addr}/"),
            addr,
            inner: new_inner(),
        }
    }

    fn serve(listener: tokio::net::TcpListener, inner: Arc<Inner>) -> FakeBotApi {
        let app = Router::new()
            .route("/{bot}/{method}", post(handle))
            .with_state(inner.clone());
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
        inject_into(&self.inner, method, injection);
    }

    /// Make every call of `method` fail with `injection` (after any one-shot injection),
    /// until [`FakeBotApi::heal`].
    pub fn always(&self, method: &str, injection: Injection) {
        self.inner
            .always
            .lock()
            .unwrap()
            .insert(method.to_ascii_lowercase(), injection);
    }

    /// Stop failing `method` every time.
    pub fn heal(&self, method: &str) {
        self.inner
            .always
            .lock()
            .unwrap()
            .remove(&method.to_ascii_lowercase());
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.inner.requests.lock().unwrap().clone()
    }

    /// How many requests so far satisfy `pred`, counted in place (no copy of the log, so a
    /// caller polling it under load holds the fake's lock for microseconds, not milliseconds).
    pub fn count(&self, pred: impl FnMut(&Recorded) -> bool) -> usize {
        let mut pred = pred;
        self.inner
            .requests
            .lock()
            .unwrap()
            .iter()
            .filter(|r| pred(r))
            .count()
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

    /// Every photo the bot sent to `chat` (accepted or not), in order.
    pub fn photos_to(&self, chat: i64) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| {
                r.is("sendPhoto")
                    && r.body["chat_id"].to_string().trim_matches('"') == chat.to_string()
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

    /// How many `sendMessage` calls succeeded so far (kept when [`FakeBotApi::forget`] clears
    /// the log).
    pub fn sends(&self) -> usize {
        self.inner.sends.load(Ordering::SeqCst)
    }

    /// Drop the recorded requests (the benchmark's memory run must not measure the log).
    pub fn forget(&self) {
        self.inner.requests.lock().unwrap().clear();
    }

    /// Updates not yet confirmed by a `getUpdates` offset.
    pub fn pending_updates(&self) -> usize {
        self.inner.updates.lock().unwrap().len()
    }
}
