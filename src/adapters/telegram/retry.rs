//! Every Bot API call goes through [`call`]: a 429 `retry_after` is waited out and the call
//! repeated (bounded, so a misbehaving server cannot hold a handler forever), a server error
//! (5xx) is retried with backoff a bounded number of times, "message is not
//! modified" counts as success, and whatever error is left is turned into a
//! [`TransportError`] with the bot token scrubbed out (teloxide's network errors quote the
//! request URL, which holds the token).

use std::future::Future;
use std::time::Duration;

use redact::Secret;
use teloxide::{ApiError, RequestError};

use crate::chat::transport::TransportError;

/// At most this many tries per call (the first one included).
pub const MAX_ATTEMPTS: u32 = 5;

/// No single wait is longer than this, whatever the server asks for; a longer ask fails the
/// call instead of parking a handler for minutes.
pub const MAX_WAIT: Duration = Duration::from_secs(60);

/// At most this many tries of a call that met a server error (5xx). teloxide itself already
/// waits 10 s after every 5xx reply before it hands it back, so few tries cover a burst.
pub const MAX_SERVER_ERROR_ATTEMPTS: u32 = 3;

/// The wait before try `attempt + 1` after a server error: 1 s, 2 s, ...
fn server_error_backoff(attempt: u32) -> Duration {
    Duration::from_secs(1u64 << (attempt.saturating_sub(1)).min(4))
}

/// What to do after a failed try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Wait this long, then try again.
    RetryAfter(Duration),
    /// The call had the effect we wanted after all ("message is not modified").
    Done,
    /// Give up with this error.
    Fail,
}

/// Decide what a failed try (number `attempt`, from 1) means. Pure, so it is unit-tested.
pub fn decide(err: &RequestError, attempt: u32) -> Decision {
    if is_not_modified(err) {
        return Decision::Done;
    }
    match err {
        RequestError::RetryAfter(s) if attempt < MAX_ATTEMPTS && s.duration() <= MAX_WAIT => {
            // Telegram may say 0; wait a little anyway so a loop cannot spin.
            Decision::RetryAfter(s.duration().max(Duration::from_millis(50)))
        }
        e if is_server_error(e) && attempt < MAX_SERVER_ERROR_ATTEMPTS => {
            Decision::RetryAfter(server_error_backoff(attempt))
        }
        _ => Decision::Fail,
    }
}

/// A reply that says the server, not the request, failed. teloxide drops the HTTP status, so
/// it is told from what is left: a body that is not the Bot API's JSON at all (a proxy's
/// 502/503 page, an empty body), or the Bot API's own 5xx descriptions.
pub fn is_server_error(err: &RequestError) -> bool {
    const FIVE_XX: &[&str] = &[
        "internal server error",
        "bad gateway",
        "service unavailable",
        "gateway timeout",
        "server error",
    ];
    match err {
        // A JSON reply teloxide could not use (`result: null`) is the server's answer, not a
        // server failure: only a body that is no JSON at all counts.
        RequestError::InvalidJson { raw, .. } => {
            serde_json::from_str::<serde_json::Value>(raw).is_err()
        }
        RequestError::Api(ApiError::Unknown(text)) => {
            let t = text.to_ascii_lowercase();
            FIVE_XX.iter().any(|p| t.contains(p))
        }
        _ => false,
    }
}

/// An edit that changes nothing: the message already shows what we wanted.
pub fn is_not_modified(err: &RequestError) -> bool {
    match err {
        RequestError::Api(ApiError::MessageNotModified) => true,
        // Bot API servers word it slightly differently across versions.
        RequestError::Api(ApiError::Unknown(text)) => text.contains("message is not modified"),
        _ => false,
    }
}

