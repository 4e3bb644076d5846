//! The issuer's endpoints, as `auth.openai.com` speaks them: `/oauth/token` (form) and the
//! device-code pair (JSON), plus token minting. State and knobs live in the parent module.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::{Form, Json, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use codex_profiler::engine::jwt::unsigned_for_tests;

use super::{CLIENT_ID, Inner, Issued, PollFault, TokenReply};

impl Inner {
    pub(super) fn next(&mut self, prefix: &str) -> String {
        self.counter += 1;
        let mut rnd = [0u8; 12];
        getrandom::fill(&mut rnd).expect("random");
        let v = format!("{prefix}_{}{}", self.counter, hex::encode(rnd));
        self.secrets.push(v.clone());
        v
    }

    fn tokens(&mut self) -> Value {
        let a = self.account.clone();
        let mut auth = json!({"chatgpt_plan_type": a.plan, "chatgpt_user_id": "user-TEST"});
        if let Some(id) = &a.account_id {
            auth["chatgpt_account_id"] = json!(id);
        }
        let nonce = self.next("n");
        let now = chrono::Utc::now().timestamp();
        let claims = json!({
            "iss": self.issuer, "exp": now + 864_000, "iat": now, "jti": nonce,
            "https://api.openai.com/auth": auth,
            "https://api.openai.com/profile": {"email": a.email, "email_verified": true},
        });
        let access = unsigned_for_tests(&claims);
        let id_token =
            unsigned_for_tests(&json!({"email": a.email, "exp": now + 3600, "jti": nonce}));
        let refresh = self.next("rt");
        self.secrets.push(access.clone());
        self.secrets.push(id_token.clone());
        json!({
            "access_token": access, "refresh_token": refresh, "id_token": id_token,
            "token_type": "Bearer", "expires_in": 864_000,
        })
    }
}

type Shared = State<Arc<Mutex<Inner>>>;

fn lock(s: &Arc<Mutex<Inner>>) -> MutexGuard<'_, Inner> {
    s.lock().unwrap_or_else(|p| p.into_inner())
}

pub(super) fn s256(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn refuse(g: &mut Inner, why: String) -> Response {
    g.rejections.push(why);
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": "invalid_grant"})),
    )
        .into_response()
}

/// The header a reply carries when it must never be sent (the lock is released first).
const HANG: &str = "x-test-hang";

fn hang_marker() -> Response {
    (StatusCode::INTERNAL_SERVER_ERROR, [(HANG, "1")]).into_response()
}

/// `reply`, or no answer at all when it is the hang marker.
async fn or_hang(reply: Response) -> Response {
    if reply.headers().contains_key(HANG) {
        std::future::pending::<()>().await;
    }
    reply
}

pub(super) async fn token(s: Shared, f: Form<HashMap<String, String>>) -> Response {
    or_hang(token_now(s, f)).await
}

fn token_now(State(s): Shared, Form(f): Form<HashMap<String, String>>) -> Response {
    let mut g = lock(&s);
    g.requests.push("POST /oauth/token".into());
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    if let Some(v) = f.get("code_verifier") {
        g.secrets.push(v.clone());
    }
    if get("grant_type") != "authorization_code" {
        return refuse(&mut g, format!("grant_type {}", get("grant_type")));
    }
    if get("client_id") != CLIENT_ID {
        return refuse(&mut g, "client_id".into());
    }
    // Codes are single-use, whatever happens next.
    let Some(issued) = g.codes.remove(&get("code")) else {
        return refuse(&mut g, "unknown or reused code".into());
    };
    if get("redirect_uri") != issued.redirect_uri {
        return refuse(&mut g, format!("redirect_uri {}", get("redirect_uri")));
    }
    if s256(&get("code_verifier")) != issued.challenge {
        return refuse(&mut g, "PKCE verifier does not match the challenge".into());
    }
    let reply = g.token_reply;
    match reply {
        TokenReply::Ok => Json(g.tokens()).into_response(),
        TokenReply::InvalidGrant => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_grant", "error_description": "code expired"})),
        )
            .into_response(),
        TokenReply::ServerError => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({"error": "server_error"})),
        )
            .into_response(),
        TokenReply::Html => (
            StatusCode::OK,
            [("content-type", "text/html")],
            "<html><body>Sign in to the Wi-Fi</body></html>",
        )
            .into_response(),
        TokenReply::Cut => (
            [("content-type", "application/json")],
            crate::support::usage_server::cut_body(b"{\"access_token\":\"ey"),
        )
            .into_response(),
        TokenReply::ServerErrorBurst(n) => {
            if n > 0 {
                g.token_reply = TokenReply::ServerErrorBurst(n - 1);
                return (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Json(json!({"error": "server_error"})),
                )
                    .into_response();
            }
            Json(g.tokens()).into_response()
        }
        TokenReply::Hang => hang_marker(),
        TokenReply::Redirect => (
            StatusCode::FOUND,
            [("location", "https://evil.example/steal")],
            "",
        )
            .into_response(),
    }
}

