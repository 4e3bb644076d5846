//! A loopback ChatGPT usage endpoint (`GET /backend-api/wham/usage`) speaking the real wire
//! format, for the usage tests, the chat tests and the benchmark.
//!
//! It answers per bearer token with a scripted [`Reply`], counts and records every request
//! (headers included), tracks how many requests are in flight at once (and the most ever),
//! and can add a fixed delay to every reply. The reply shapes of issue 9 (usage-based plans,
//! code review, workspace out, weekly-only, absurd values) come from
//! `tests/fixtures/usage/*.json`, the documents the parser's unit tests read. It runs on its own thread
//! with its own runtime, so sync tests, async tests and benches can all use it:
//!
//! ```ignore
//! let server = usage_server::spawn([("tok-full", Reply::Json(usage_server::full_payload()))]);
//! // point CODEX_PROFILER_USAGE_URL (or UsageOptions::url) at server.url
//! assert_eq!(server.hits("tok-full"), 1);
//! ```
//!
//! Unknown tokens and requests without a bearer token get 401.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

/// The path the server answers on.
pub const PATH: &str = "/backend-api/wham/usage";

/// How the server answers one request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// 200 with this JSON body.
    Json(Value),
    /// This status with a small JSON error body.
    Status(u16),
    /// The n-th request for the token gets the n-th reply; the last one repeats.
    Sequence(Vec<Reply>),
    /// Wait, then answer.
    Delay(Duration, Box<Reply>),
    /// Accept the request and never answer.
    Hang,
    /// 200 with an HTML page (what a login wall or proxy sends).
    Html,
    /// 200 `application/json` with a body of this many bytes (with `Content-Length`).
    Huge(usize),
    /// The same body sent chunked, without `Content-Length`: the client only learns its size
    /// by reading it.
    HugeChunked(usize),
    /// 429 with this `Retry-After` header value (seconds or an HTTP date), as chatgpt.com
    /// sends when it throttles.
    RetryAfter(String),
    /// 200, part of a body, then the connection is cut (a reset proxy, a dropped link).
    Cut,
}

/// A body that sends a first chunk and then fails, so hyper aborts the connection mid-reply.
pub fn cut_body(first: &'static [u8]) -> Body {
    let chunks: Vec<Result<axum::body::Bytes, std::io::Error>> = vec![
        Ok(axum::body::Bytes::from_static(first)),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "cut by the test",
        )),
    ];
    Body::from_stream(futures_util::stream::iter(chunks))
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The bearer token, if any.
    pub token: Option<String>,
    /// `ChatGPT-Account-Id`.
    pub account_id: Option<String>,
    /// `User-Agent`.
    pub user_agent: Option<String>,
    /// `Accept`.
    pub accept: Option<String>,
}

