//! The entry points every front end calls (the CLI, the chat core): start and finish a PKCE
//! login, run a device login, import the Codex CLI's login. Each finishes in
//! [`save_login`]; none prints anything.
//!
//! The caller builds the [`Issuer`] (which checks `CODEX_PROFILER_AUTH_ISSUER`) before calling,
//! so an untrusted issuer is refused before any request or any change to `pending.json`.

use std::path::Path;

use url::Url;

use super::callback::CallbackUrl;
use super::codex_cli;
use super::device::{DeviceEvent, DeviceOptions, device_login};
use super::exchange::{exchange_code, http_client};
use super::identity::parse_name;
use super::login::{SavedLogin, save_login};
use super::pending::PendingLogins;
use super::pkce::{LoginSecrets, authorize_url};
use super::{Issuer, OAuthError, REDIRECT_URI, Requester, Tokens, now_ms};
use crate::engine::FailureKind;
use crate::engine::store::Store;
use crate::secret::Secret;

/// A started PKCE login. Its `Debug` hides the URL (it carries the state), so logging one is
/// safe.
#[derive(Clone)]
pub struct Started {
    /// The profile name the login is for.
    pub profile: String,
    /// The URL to open. It carries the state (needed by the server) and the challenge, and no
    /// other secret; show it only to the requester.
    pub authorize_url: Url,
    /// When the pending login expires, ms since the epoch.
    pub expires_at_ms: i64,
}

impl std::fmt::Debug for Started {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Started")
            .field("profile", &self.profile)
            .field("authorize_url", &"[REDACTED: carries the state]")
            .field("expires_at_ms", &self.expires_at_ms)
            .finish()
    }
}

/// Start a PKCE login for `name` on behalf of `requester`: draw a verifier and a state, keep
/// them in `pending.json` (replacing an earlier start for the same profile), and return the
/// authorize URL.
pub fn start_login(
    store: &Store,
    issuer: &Issuer,
    name: &str,
    requester: &Requester,
) -> Result<Started, OAuthError> {
    let profile = parse_name(name)?;
    let secrets = LoginSecrets::generate().map_err(|_| OAuthError::PendingFile {
        path: PendingLogins::at(store.state_dir()).path(),
        reason: "the system random source failed".into(),
    })?;
    let expires_at_ms =
        PendingLogins::at(store.state_dir()).put(&profile, requester, &secrets, now_ms())?;
    Ok(Started {
        authorize_url: authorize_url(issuer, &secrets),
        profile,
        expires_at_ms,
    })
}

/// Finish a PKCE login with what the user pasted (a redirect URL, its query, or
/// `code#state`). `name` narrows the pending login to one profile; `None` finds the
/// requester's pending login by its state (a chat user pasting a bare callback URL).
///
/// The pending entry is consumed as soon as its state matches, before the exchange: a
/// failed exchange needs a new `start` (see [`super::pending`]).
pub async fn finish_login(
    store: &Store,
    issuer: &Issuer,
    name: Option<&str>,
    requester: &Requester,
    pasted: &Secret<String>,
) -> Result<SavedLogin, OAuthError> {
    let profile = name.map(parse_name).transpose()?;
    let callback = CallbackUrl::parse(pasted.expose_secret())?;
    let (dir, who) = (store.state_dir().to_owned(), requester.clone());
    let taken = off_runtime(move || {
        PendingLogins::at(&dir).take(profile.as_deref(), &who, &callback.state, now_ms())
    })
    .await?;
    let http = http_client(issuer)?;
    let tokens =
        exchange_code(&http, issuer, &callback.code, &taken.verifier, REDIRECT_URI).await?;
    save_off_runtime(store, taken.profile, tokens).await
}

/// Run a device login for `name` and save it. Progress goes to `on_event`; drop the future
/// to cancel (nothing is written until the tokens are in hand).
pub async fn device_and_save(
    store: &Store,
    issuer: &Issuer,
    name: &str,
    opts: DeviceOptions,
    on_event: &mut (dyn FnMut(DeviceEvent) + Send),
) -> Result<SavedLogin, OAuthError> {
    let profile = parse_name(name)?;
    let http = http_client(issuer)?;
    let tokens = device_login(&http, issuer, opts, on_event).await?;
    save_off_runtime(store, profile, tokens).await
}

/// Write the login through the store on tokio's blocking pool: the store's lock and SQLite
/// busy timeout may wait seconds, which must not stall the runtime's workers (the chat serves
/// every user on them).
async fn save_off_runtime(
    store: &Store,
    profile: String,
    tokens: Tokens,
) -> Result<SavedLogin, OAuthError> {
    let store = store.clone();
    off_runtime(move || save_login(&store, &profile, &tokens, now_ms())).await
}

/// Run blocking file or store work on tokio's blocking pool.
async fn off_runtime<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, OAuthError> + Send + 'static,
) -> Result<T, OAuthError> {
    tokio::task::spawn_blocking(work).await.unwrap_or_else(|_| {
        Err(OAuthError::Store {
            kind: FailureKind::Runtime,
            code: "internal",
            message: "the login stopped unexpectedly".to_owned(),
        })
    })
}

/// Import the Codex CLI's login from `<codex_home>/auth.json` (default `~/.codex`) as `name`.
/// The file is only read.
pub fn import_codex_cli(
    store: &Store,
    name: &str,
    codex_home: Option<&Path>,
) -> Result<SavedLogin, OAuthError> {
    let profile = parse_name(name)?;
    let tokens = codex_cli::read_auth_json(&codex_cli::auth_json_path(codex_home)?)?;
    save_login(store, &profile, &tokens, now_ms())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The chat `tokio::spawn`s these futures on a multi-threaded runtime, so once they own
    /// their inputs they must be `Send + 'static` for every lifetime. A closure as `oauth2`'s
    /// HTTP client breaks exactly this ("implementation of `Send` is not general enough"),
    /// which is why `exchange` names its client type. This compiles only if spawning works.
    #[allow(dead_code)]
    fn login_futures_can_be_spawned(
        store: Store,
        issuer: Issuer,
        who: Requester,
        pasted: Secret<String>,
    ) {
        let (s, i) = (store.clone(), issuer.clone());
        drop(tokio::spawn(async move {
            finish_login(&s, &i, None, &who, &pasted).await
        }));
        drop(tokio::spawn(async move {
            let mut on_event = |_: DeviceEvent| {};
            let opts = DeviceOptions::default();
            device_and_save(&store, &issuer, "x", opts, &mut on_event).await
        }));
    }
}
