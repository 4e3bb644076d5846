//! The sweep's world: one fixture home with recognisable fake tokens, the loopback issuer and
//! usage endpoint, the secrets registered as they appear, and every text a flow produced.

use std::path::PathBuf;
use std::process::Command;

use base64::Engine as _;
use serde_json::{Value, json};

use super::procs::MARKER;
use super::secrets::{LONG, SHORT, Secrets, forms};
use crate::support::bot_api::TOKEN;
use crate::support::cli::{self, Run};
use crate::support::fixtures::Fixture;
use crate::support::oauth_server::{self, Account, OAuthServer, REDIRECT_URI};
use crate::support::usage_server::{self, Reply, UsageServer};

/// The fixture's first Codex profile.
pub const ALICE: &str = "openai:alice@example.com";
/// The fixture's second Codex profile (cooling down).
pub const BOB: &str = "openai:bob@example.com";
/// The JWT header every token here carries (public: it names the algorithm only).
const JWT_HEADER: &str = r#"{"alg":"RS256","typ":"JWT"}"#;

fn b64(v: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.as_bytes())
}

/// 16 random bytes, hex (the width of an OAuth state).
pub fn nonce() -> String {
    let mut r = [0u8; 16];
    getrandom::fill(&mut r).expect("random");
    hex::encode(r)
}

/// A JWT-shaped access token carrying the OpenAI claims, its signature `SWEEPsig…`.
pub fn access_token(email: &str, account: &str, plan: &str, exp_s: i64) -> String {
    let claims = json!({
        "exp": exp_s, "jti": format!("SWEEPjti{}", nonce()),
        "https://api.openai.com/auth": {"chatgpt_account_id": account, "chatgpt_plan_type": plan},
        "https://api.openai.com/profile": {"email": email},
    });
    format!(
        "{}.{}.SWEEPsig{}",
        b64(JWT_HEADER),
        b64(&claims.to_string()),
        nonce()
    )
}

/// Everything one sweep run holds.
pub struct World {
    /// The home, its state dir and store.
    pub fx: Fixture,
    /// The loopback OAuth issuer.
    pub issuer: OAuthServer,
    /// The loopback usage endpoint (answers alice and bob).
    pub usage: UsageServer,
    /// Every secret registered so far.
    pub secrets: Secrets,
    /// (place, text) of everything a flow produced.
    pub outputs: Vec<(String, Vec<u8>)>,
    /// Authorize URLs: the OAuth state travels in them by design, nowhere else.
    pub authorize_urls: Vec<String>,
    /// Values the test itself put on a child's command line or environment.
    pub given: Vec<String>,
    /// `MARKER=<nonce>`.
    pub marker: String,
    /// Every access token the usage endpoint may receive.
    pub access: Vec<String>,
    accounts: u32,
}

impl World {
    /// A state-db store with alice and bob (Codex) and an API key of another provider, a
    /// `.env` holding the bot token (as the README's set-up has it), and the fakes.
    pub fn new() -> World {
        let fx = Fixture::new();
        let far_ms = chrono::Utc::now().timestamp_millis() + 10 * 86_400_000;
        let mut secrets = Secrets::default();
        let mut access = Vec::new();
        let mut profile = |name: &str, plan: &str, secrets: &mut Secrets| {
            let email = format!("{name}@example.com");
            let at = access_token(&email, &format!("acct-{name}"), plan, far_ms / 1000);
            let rt = format!("SWEEPref_{name}_{}", nonce());
            secrets.add("access token", &at, LONG);
            secrets.add("refresh token", &rt, SHORT);
            access.push(at.clone());
            json!({"type": "oauth", "provider": "openai", "access": at, "refresh": rt,
                   "expires": far_ms, "accountId": format!("acct-{name}"), "email": email,
                   "chatgptPlanType": plan, "futureField": {"kept": true}})
        };
        let key = format!("SWEEPapikey{}", nonce());
        secrets.add("API key of another provider", &key, SHORT);
        let store = json!({"version": 1, "profiles": {
            ALICE: profile("alice", "plus", &mut secrets),
            BOB: profile("bob", "pro", &mut secrets),
            "anthropic:default": {"type": "api_key", "provider": "anthropic", "key": key},
        }});
        let state = json!({"version": 1, "order": {"openai": [ALICE, BOB]},
            "lastGood": {"openai": ALICE},
            "usageStats": {BOB: {"cooldownUntil": far_ms, "cooldownReason": "rate_limit", "errorCount": 2}}});
        fx.state_db(&store, Some(&state));
        secrets.add("bot token", TOKEN, SHORT);
        for p in [
            &format!("{REDIRECT_URI}?code="),
            "&scope=openid&state=",
            "?code=…&state=…",
            &format!("{}.", b64(JWT_HEADER)),
            ".FAKE_SIGNATURE",
        ] {
            secrets.public(p);
        }
        let dotenv = fx.home().join(".env");
        std::fs::write(&dotenv, format!("TELEGRAM_BOT_TOKEN={TOKEN}\n")).expect(".env");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dotenv, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        std::fs::create_dir_all(fx.home().join("tmp")).expect("tmp");
        // bob's reply is hostile: the endpoint echoes the bearer in the words it sends back
        // (the plan, an extra limit's name), which every report shows.
        let echo = |t: &str| {
            let mut p = usage_server::full_payload();
            p["plan_type"] = json!(t);
            if let Some(extra) = p["additional_rate_limits"].get_mut(0) {
                extra["limit_name"] = json!(format!("Bearer {t}"));
            }
            p
        };
        let usage = usage_server::spawn([
            (
                access[0].as_str(),
                Reply::Json(usage_server::full_payload()),
            ),
            (access[1].as_str(), Reply::Json(echo(&access[1]))),
        ]);
        let issuer = oauth_server::spawn();
        issuer.set_device_pending_polls(1);
        World {
            fx,
            issuer,
            usage,
            secrets,
            outputs: Vec::new(),
            authorize_urls: Vec::new(),
            given: Vec::new(),
            marker: format!("{MARKER}={}", nonce()),
            access,
            accounts: 0,
        }
    }

