//! Every way a login can fail, as one sentence a user can act on. No variant holds a code,
//! verifier, state, token, callback URL or a server's response body: server-provided error
//! words are reduced to a short `[A-Za-z0-9_.-]` code first ([`safe_code`]).

use std::path::PathBuf;

use crate::engine::endpoint::EndpointError;
use crate::engine::{Failure, FailureKind};

/// Why a login (start, finish, device, import) failed.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// The issuer override is not trusted; nothing was sent.
    #[error(transparent)]
    Endpoint(#[from] EndpointError),
    /// The profile name cannot be part of a profile id.
    #[error("`{0}` cannot be a profile name: use letters, digits, `@`, `.`, `-` or `_`, no spaces")]
    BadProfileName(String),
    /// What was pasted is not a callback URL, its query, or `code#state`.
    #[error(
        "that is not a callback URL: paste the whole address the browser was sent to (http://localhost:1455/auth/callback?code=…&state=…)"
    )]
    BadCallback,
    /// The callback names the code or the state more than once (or in both the query and the
    /// fragment): which one the browser meant cannot be known, so none is used.
    #[error(
        "the callback names its code or state more than once: paste the address exactly as the browser shows it"
    )]
    RepeatedParameter,
    /// The callback carries a code but no state.
    #[error("the callback has no state: paste the whole address the browser was sent to")]
    MissingState,
    /// The callback carries `error=...` (the user declined, or the server refused).
    #[error("the login was not authorized ({0}); start it again with `auth start`")]
    Denied(String),
    /// No login was started for this profile (or by this requester).
    #[error("no login is pending for `{0}`; start one with `auth start --profile {0}`")]
    NoPendingLogin(String),
    /// The state does not belong to any pending login of this profile and requester.
    #[error(
        "the callback's state does not match the pending login for `{0}` (it may be from an older attempt or already used); start again"
    )]
    StateMismatch(String),
    /// The pending login is older than 15 minutes.
    #[error("the login for `{0}` expired (logins are valid for 15 minutes); start it again")]
    Expired(String),
    /// The token endpoint refused the code (`invalid_grant`...).
    #[error(
        "the token endpoint refused the login ({0}); the code may be used or expired: start again"
    )]
    TokenRefused(String),
    /// The token endpoint answered with a server error.
    #[error("the token endpoint failed with HTTP {0}; try again later")]
    TokenServerError(u16),
    /// The token endpoint answered with something that is not the expected JSON.
    #[error("the token endpoint did not answer with a JSON token response")]
    NotJson,
    /// The reply lacked the access or refresh token.
    #[error("the token endpoint's reply has no access or refresh token")]
    MissingTokens,
    /// The access token lacks `chatgpt_account_id`.
    #[error(
        "the access token carries no ChatGPT account id, so it is not a Codex login; nothing was saved"
    )]
    MissingAccountId,
    /// The issuer could not be reached.
    #[error("could not reach the OAuth issuer ({0})")]
    Network(&'static str),
    /// A request took longer than 30 s.
    #[error("the OAuth issuer did not answer within 30 seconds")]
    Timeout,
    /// The device-code endpoint is not available.
    #[error("device-code login is not enabled on this issuer; use `auth start` instead")]
    DeviceUnavailable,
    /// The device-code flow failed on the server side.
    #[error("the device login failed ({0})")]
    DeviceFailed(String),
    /// Nobody entered the code within 15 minutes.
    #[error("the device login expired: the code was not entered within 15 minutes")]
    DeviceExpired,
    /// The Codex CLI's `auth.json` cannot be used.
    #[error("cannot import {path}: {reason}")]
    CodexAuth {
        /// The file.
        path: PathBuf,
        /// Why, in a few words.
        reason: &'static str,
    },
    /// `pending.json` could not be read or written.
    #[error("cannot use the pending-login file {path}: {reason}")]
    PendingFile {
        /// The file.
        path: PathBuf,
        /// Why, in a few words (an I/O error kind, never content).
        reason: String,
    },
    /// The store refused or failed the write (already a user-facing failure).
    #[error("{message}")]
    Store {
        /// Its kind.
        kind: FailureKind,
        /// Its code.
        code: &'static str,
        /// Its sentence.
        message: String,
    },
}

impl OAuthError {
    /// Wrap any user-facing store failure.
    pub fn store(e: &dyn Failure) -> OAuthError {
        OAuthError::Store {
            kind: e.kind(),
            code: e.code(),
            message: e.to_string(),
        }
    }
}

impl Failure for OAuthError {
    fn kind(&self) -> FailureKind {
        use OAuthError::*;
        match self {
            Endpoint(e) => e.kind(),
            BadProfileName(_) => FailureKind::Usage,
            Network(_) | Timeout | PendingFile { .. } => FailureKind::Runtime,
            Store { kind, .. } => *kind,
            BadCallback
            | RepeatedParameter
            | MissingState
            | Denied(_)
            | NoPendingLogin(_)
            | StateMismatch(_)
            | Expired(_)
            | TokenRefused(_)
            | TokenServerError(_)
            | NotJson
            | MissingTokens
            | MissingAccountId
            | DeviceUnavailable
            | DeviceFailed(_)
            | DeviceExpired
            | CodexAuth { .. } => FailureKind::InputRefused,
        }
    }

    fn code(&self) -> &'static str {
        use OAuthError::*;
        match self {
            Endpoint(e) => e.code(),
            BadProfileName(_) => "bad_profile_name",
            BadCallback => "bad_callback_url",
            RepeatedParameter => "callback_repeated_parameter",
            MissingState => "callback_missing_state",
            Denied(_) => "authorization_denied",
            NoPendingLogin(_) => "no_pending_login",
            StateMismatch(_) => "state_mismatch",
            Expired(_) => "login_expired",
            TokenRefused(_) => "token_refused",
            TokenServerError(_) => "token_server_error",
            NotJson => "token_response_not_json",
            MissingTokens => "token_response_incomplete",
            MissingAccountId => "token_missing_account_id",
            Network(_) => "connection_error",
            Timeout => "timeout",
            DeviceUnavailable => "device_login_unavailable",
            DeviceFailed(_) => "device_login_failed",
            DeviceExpired => "device_login_expired",
            CodexAuth { .. } => "codex_auth_unusable",
            PendingFile { .. } => "pending_file_error",
            Store { code, .. } => code,
        }
    }
}

/// Reduce a server-provided error word (`invalid_grant`, `access_denied`) to something safe
/// to show: at most 40 characters of `[A-Za-z0-9_.-]`, else `unknown_error`.
pub fn safe_code(raw: &str) -> String {
    let s = raw.trim();
    if !s.is_empty()
        && s.len() <= 40
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        s.to_owned()
    } else {
        "unknown_error".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_code_keeps_only_short_words() {
        assert_eq!(safe_code("invalid_grant"), "invalid_grant");
        assert_eq!(safe_code("<html>oops</html>"), "unknown_error");
        assert_eq!(safe_code(&"a".repeat(41)), "unknown_error");
        assert_eq!(safe_code(""), "unknown_error");
    }

    #[test]
    fn refusals_exit_5_and_network_exits_1() {
        assert_eq!(OAuthError::StateMismatch("x".into()).kind().exit_code(), 5);
        assert_eq!(OAuthError::NotJson.kind().exit_code(), 5);
        assert_eq!(OAuthError::Timeout.kind().exit_code(), 1);
    }
}
