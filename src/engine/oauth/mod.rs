//! The Codex OAuth login (SPEC section 4): PKCE paste-back, device code, and importing the
//! Codex CLI's login, each ending in one stored profile.
//!
//! # Layout
//! - [`pkce`]: verifier, challenge, state and the authorize URL (pure).
//! - [`callback`]: parse what the user pasted back into a code and a state, as secrets (pure).
//! - [`pending`]: `<state>/codex-profiler/pending.json`, the logins started and not finished.
//! - [`exchange`]: the token endpoint (via `oauth2`, redirects disabled, 30 s timeout).
//! - [`device`]: the device-code flow, async, cancellable by dropping it, with progress events.
//! - [`codex_cli`]: read `$CODEX_HOME/auth.json` without ever changing it.
//! - [`identity`]: who the tokens belong to, the profile fields, and which id they go to.
//! - [`login`]: write the profile through the store ([`login::save_login`]).
//! - [`flow`]: the start/finish/device/import entry points every front end calls.
//! - [`status`]: identity, expiry, fence and pending login per profile.
//!
//! # Using it from a front end
//! ```no_run
//! # use codex_profiler::engine::oauth::{Issuer, Requester, flow};
//! # use codex_profiler::engine::oauth::device::{DeviceEvent, DeviceOptions};
//! # use codex_profiler::engine::oauth::pending::PendingLogins;
//! # use codex_profiler::engine::store::Store;
//! # use codex_profiler::secret::Secret;
//! # async fn demo(store: &Store, text: String) -> Result<(), Box<dyn std::error::Error>> {
//! let issuer = Issuer::from_env()?;                       // refuses untrusted overrides
//! let who = Requester::chat("telegram:42");               // or Requester::cli()
//! let started = flow::start_login(store, &issuer, "alice@example.com", &who)?;
//! // show started.authorize_url to that user only; later, with what they pasted:
//! let saved = flow::finish_login(store, &issuer, None, &who, &Secret::new(text)).await?;
//! // device login: events drive the message; drop the future to cancel
//! let saved = flow::device_and_save(store, &issuer, "bob", DeviceOptions::default(),
//!     &mut |e: DeviceEvent| { /* edit the message */ }).await?;
//! let now_ms = chrono::Utc::now().timestamp_millis();
//! let pending = PendingLogins::at(store.state_dir()).list(now_ms)?;  // who has one
//! # let _ = (started, saved, pending);
//! # Ok(())
//! # }
//! ```
//!
//! # Invariants
//! - The issuer is checked with [`crate::engine::endpoint::auth_issuer`] before any request.
//! - Codes, verifiers, states, device ids and tokens are [`Secret`]s from parse to use; error
//!   messages are our own sentences and never embed a server body.
//! - A token is never refreshed here: refresh tokens are single-use and belong to the gateway.

pub mod callback;
pub mod codex_cli;
pub mod device;
mod error;
pub mod exchange;
pub mod flow;
pub mod identity;
pub mod login;
pub mod pending;
pub mod pkce;
pub mod status;

pub use error::OAuthError;

use url::Url;

use crate::engine::endpoint::{self, EndpointError};
use crate::secret::Secret;

/// The OAuth client id OpenClaw and the Codex CLI use.
pub const CLIENT_ID: &str = "app_EMoamEEZ73f0CkXaXp7hrann";
/// The redirect URI registered for that client (the browser lands here; nothing listens).
pub const REDIRECT_URI: &str = "http://localhost:1455/auth/callback";
/// The scopes requested.
pub const SCOPE: &str = "openid profile email offline_access";
/// The `originator` parameter we send.
pub const ORIGINATOR: &str = "codex-profiler";
/// How long a started login (PKCE or device) stays valid.
pub const LOGIN_TTL_MS: i64 = 15 * 60 * 1000;
/// Timeout of every single request to the issuer.
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Who started a login: `cli` for the command line, a chat user id for the chat adapters. A
/// pending login belongs to one (profile, requester) pair.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Requester(String);

impl Requester {
    /// The command line.
    pub fn cli() -> Requester {
        Requester("cli".to_owned())
    }

    /// A chat user, e.g. `telegram:12345`.
    pub fn chat(user: impl Into<String>) -> Requester {
        Requester(user.into())
    }

    /// As stored in `pending.json`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The trusted issuer every OAuth request goes to.
#[derive(Debug, Clone)]
pub struct Issuer(Url);

impl Issuer {
    /// Check `CODEX_PROFILER_AUTH_ISSUER` (or the default) before any request is made.
    pub fn from_override(value: Option<&str>) -> Result<Issuer, EndpointError> {
        endpoint::auth_issuer(value).map(Issuer)
    }

    /// The issuer from the process environment.
    pub fn from_env() -> Result<Issuer, EndpointError> {
        Issuer::from_override(std::env::var("CODEX_PROFILER_AUTH_ISSUER").ok().as_deref())
    }

    /// `{issuer}{path}`.
    pub fn url(&self, path: &str) -> String {
        endpoint::issuer_path(&self.0, path)
    }

    /// The issuer URL itself.
    pub fn as_url(&self) -> &Url {
        &self.0
    }
}

/// The tokens a login produced, before they become a profile.
#[derive(Debug, Clone)]
pub struct Tokens {
    /// The access token (a JWT with the OpenAI claims).
    pub access: Secret<String>,
    /// The refresh token.
    pub refresh: Secret<String>,
    /// The id token, when the server sent one (a second source for the email).
    pub id_token: Option<Secret<String>>,
    /// `expires_in` seconds, when the server sent it.
    pub expires_in_s: Option<u64>,
    /// The account id known from elsewhere (the Codex CLI's `tokens.account_id`).
    pub account_id_hint: Option<String>,
}

/// Milliseconds since the epoch, now.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