    /// The binary with a clean environment at `RUST_LOG=trace`, pointed at the fakes.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = cli::command(self.fx.home());
        let (k, v) = self.marker.split_once('=').expect("marker");
        c.args(args)
            .env("RUST_LOG", "trace")
            .env(k, v)
            .env("TMPDIR", self.fx.home().join("tmp"))
            .env("OPENCLAW_STATE_DIR", self.fx.state_dir())
            .env("CODEX_PROFILER_AUTH_ISSUER", &self.issuer.issuer_url)
            .env("CODEX_PROFILER_USAGE_URL", &self.usage.url)
            .env(
                "CODEX_PROFILER_GATEWAY_RESTART_CMD",
                "sleep 0.3; echo restarted",
            )
            .env("CODEX_PROFILER_WATCH_INTERVAL", "0");
        c
    }

    /// Run the binary to the end (stdin closed, or fed `stdin`), keeping both streams.
    pub fn run(&mut self, args: &[&str], stdin: Option<&str>) -> Run {
        self.run_env(args, stdin, &[])
    }

    /// [`World::run`] with more environment.
    pub fn run_env(&mut self, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Run {
        let mut c = self.command(args);
        c.envs(env.iter().copied());
        let out = match stdin {
            None => c.output().expect("run"),
            Some(input) => {
                use std::io::Write;
                c.stdin(std::process::Stdio::piped())
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped());
                let mut child = c.spawn().expect("spawn");
                child
                    .stdin
                    .take()
                    .expect("stdin")
                    .write_all(input.as_bytes())
                    .expect("stdin");
                child.wait_with_output().expect("wait")
            }
        };
        let run = Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        let name = args
            .iter()
            .filter(|a| !a.contains("://") && a.len() < 40)
            .copied()
            .collect::<Vec<_>>()
            .join(" ");
        self.keep(&format!("`{name}` stdout"), run.stdout.as_bytes());
        self.keep(&format!("`{name}` stderr"), run.stderr.as_bytes());
        run
    }

    /// Keep `text` produced at `place` for the scan.
    pub fn keep(&mut self, place: &str, text: &[u8]) {
        self.outputs.push((place.to_owned(), text.to_vec()));
    }

    /// The first authorize URL in `text` (registered as the one place the state may be).
    #[track_caller]
    pub fn authorize_url(&mut self, text: &str) -> String {
        let prefix = format!("{}/oauth/authorize?", self.issuer.issuer_url);
        let url = text
            .split(|c: char| c.is_whitespace() || c == '"' || c == '<' || c == '>')
            .find(|w| w.starts_with(&prefix))
            .unwrap_or_else(|| panic!("no authorize URL in the output ({} bytes)", text.len()))
            .to_owned();
        self.authorize_urls.push(url.clone());
        url
    }

    /// The next login is of a new account `name@example.com`.
    pub fn next_account(&mut self, name: &str) {
        self.accounts += 1;
        let id = format!("00000000-aaaa-4bbb-8ccc-{:012}", self.accounts);
        self.issuer
            .set_account(Account::new(&id, &format!("{name}@example.com"), "plus"));
    }

    /// The issuer approves `authorize_url`: the callback URL (a secret) and its code.
    pub fn approve(&mut self, authorize_url: &str) -> String {
        let callback = self.issuer.approve(authorize_url);
        self.secrets.add("callback URL", &callback, LONG);
        callback
    }

    /// `text` with every authorize URL (in each form) cut out.
    pub fn without_authorize_urls(&self, text: &[u8]) -> Vec<u8> {
        let mut t = String::from_utf8_lossy(text).into_owned();
        for u in &self.authorize_urls {
            for f in forms(u) {
                t = t.replace(&f, "<authorize URL>");
            }
        }
        t.into_bytes()
    }

    /// The store file the gateway reads (holds tokens by design: the positive control).
    pub fn store_db(&self) -> PathBuf {
        self.fx.state_db_path()
    }

    /// The secrets the issuer issued or saw, classified.
    pub fn register_issued(&mut self) {
        for s in self.issuer.secrets() {
            let (kind, window) = classify(&s);
            if let Some(kind) = kind {
                self.secrets.add(kind, &s, window);
            }
        }
    }
}

/// What a value the issuer issued or saw is (see `support::oauth_server`'s minting).
fn classify(s: &str) -> (Option<&'static str>, usize) {
    let kind = if s.starts_with("ac_") {
        Some("authorization code")
    } else if s.starts_with("rt_") {
        Some("refresh token")
    } else if s.starts_with("dv_") {
        Some("PKCE verifier (device)")
    } else if s.starts_with("deviceauth_") {
        Some("device auth id")
    } else if s.starts_with("n_") {
        None // a JWT's jti, inside the tokens
    } else if s.starts_with("eyJ") {
        let payload = s.split('.').nth(1).unwrap_or_default();
        let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            .unwrap_or_default();
        if claims.get("https://api.openai.com/auth").is_some() {
            Some("access token")
        } else {
            Some("id token")
        }
    } else if s.len() == 32 && s.chars().all(|c| c.is_ascii_hexdigit()) {
        Some("OAuth state")
    } else {
        Some("PKCE verifier")
    };
    let window = if s.starts_with("eyJ") || kind == Some("PKCE verifier") {
        LONG
    } else {
        SHORT
    };
    (kind, window)
}
