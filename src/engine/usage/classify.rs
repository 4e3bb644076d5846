//! Why a profile's usage check did not succeed, in the exact words of SPEC section 5
//! (`remote_error`), decided from local health before any request, or from the reply after.

use serde::Serialize;

use crate::engine::health::TokenStatus;

/// The `remote_error` classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RemoteError {
    /// 401: the token is valid locally but the usage endpoint does not take it.
    AuthNotAcceptedByUsageEndpoint,
    /// 403.
    ForbiddenByUsageEndpoint,
    /// 429.
    RateLimited,
    /// Any other 4xx (and unexpected 1xx/3xx).
    HttpError,
    /// 5xx, after the retries.
    ServerError,
    /// No complete reply within the timeout, after the retries.
    Timeout,
    /// No connection (refused, reset, DNS, TLS), after the retries.
    ConnectionError,
    /// A 2xx reply that is not a JSON object, or too large.
    MalformedResponse,
    /// No access token stored: not sent.
    MissingAccessToken,
    /// The token has expired: not sent (the gateway refreshes it).
    TokenExpiredLocally,
    /// A refresh fence is in place: not sent.
    RefreshInProgress,
    /// The refresh failed and the token is gone: not sent.
    RefreshFailed,
    /// This machine ran out of file descriptors (`EMFILE`/`ENFILE`) opening the connection:
    /// a local limit, not the network.
    TooManyOpenFiles,
}

impl RemoteError {
    /// The snake_case word used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            RemoteError::AuthNotAcceptedByUsageEndpoint => "auth_not_accepted_by_usage_endpoint",
            RemoteError::ForbiddenByUsageEndpoint => "forbidden_by_usage_endpoint",
            RemoteError::RateLimited => "rate_limited",
            RemoteError::HttpError => "http_error",
            RemoteError::ServerError => "server_error",
            RemoteError::Timeout => "timeout",
            RemoteError::ConnectionError => "connection_error",
            RemoteError::MalformedResponse => "malformed_response",
            RemoteError::MissingAccessToken => "missing_access_token",
            RemoteError::TokenExpiredLocally => "token_expired_locally",
            RemoteError::RefreshInProgress => "refresh_in_progress",
            RemoteError::RefreshFailed => "refresh_failed",
            RemoteError::TooManyOpenFiles => "too_many_open_files",
        }
    }

    /// A short reason for one-line output (`rate limited`), without the status code.
    pub fn reason(self) -> &'static str {
        match self {
            RemoteError::AuthNotAcceptedByUsageEndpoint => "token not accepted by usage endpoint",
            RemoteError::ForbiddenByUsageEndpoint => "forbidden by usage endpoint",
            RemoteError::RateLimited => "rate limited",
            RemoteError::HttpError => "HTTP error",
            RemoteError::ServerError => "server error",
            RemoteError::Timeout => "timed out",
            RemoteError::ConnectionError => "connection failed",
            RemoteError::MalformedResponse => "unreadable reply",
            RemoteError::MissingAccessToken => "no access token stored",
            RemoteError::TokenExpiredLocally => {
                "token expired (not sent; the gateway refreshes it)"
            }
            RemoteError::RefreshInProgress => "refresh in progress (not sent)",
            RemoteError::RefreshFailed => "refresh failed: log in again",
            RemoteError::TooManyOpenFiles => "local error: out of open files (lower --concurrency)",
        }
    }

    /// What the user can do about it, where there is something useful to say.
    pub fn hint(self) -> Option<&'static str> {
        match self {
            RemoteError::AuthNotAcceptedByUsageEndpoint => Some(
                "the usage endpoint did not accept this token; its local health above is as \
                 stored, and the gateway may still be able to use it: if model calls fail too, \
                 log in again with `codex-profiler auth start --profile NAME`",
            ),
            RemoteError::ForbiddenByUsageEndpoint => Some(
                "the usage endpoint refused this account or workspace; check that the plan \
                 includes Codex",
            ),
            RemoteError::RateLimited => {
                Some("the usage endpoint is rate limiting: try again later")
            }
            RemoteError::TokenExpiredLocally => Some(
                "the gateway refreshes the token on its next use; check again afterwards, or \
                 log in again if the refresh fails",
            ),
            RemoteError::RefreshFailed => Some(
                "the refresh token is gone: log in again with \
                 `codex-profiler auth start --profile NAME`",
            ),
            RemoteError::TooManyOpenFiles => Some(
                "a local error, not the network: the process hit its open-file limit; lower \
                 `--concurrency` (or CODEX_PROFILER_USAGE_CONCURRENCY), or raise the limit \
                 with `ulimit -n`",
            ),
            _ => None,
        }
    }

    /// Whether another attempt may help: timeouts, connection errors and 5xx only.
    pub fn retryable(self) -> bool {
        matches!(
            self,
            RemoteError::Timeout | RemoteError::ConnectionError | RemoteError::ServerError
        )
    }
}