#[derive(Default)]
struct Shared {
    replies: HashMap<String, Reply>,
    delay: Duration,
    log: Mutex<Vec<Recorded>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

/// Counts a request in flight for as long as it lives (a dropped, cancelled request too).
struct InFlight(Arc<Shared>);

impl InFlight {
    fn enter(shared: &Arc<Shared>) -> InFlight {
        let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        shared.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(shared.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A running server; stopped when dropped.
pub struct UsageServer {
    /// The full usage URL, e.g. `http://127.0.0.1:41234/backend-api/wham/usage`.
    pub url: String,
    /// The bound address.
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl UsageServer {
    /// Requests made with `token`.
    pub fn hits(&self, token: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.token.as_deref() == Some(token))
            .count()
    }

    /// All requests.
    pub fn total_hits(&self) -> usize {
        self.requests().len()
    }

    /// The most requests ever in flight at once.
    pub fn max_in_flight(&self) -> usize {
        self.shared.max_in_flight.load(Ordering::SeqCst)
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared
            .log
            .lock()
            .map(|l| l.clone())
            .unwrap_or_default()
    }
}

impl Drop for UsageServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Build a server with more options than [`spawn`].
#[derive(Default)]
pub struct Builder {
    replies: HashMap<String, Reply>,
    delay: Duration,
}

impl Builder {
    /// Answer `token` with `reply`.
    pub fn reply(mut self, token: &str, reply: Reply) -> Builder {
        self.replies.insert(token.to_owned(), reply);
        self
    }

    /// Add this delay before every reply (the benchmark's 200 ms).
    pub fn delay(mut self, d: Duration) -> Builder {
        self.delay = d;
        self
    }

    /// Bind `127.0.0.1:0` and serve on a background thread.
    pub fn spawn(self) -> UsageServer {
        let shared = Arc::new(Shared {
            replies: self.replies,
            delay: self.delay,
            ..Shared::default()
        });
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("local addr");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = Router::new()
            .route(PATH, get(handle))
            .with_state(shared.clone());
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("server runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                // Not a graceful shutdown: a hanging request must not keep the server alive.
                tokio::select! {
                    _ = axum::serve(listener, app) => {}
                    _ = stopped => {}
                }
            });
        });
        UsageServer {
            url: format!("http://{addr}{PATH}"),
            addr,
            shared,
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

/// A builder for a server with options (delay).
pub fn builder() -> Builder {
    Builder::default()
}

/// Serve these `(token, reply)` pairs.
pub fn spawn<'a>(replies: impl IntoIterator<Item = (&'a str, Reply)>) -> UsageServer {
    replies
        .into_iter()
        .fold(builder(), |b, (t, r)| b.reply(t, r))
        .spawn()
}

/// A full reply: both windows, credits balance as a string, an additional limit.
pub fn full_payload() -> Value {
    json!({
        "plan_type": "plus",
        "rate_limit": {
            "allowed": true,
            "limit_reached": false,
            "primary_window": {"used_percent": 58, "limit_window_seconds": 18000,
                "reset_after_seconds": 7980, "reset_at": 1_900_007_980},
            "secondary_window": {"used_percent": 12, "limit_window_seconds": 604800,
                "reset_after_seconds": 399_600, "reset_at": 1_900_399_600}
        },
        "credits": {"has_credits": true, "unlimited": false, "balance": "17.50"},
        "additional_rate_limits": [{
            "limit_name": "codex_other", "metered_feature": "codex_other",
            "rate_limit": {"allowed": true, "limit_reached": false,
                "primary_window": {"used_percent": 3, "limit_window_seconds": 18000,
                    "reset_after_seconds": 100, "reset_at": 1_900_000_100},
                "secondary_window": null}
        }]
    })
}

/// A reply where almost everything is null.
pub fn null_payload() -> Value {
    json!({
        "plan_type": null,
        "rate_limit": {"allowed": null, "limit_reached": null,
            "primary_window": {"used_percent": null, "limit_window_seconds": null,
                "reset_after_seconds": null, "reset_at": null},
            "secondary_window": null},
        "credits": null,
        "additional_rate_limits": null
    })
}

/// One of `tests/fixtures/usage/*.json`, with every `reset_at` that sits beside a
/// `reset_after_seconds` moved to now + that delay, as a live reply would have it.
/// `absurd` is served as it is.
pub fn shape(name: &str) -> Value {
    let raw = match name {
        "usage_based" => include_str!("../../fixtures/usage/usage_based.json"),
        "code_review" => include_str!("../../fixtures/usage/code_review.json"),
        "workspace_out" => include_str!("../../fixtures/usage/workspace_out.json"),
        "weekly_only" => include_str!("../../fixtures/usage/weekly_only.json"),
        "absurd" => {
            return serde_json::from_str(include_str!("../../fixtures/usage/absurd.json"))
                .expect("fixture");
        }
        other => panic!("no usage fixture {other}"),
    };
    let mut v: Value = serde_json::from_str(raw).expect("fixture");
    refresh_resets(&mut v, chrono::Utc::now().timestamp());
    v
}

fn refresh_resets(v: &mut Value, now_s: i64) {
    match v {
        Value::Object(map) => {
            if let Some(after) = map.get("reset_after_seconds").and_then(Value::as_i64) {
                if map.contains_key("reset_at") {
                    map.insert("reset_at".into(), json!(now_s + after));
                }
            }
            map.values_mut().for_each(|c| refresh_resets(c, now_s));
        }
        Value::Array(list) => list.iter_mut().for_each(|c| refresh_resets(c, now_s)),
        _ => {}
    }
}

/// `{"plan_type":"aaaa…"}`, `n` bytes long.
fn huge_body(n: usize) -> Vec<u8> {
    let mut body = Vec::with_capacity(n);
    body.extend_from_slice(b"{\"plan_type\":\"");
    body.resize(n.saturating_sub(2).max(body.len()), b'a');
    body.extend_from_slice(b"\"}");
    body
}

fn header_text(h: &HeaderMap, name: &str) -> Option<String> {
    h.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

async fn handle(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let _in_flight = InFlight::enter(&shared);
    let token = header_text(&headers, "authorization")
        .and_then(|a| a.strip_prefix("Bearer ").map(str::to_owned));
    let nth = {
        let mut log = shared.log.lock().expect("log");
        log.push(Recorded {
            token: token.clone(),
            account_id: header_text(&headers, "chatgpt-account-id"),
            user_agent: header_text(&headers, "user-agent"),
            accept: header_text(&headers, "accept"),
        });
        log.iter().filter(|r| r.token == token).count() - 1
    };
    if !shared.delay.is_zero() {
        tokio::time::sleep(shared.delay).await;
    }
    let reply = token
        .and_then(|t| shared.replies.get(&t).cloned())
        .unwrap_or(Reply::Status(401));
    answer(reply, nth).await
}

async fn answer(reply: Reply, nth: usize) -> Response {
    let mut reply = reply;
    loop {
        reply = match reply {
            Reply::Json(v) => return axum::Json(v).into_response(),
            Reply::Status(code) => {
                let status = StatusCode::from_u16(code).unwrap_or(StatusCode::IM_A_TEAPOT);
                let body = json!({"detail": {"code": "scripted", "status": code}});
                return (status, axum::Json(body)).into_response();
            }
            Reply::Sequence(list) => match list.get(nth).or(list.last()) {
                Some(r) => r.clone(),
                None => Reply::Status(500),
            },
            Reply::Delay(d, inner) => {
                tokio::time::sleep(d).await;
                *inner
            }
            Reply::Hang => {
                std::future::pending::<()>().await;
                Reply::Status(500)
            }
            Reply::Html => {
                return (
                    [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                    "<!DOCTYPE html><html><body>Just a moment...</body></html>",
                )
                    .into_response();
            }
            Reply::Huge(n) => {
                return ([(header::CONTENT_TYPE, "application/json")], huge_body(n))
                    .into_response();
            }
            Reply::RetryAfter(value) => {
                let body = json!({"detail": "Too many requests"});
                return (
                    StatusCode::TOO_MANY_REQUESTS,
                    [(header::RETRY_AFTER, value)],
                    axum::Json(body),
                )
                    .into_response();
            }
            Reply::Cut => {
                return (
                    [(header::CONTENT_TYPE, "application/json")],
                    cut_body(b"{\"plan_type\":\"pl"),
                )
                    .into_response();
            }
            Reply::HugeChunked(n) => {
                // A stream has no known length, so hyper sends it chunked.
                let stream = Body::from(huge_body(n)).into_data_stream();
                return (
                    [(header::CONTENT_TYPE, "application/json")],
                    Body::from_stream(stream),
                )
                    .into_response();
            }
        };
    }
}

/// `text` with the reset time of each usage part taken out (`(resets 14:25 IST, in 2h 13m)`
/// becomes `(resets 2h 13m)`): the relative form of SPEC section 7, for assertions that must
/// not depend on the clock or the zone the text was shown in.
pub fn relative_resets(text: &str) -> String {
    const OPEN: &str = "(resets ";
    const IN: &str = ", in ";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(OPEN) {
        out.push_str(&rest[..i + OPEN.len()]);
        rest = &rest[i + OPEN.len()..];
        let close = rest.find(')').unwrap_or(rest.len());
        if let Some(j) = rest[..close].find(IN) {
            rest = &rest[j + IN.len()..];
        }
    }
    out.push_str(rest);
    out
}

/// A server answering profile `id` of the store document `store` with [`full_payload`].
pub fn full_for(store: &Value, id: &str) -> UsageServer {
    let access = store["profiles"][id]["access"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    spawn([(access.as_str(), Reply::Json(full_payload()))])
}