/// Run `op` (one Bot API request per invocation) under the rules above. `on_done` is the value
/// a "not modified" reply stands for. `what` names the method for the log.
pub async fn call<T, F, Fut>(
    what: &'static str,
    token: &Secret<String>,
    on_done: impl FnOnce() -> T,
    mut op: F,
) -> Result<T, TransportError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, RequestError>>,
{
    let mut attempt = 1;
    loop {
        let err = match op().await {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        match decide(&err, attempt) {
            Decision::Done => return Ok(on_done()),
            Decision::RetryAfter(wait) => {
                let why = if is_server_error(&err) {
                    "Telegram answered with a server error, retrying"
                } else {
                    "rate limited by Telegram, waiting"
                };
                tracing::info!(
                    method = what,
                    attempt,
                    wait_ms = wait.as_millis() as u64,
                    "{why}"
                );
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
            Decision::Fail => {
                let error = scrub_error(&err, token);
                tracing::warn!(method = what, %error, "Telegram call failed");
                return Err(error);
            }
        }
    }
}

/// The error's text without the bot token (plain or percent-encoded) or anything that looks
/// like a credential.
pub fn scrub_error(err: &RequestError, token: &Secret<String>) -> TransportError {
    TransportError(scrub_token(&err.to_string(), token))
}

/// Remove the token from `text`.
pub fn scrub_token(text: &str, token: &Secret<String>) -> String {
    let raw = token.expose_secret();
    let encoded = raw.replace(':', "%3A");
    crate::secret::scrub(text, &[raw.as_str(), encoded.as_str()])
}

#[cfg(test)]
mod tests {
    use super::*;
    use teloxide::types::Seconds;

    #[test]
    fn retry_after_is_honoured_then_bounded() {
        let e = RequestError::RetryAfter(Seconds::from_seconds(2));
        assert_eq!(decide(&e, 1), Decision::RetryAfter(Duration::from_secs(2)));
        assert_eq!(decide(&e, MAX_ATTEMPTS), Decision::Fail);
        let long = RequestError::RetryAfter(Seconds::from_seconds(3600));
        assert_eq!(decide(&long, 1), Decision::Fail);
    }

    #[test]
    fn server_errors_are_retried_with_backoff_then_given_up() {
        let e = RequestError::Api(ApiError::Unknown("Internal Server Error".into()));
        assert_eq!(decide(&e, 1), Decision::RetryAfter(Duration::from_secs(1)));
        assert_eq!(decide(&e, 2), Decision::RetryAfter(Duration::from_secs(2)));
        assert_eq!(decide(&e, MAX_SERVER_ERROR_ATTEMPTS), Decision::Fail);
        let html = serde_json::from_str::<serde_json::Value>("<html>502</html>").unwrap_err();
        let proxy = RequestError::InvalidJson {
            source: std::sync::Arc::new(html),
            raw: "<html>502 Bad Gateway</html>".into(),
        };
        assert!(matches!(decide(&proxy, 1), Decision::RetryAfter(_)));
        let null = serde_json::from_str::<u32>("null").unwrap_err();
        let null = RequestError::InvalidJson {
            source: std::sync::Arc::new(null),
            raw: r#"{"ok":true,"result":null}"#.into(),
        };
        assert_eq!(decide(&null, 1), Decision::Fail);
        // A request the server refused is not retried.
        let bad = RequestError::Api(ApiError::Unknown("Bad Request: chat not found".into()));
        assert_eq!(decide(&bad, 1), Decision::Fail);
    }

    #[test]
    fn not_modified_is_success() {
        assert_eq!(
            decide(&RequestError::Api(ApiError::MessageNotModified), 1),
            Decision::Done
        );
        let short = RequestError::Api(ApiError::Unknown(
            "Bad Request: message is not modified".into(),
        ));
        assert_eq!(decide(&short, 1), Decision::Done);
        assert_eq!(
            decide(&RequestError::Api(ApiError::ChatNotFound), 1),
            Decision::Fail
        );
    }

    #[test]
    fn token_never_survives_in_error_text() {
        let token = Secret::new("123456:AAbbCCddEEff".to_owned());
        let text = "error sending request for url (http://127.0.0.1:9/bot123456:AAbbCCddEEff/sendMessage) and bot123456%3AAAbbCCddEEff";
        let out = scrub_token(text, &token);
        assert!(!out.contains("AAbbCCddEEff"), "{out}");
    }

    #[tokio::test]
    async fn call_retries_then_succeeds() {
        let token = Secret::new("123456:AAbbCCddEEff".to_owned());
        let mut tries = 0;
        let out = call(
            "sendMessage",
            &token,
            || 0,
            || {
                tries += 1;
                let n = tries;
                async move {
                    if n < 3 {
                        Err(RequestError::RetryAfter(Seconds::from_seconds(0)))
                    } else {
                        Ok(n)
                    }
                }
            },
        )
        .await;
        assert_eq!(out, Ok(3));
    }
}