/// Whether a profile may be sent at all, from its local token status. `None` means send it.
pub fn preflight(status: TokenStatus) -> Option<RemoteError> {
    match status {
        TokenStatus::Ok | TokenStatus::Expiring => None,
        TokenStatus::Expired => Some(RemoteError::TokenExpiredLocally),
        TokenStatus::Refreshing => Some(RemoteError::RefreshInProgress),
        TokenStatus::RefreshFailed => Some(RemoteError::RefreshFailed),
        TokenStatus::MissingToken => Some(RemoteError::MissingAccessToken),
    }
}

/// The class of a non-2xx HTTP status.
pub fn from_status(status: u16) -> RemoteError {
    match status {
        401 => RemoteError::AuthNotAcceptedByUsageEndpoint,
        403 => RemoteError::ForbiddenByUsageEndpoint,
        429 => RemoteError::RateLimited,
        500..=599 => RemoteError::ServerError,
        _ => RemoteError::HttpError,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_spec_words() {
        let words: Vec<&str> = [401, 403, 429, 404, 400, 302, 500, 503]
            .into_iter()
            .map(|s| from_status(s).as_str())
            .collect();
        assert_eq!(
            words,
            [
                "auth_not_accepted_by_usage_endpoint",
                "forbidden_by_usage_endpoint",
                "rate_limited",
                "http_error",
                "http_error",
                "http_error",
                "server_error",
                "server_error"
            ]
        );
    }

    #[test]
    fn serde_matches_as_str() {
        for e in [
            RemoteError::AuthNotAcceptedByUsageEndpoint,
            RemoteError::MalformedResponse,
            RemoteError::TokenExpiredLocally,
            RemoteError::RefreshInProgress,
            RemoteError::TooManyOpenFiles,
        ] {
            assert_eq!(
                serde_json::to_value(e).unwrap(),
                serde_json::json!(e.as_str())
            );
        }
    }

    #[test]
    fn only_transient_failures_retry() {
        assert!(from_status(502).retryable());
        assert!(RemoteError::Timeout.retryable());
        assert!(RemoteError::ConnectionError.retryable());
        assert!(!from_status(429).retryable());
        assert!(!from_status(401).retryable());
        assert!(!RemoteError::MalformedResponse.retryable());
        assert!(!RemoteError::TooManyOpenFiles.retryable());
    }

    #[test]
    fn local_state_decides_whether_to_send() {
        assert_eq!(preflight(TokenStatus::Ok), None);
        assert_eq!(preflight(TokenStatus::Expiring), None);
        assert_eq!(
            preflight(TokenStatus::Expired),
            Some(RemoteError::TokenExpiredLocally)
        );
        assert_eq!(
            preflight(TokenStatus::Refreshing),
            Some(RemoteError::RefreshInProgress)
        );
        assert_eq!(
            preflight(TokenStatus::RefreshFailed),
            Some(RemoteError::RefreshFailed)
        );
        assert_eq!(
            preflight(TokenStatus::MissingToken),
            Some(RemoteError::MissingAccessToken)
        );
        assert!(RemoteError::AuthNotAcceptedByUsageEndpoint.hint().is_some());
    }
}
