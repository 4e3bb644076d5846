//! A loopback OAuth issuer speaking the real wire format of `auth.openai.com`, for the auth
//! tests and the chat tests.
//!
//! ```ignore
//! let server = oauth_server::spawn();                 // binds 127.0.0.1:0
//! env: CODEX_PROFILER_AUTH_ISSUER = server.issuer_url
//! let callback = server.approve(&authorize_url);      // what the browser + user would do
//! server.set_token_reply(TokenReply::InvalidGrant);   // knobs for each failure
//! assert_eq!(server.request_count(), 0);              // what the server saw
//! server.secrets()                                    // every secret issued or seen, to
//!                                                     // assert none leaked into output
//! ```
//!
//! What it checks, like the real one: `grant_type=authorization_code`, the client id, a
//! known single-use code, the redirect URI the code was issued for, and the PKCE verifier
//! against the S256 challenge. A failed check answers `400 {"error":"invalid_grant"}` and is
//! recorded in [`OAuthServer::rejections`]. Tokens are unsigned JWTs with the OpenAI claims of
//! the current [`Account`].

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;

mod wire;
use wire::{device_token, token, usercode};

/// The client id the server accepts.
pub const CLIENT_ID: &str = "app_EMoamEEZ73f0CkXaXp7hrann";
/// The PKCE redirect URI the server accepts.
pub const REDIRECT_URI: &str = "http://localhost:1455/auth/callback";

/// Whose tokens the next exchange issues.
#[derive(Debug, Clone)]
pub struct Account {
    /// `chatgpt_account_id`; `None` issues a token without it (a non-Codex token).
    pub account_id: Option<String>,
    /// The profile email claim.
    pub email: String,
    /// `chatgpt_plan_type`.
    pub plan: String,
}

impl Account {
    /// An account with all claims.
    pub fn new(account_id: &str, email: &str, plan: &str) -> Account {
        Account {
            account_id: Some(account_id.to_owned()),
            email: email.to_owned(),
            plan: plan.to_owned(),
        }
    }
}

/// How `/oauth/token` answers a request that passed every check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenReply {
    /// 200 with `access_token`, `refresh_token`, `id_token`, `expires_in`.
    Ok,
    /// 400 `{"error":"invalid_grant"}`.
    InvalidGrant,
    /// 500 with a JSON body.
    ServerError,
    /// 200 with an HTML page (a captive portal, a proxy's error page).
    Html,
    /// 302 to another host (must not be followed).
    Redirect,
    /// 200, part of the JSON, then the connection is cut.
    Cut,
    /// 500s in a burst: the first `n` requests get a 500, then the normal reply.
    ServerErrorBurst(u32),
    /// No answer at all: the request hangs until the client gives up.
    Hang,
}

/// What one device poll meets before the normal answer (`set_device_poll_faults`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollFault {
    /// 200, part of the JSON, then the connection is cut.
    Cut,
    /// This status with an HTML body (a proxy's error page).
    Status(u16),
    /// No answer: the poll hangs until the client gives up.
    Hang,
}

#[derive(Debug)]
struct Issued {
    challenge: String,
    redirect_uri: String,
}

#[derive(Debug)]
struct Inner {
    account: Account,
    token_reply: TokenReply,
    device_enabled: bool,
    device_pending_polls: u32,
    device_interval: String,
    device_poll_faults: std::collections::VecDeque<PollFault>,
    polls: u32,
    codes: HashMap<String, Issued>,
    device: HashMap<String, String>,
    requests: Vec<String>,
    rejections: Vec<String>,
    secrets: Vec<String>,
    issuer: String,
    counter: u64,
}

/// A running loopback issuer. Dropping it leaves the server running until the test process
/// ends (each test spawns its own on a fresh port).
#[derive(Clone)]
pub struct OAuthServer {
    /// `http://127.0.0.1:<port>`: set `CODEX_PROFILER_AUTH_ISSUER` to this.
    pub issuer_url: String,
    inner: Arc<Mutex<Inner>>,
}