pub(super) async fn usercode(State(s): Shared, Json(body): Json<Value>) -> Response {
    let mut g = lock(&s);
    g.requests
        .push("POST /api/accounts/deviceauth/usercode".into());
    if !g.device_enabled {
        return (StatusCode::NOT_FOUND, "Not Found").into_response();
    }
    if body.get("client_id").and_then(Value::as_str) != Some(CLIENT_ID) {
        g.rejections.push("device client_id".into());
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_client"})),
        )
            .into_response();
    }
    let id = g.next("deviceauth");
    g.counter += 1;
    let user_code = format!("TEST-{:04}", g.counter);
    g.device.insert(id.clone(), user_code.clone());
    g.polls = 0;
    let interval = g.device_interval.clone();
    Json(json!({"device_auth_id": id, "user_code": user_code, "interval": interval}))
        .into_response()
}

pub(super) async fn device_token(s: Shared, body: Json<Value>) -> Response {
    or_hang(device_token_now(s, body)).await
}

fn device_token_now(State(s): Shared, Json(body): Json<Value>) -> Response {
    let mut g = lock(&s);
    g.requests
        .push("POST /api/accounts/deviceauth/token".into());
    match g.device_poll_faults.pop_front() {
        None => {}
        Some(PollFault::Cut) => {
            return (
                [("content-type", "application/json")],
                crate::support::usage_server::cut_body(b"{\"authorization_code\":\"ac"),
            )
                .into_response();
        }
        Some(PollFault::Status(code)) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_GATEWAY);
            return (
                status,
                [("content-type", "text/html")],
                "<html>Bad gateway</html>",
            )
                .into_response();
        }
        Some(PollFault::Hang) => return hang_marker(),
    }
    g.polls += 1;
    let id = body
        .get("device_auth_id")
        .and_then(Value::as_str)
        .unwrap_or("");
    let code = body.get("user_code").and_then(Value::as_str).unwrap_or("");
    if g.device.get(id).map(String::as_str) != Some(code) {
        g.rejections
            .push("device poll for an unknown device_auth_id/user_code".into());
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_request"})),
        )
            .into_response();
    }
    if g.polls <= g.device_pending_polls {
        return (
            StatusCode::FORBIDDEN,
            Json(json!({"error": {"message": "Device authorization is pending", "code": "deviceauth_authorization_pending"}})),
        )
            .into_response();
    }
    g.device.remove(id);
    let verifier = g.next("dv");
    let auth_code = g.next("ac");
    let redirect_uri = format!("{}/deviceauth/callback", g.issuer);
    g.codes.insert(
        auth_code.clone(),
        Issued {
            challenge: s256(&verifier),
            redirect_uri,
        },
    );
    let challenge = s256(&verifier);
    Json(json!({"authorization_code": auth_code, "code_verifier": verifier, "code_challenge": challenge}))
        .into_response()
}
