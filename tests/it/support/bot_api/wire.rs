//! The fake's HTTP side: routing `POST /bot<token>/<method>`, body parsing (JSON, form,
//! multipart with files), injected failures, and the replies the real Bot API gives; a method
//! it does not know is refused as Telegram refuses it (404 `Not Found: method not found`).

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::upload::{self, Upload, parse_multipart};
use super::{BOT_ID, Injection, Inner, Recorded, TOKEN};

pub(super) fn chat(id: i64) -> Value {
    if id < 0 {
        json!({"id": id, "type": "supergroup", "title": "ops"})
    } else {
        json!({"id": id, "type": "private", "first_name": "U"})
    }
}

pub(super) fn user_obj(id: u64) -> Value {
    json!({"id": id, "is_bot": false, "first_name": "U", "language_code": "en"})
}

pub(super) fn bot_obj() -> Value {
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

fn parse_body(headers: &HeaderMap, bytes: &[u8]) -> (Value, Vec<Upload>) {
    let ct = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if bytes.is_empty() {
        return (json!({}), Vec::new());
    }
    if ct.starts_with("application/x-www-form-urlencoded") {
        let map: serde_json::Map<String, Value> = url::form_urlencoded::parse(bytes)
            .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
            .collect();
        return (Value::Object(map), Vec::new());
    }
    if ct.starts_with("multipart/form-data") {
        if let Some(boundary) = ct.split("boundary=").nth(1) {
            return parse_multipart(bytes, boundary.trim_matches('"'));
        }
    }
    (
        serde_json::from_slice(bytes).unwrap_or(Value::Null),
        Vec::new(),
    )
}

fn num(v: &Value, key: &str) -> Option<i64> {
    match &v[key] {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

pub(super) async fn handle(
    State(inner): State<Arc<Inner>>,
    Path((bot, method)): Path<(String, String)>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    // Stamped on arrival, not once the log's lock is free: a test reading the log must not
    // make the bot look slow.
    let at = Instant::now();
    let (body, files) = parse_body(&headers, &bytes);
    if bot != format!("bot{TOKEN}") {
        // Recorded too, so a test sees that the bot asked and what it asked.
        inner.requests.lock().unwrap().push(Recorded {
            method: method.clone(),
            body,
            raw: String::from_utf8_lossy(&bytes).into_owned(),
            at,
            sent_id: None,
            files,
        });
        inner.new_request.notify_waiters();
        return fail(StatusCode::UNAUTHORIZED, "Unauthorized", None);
    }
    let lower = method.to_ascii_lowercase();
    let injected = inner
        .injections
        .lock()
        .unwrap()
        .get_mut(&lower)
        .and_then(VecDeque::pop_front)
        .or_else(|| inner.always.lock().unwrap().get(&lower).cloned());
    let slow = match injected {
        Some(Injection::Slow(d)) => Some(d),
        _ => None,
    };
    let injected = injected.filter(|i| !matches!(i, Injection::Slow(_)));
    let refused = (lower == "sendphoto")
        .then(|| upload::refusal(&body, &files))
        .flatten();
    let creates = lower == "sendmessage" || (lower == "sendphoto" && refused.is_none());
    let sent_id =
        (injected.is_none() && creates).then(|| inner.next_message.fetch_add(1, Ordering::SeqCst));
    inner.requests.lock().unwrap().push(Recorded {
        method: method.clone(),
        body: body.clone(),
        raw: String::from_utf8_lossy(&bytes).into_owned(),
        at,
        sent_id,
        files: files.clone(),
    });
    inner.new_request.notify_waiters();
    if let Some(d) = slow {
        tokio::time::sleep(d).await;
    }
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
        Some(Injection::ServerError) => {
            return fail(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal Server Error",
                None,
            );
        }
        Some(Injection::BadGateway) => {
            return (
                StatusCode::BAD_GATEWAY,
                [("content-type", "text/html")],
                "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
            )
                .into_response();
        }
        Some(Injection::UnknownMethod) => {
            return fail(StatusCode::NOT_FOUND, "Not Found: method not found", None);
        }
        Some(Injection::NullResult) => {
            return (
                StatusCode::OK,
                axum::Json(json!({"ok": true, "result": null})),
            )
                .into_response();
        }
        Some(Injection::Unauthorized) => {
            return fail(StatusCode::UNAUTHORIZED, "Unauthorized", None);
        }
        Some(Injection::Slow(_)) | None => {}
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
            inner.sends.fetch_add(1, Ordering::SeqCst);
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
        "sendphoto" => match refused {
            Some(why) => fail(StatusCode::BAD_REQUEST, why, None),
            None => {
                let chat_id = num(&body, "chat_id").unwrap_or_default();
                let id = sent_id.unwrap_or_default();
                ok(upload::photo_message(
                    id,
                    chat(chat_id),
                    bot_obj(),
                    &body,
                    &files,
                ))
            }
        },
        "getmycommands" => ok(json!([])),
        "setmycommands"
        | "deletemycommands"
        | "deletemessage"
        | "answercallbackquery"
        | "setwebhook"
        | "deletewebhook"
        | "sendchataction"
        | "editmessagereplymarkup" => ok(json!(true)),
        _ => fail(StatusCode::NOT_FOUND, "Not Found: method not found", None),
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