/// Start a server on `127.0.0.1:0` in a background thread with its own runtime, so sync and
/// async tests can both use it. Default knobs: account `acc-1`/`alice@example.com`/`plus`,
/// token reply [`TokenReply::Ok`], device flow enabled with 2 pending polls and a 1 s interval.
pub fn spawn() -> OAuthServer {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    listener.set_nonblocking(true).expect("nonblocking");
    let addr: SocketAddr = listener.local_addr().expect("local addr");
    let issuer = format!("http://{addr}");
    let inner = Arc::new(Mutex::new(Inner {
        account: Account::new(
            "11111111-aaaa-4bbb-8ccc-000000000001",
            "alice@example.com",
            "plus",
        ),
        token_reply: TokenReply::Ok,
        device_enabled: true,
        device_pending_polls: 2,
        device_interval: "1".to_owned(),
        device_poll_faults: std::collections::VecDeque::new(),
        polls: 0,
        codes: HashMap::new(),
        device: HashMap::new(),
        requests: Vec::new(),
        rejections: Vec::new(),
        secrets: Vec::new(),
        issuer: issuer.clone(),
        counter: 0,
    }));
    let app = Router::new()
        .route("/oauth/token", post(token))
        .route("/api/accounts/deviceauth/usercode", post(usercode))
        .route("/api/accounts/deviceauth/token", post(device_token))
        .fallback(|req: axum::extract::Request| async move {
            (
                StatusCode::NOT_FOUND,
                format!("no route {}", req.uri().path()),
            )
        })
        .with_state(inner.clone());
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let l = tokio::net::TcpListener::from_std(listener).expect("listener");
            axum::serve(l, app).await.expect("serve");
        });
    });
    OAuthServer {
        issuer_url: issuer,
        inner,
    }
}

impl OAuthServer {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Issue the next tokens for this account.
    pub fn set_account(&self, account: Account) {
        self.lock().account = account;
    }

    /// How `/oauth/token` answers.
    pub fn set_token_reply(&self, reply: TokenReply) {
        self.lock().token_reply = reply;
    }

    /// Whether `/api/accounts/deviceauth/usercode` exists (else 404).
    pub fn set_device_enabled(&self, on: bool) {
        self.lock().device_enabled = on;
    }

    /// Faults the next device polls meet, one each, in order (they count as no poll).
    pub fn set_device_poll_faults(&self, faults: &[PollFault]) {
        self.lock().device_poll_faults = faults.iter().copied().collect();
    }

    /// How many device polls answer 403 ("pending") before the approval.
    pub fn set_device_pending_polls(&self, n: u32) {
        self.lock().device_pending_polls = n;
    }

    /// Every request as `METHOD /path`, in order.
    pub fn requests(&self) -> Vec<String> {
        self.lock().requests.clone()
    }

    /// How many requests arrived.
    pub fn request_count(&self) -> usize {
        self.lock().requests.len()
    }

    /// How many device token polls arrived.
    pub fn device_polls(&self) -> u32 {
        self.lock().polls
    }

    /// Why token requests were refused (a PKCE, client id, redirect or grant check failed).
    pub fn rejections(&self) -> Vec<String> {
        self.lock().rejections.clone()
    }

    /// Every secret issued or seen: codes, states, verifiers, device ids, tokens.
    pub fn secrets(&self) -> Vec<String> {
        self.lock().secrets.clone()
    }

    /// Do what the browser and the user do: check the authorize URL's parameters, remember
    /// the challenge, and return the callback URL the browser would be sent to.
    pub fn approve(&self, authorize_url: &str) -> String {
        let url = url::Url::parse(authorize_url).expect("authorize URL");
        let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
        let mut g = self.lock();
        assert!(
            authorize_url.starts_with(&format!("{}/oauth/authorize?", g.issuer)),
            "authorize URL is not on this issuer"
        );
        for (k, v) in [
            ("response_type", "code"),
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT_URI),
            ("scope", "openid profile email offline_access"),
            ("code_challenge_method", "S256"),
            ("id_token_add_organizations", "true"),
            ("codex_cli_simplified_flow", "true"),
            ("originator", "codex-profiler"),
        ] {
            assert_eq!(
                q.get(k).map(String::as_str),
                Some(v),
                "authorize parameter {k}"
            );
        }
        let state = q.get("state").expect("state").clone();
        let challenge = q.get("code_challenge").expect("challenge").clone();
        let code = g.next("ac");
        g.secrets.push(state.clone());
        g.codes.insert(
            code.clone(),
            Issued {
                challenge,
                redirect_uri: REDIRECT_URI.to_owned(),
            },
        );
        format!("{REDIRECT_URI}?code={code}&scope=openid&state={state}")
    }
}
