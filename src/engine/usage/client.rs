//! The HTTP side of a usage check: one shared rustls client, the request headers SPEC section 5
//! names, a timeout over the whole attempt (connect, headers and body), a cap on the body
//! size read as a stream, and retries with exponential backoff for transient failures only.
//!
//! The access token leaves its [`Secret`] only to become a header value marked sensitive; no
//! log line, error or result carries it.

use std::time::{Duration, Instant};

use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderValue};
use url::Url;

use super::classify::{RemoteError, from_status};
use crate::secret::Secret;

/// `User-Agent` of every request.
pub const USER_AGENT: &str = crate::engine::http::USER_AGENT;

/// The header carrying the ChatGPT workspace id.
const ACCOUNT_HEADER: &str = "ChatGPT-Account-Id";

/// The longest pause between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// The shared HTTP client could not be built (no TLS roots, for instance).
#[derive(Debug, thiserror::Error)]
#[error("the HTTP client for the usage check could not be set up")]
pub struct ClientError;

impl crate::engine::Failure for ClientError {
    fn kind(&self) -> crate::engine::FailureKind {
        crate::engine::FailureKind::Runtime
    }
    fn code(&self) -> &'static str {
        "http_client"
    }
}

/// Build the one client every check against `url` shares (connection pooling across
/// profiles); see [`crate::engine::http::builder`] for what it never does.
pub fn build_http(url: &Url) -> Result<reqwest::Client, ClientError> {
    crate::engine::http::builder(url)
        .build()
        .map_err(|_| ClientError)
}

/// How attempts are made.
#[derive(Debug, Clone)]
pub struct AttemptPolicy {
    /// Covers one whole attempt, body included.
    pub timeout: Duration,
    /// Extra attempts after a transient failure.
    pub retries: u32,
    /// Pause before the first retry; doubled for each further one.
    pub backoff: Duration,
    /// Largest body read; a bigger one is `malformed_response`.
    pub max_body_bytes: usize,
}

/// The outcome of all attempts for one profile.
#[derive(Debug)]
pub struct Fetched {
    /// The 2xx body, or why there is none.
    pub result: Result<Vec<u8>, RemoteError>,
    /// The last HTTP status seen, if any reply arrived.
    pub status: Option<u16>,
    /// Milliseconds each attempt took.
    pub attempt_ms: Vec<u64>,
}

/// One failed attempt.
struct AttemptFail {
    error: RemoteError,
    status: Option<u16>,
}

/// The request headers: bearer token (sensitive), `Accept`, the account id when known.
/// `None` when the stored token cannot be a header value at all.
fn headers(token: &Secret<String>, account_id: Option<&str>) -> Option<HeaderMap> {
    let mut h = HeaderMap::new();
    let mut auth = HeaderValue::from_str(&format!("Bearer {}", token.expose_secret())).ok()?;
    auth.set_sensitive(true);
    h.insert(AUTHORIZATION, auth);
    h.insert(ACCEPT, HeaderValue::from_static("application/json"));
    if let Some(v) = account_id.and_then(|a| HeaderValue::from_str(a).ok()) {
        h.insert(ACCOUNT_HEADER, v);
    }
    Some(h)
}

fn transport_error(e: &reqwest::Error) -> RemoteError {
    if e.is_timeout() {
        RemoteError::Timeout
    } else {
        // Refused, reset, TLS, or the body broke off midway: all worth another try.
        RemoteError::ConnectionError
    }
}

/// Read a 2xx body as a stream, stopping as soon as it exceeds the cap (never buffered whole).
async fn read_capped(mut resp: reqwest::Response, cap: usize) -> Result<Vec<u8>, AttemptFail> {
    let status = Some(resp.status().as_u16());
    let too_big = AttemptFail {
        error: RemoteError::MalformedResponse,
        status,
    };
    if resp.content_length().is_some_and(|n| n > cap as u64) {
        return Err(too_big);
    }
    let mut body = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > cap {
                    return Err(too_big);
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) => {
                return Err(AttemptFail {
                    error: transport_error(&e),
                    status,
                });
            }
        }
    }
}

async fn attempt(
    http: &reqwest::Client,
    url: &Url,
    headers: &HeaderMap,
    policy: &AttemptPolicy,
) -> Result<(u16, Vec<u8>), AttemptFail> {
    let work = async {
        let resp = http
            .get(url.clone())
            .headers(headers.clone())
            .send()
            .await
            .map_err(|e| AttemptFail {
                error: transport_error(&e),
                status: None,
            })?;
        let status = resp.status().as_u16();
        if !resp.status().is_success() {
            return Err(AttemptFail {
                error: from_status(status),
                status: Some(status),
            });
        }
        read_capped(resp, policy.max_body_bytes)
            .await
            .map(|b| (status, b))
    };
    match tokio::time::timeout(policy.timeout, work).await {
        Ok(r) => r,
        Err(_) => Err(AttemptFail {
            error: RemoteError::Timeout,
            status: None,
        }),
    }
}

/// The pause before retry number `n` (1-based): `backoff * 2^(n-1)`, at most 5 s.
pub fn backoff_delay(base: Duration, n: u32) -> Duration {
    base.saturating_mul(1u32 << (n.saturating_sub(1)).min(16))
        .min(MAX_BACKOFF)
}

/// GET the usage URL for one token, retrying transient failures.
pub async fn fetch(
    http: &reqwest::Client,
    url: &Url,
    token: &Secret<String>,
    account_id: Option<&str>,
    policy: &AttemptPolicy,
    label: &str,
) -> Fetched {
    let Some(headers) = headers(token, account_id) else {
        return Fetched {
            result: Err(RemoteError::MissingAccessToken),
            status: None,
            attempt_ms: Vec::new(),
        };
    };
    let mut attempt_ms = Vec::new();
    let mut n = 0u32;
    loop {
        let started = Instant::now();
        let outcome = attempt(http, url, &headers, policy).await;
        let ms = started.elapsed().as_millis() as u64;
        attempt_ms.push(ms);
        match outcome {
            Ok((status, body)) => {
                tracing::debug!(profile = label, attempt = n + 1, status, ms, "usage reply");
                return Fetched {
                    result: Ok(body),
                    status: Some(status),
                    attempt_ms,
                };
            }
            Err(fail) => {
                tracing::debug!(
                    profile = label,
                    attempt = n + 1,
                    status = fail.status,
                    error = fail.error.as_str(),
                    ms,
                    "usage attempt failed"
                );
                if fail.error.retryable() && n < policy.retries {
                    n += 1;
                    tokio::time::sleep(backoff_delay(policy.backoff, n)).await;
                    continue;
                }
                return Fetched {
                    result: Err(fail.error),
                    status: fail.status,
                    attempt_ms,
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let b = Duration::from_millis(200);
        assert_eq!(backoff_delay(b, 1), Duration::from_millis(200));
        assert_eq!(backoff_delay(b, 2), Duration::from_millis(400));
        assert_eq!(backoff_delay(b, 3), Duration::from_millis(800));
        assert_eq!(backoff_delay(b, 40), MAX_BACKOFF);
    }

    #[test]
    fn headers_hide_the_token() {
        let token = Secret::new("tok-abcdef-123".to_owned());
        let h = headers(&token, Some("acc-1")).unwrap();
        assert!(h[AUTHORIZATION].is_sensitive());
        assert!(!format!("{h:?}").contains("tok-abcdef-123"));
        assert_eq!(h[ACCOUNT_HEADER], "acc-1");
        assert!(headers(&Secret::new("bad\ntoken".to_owned()), None).is_none());
        assert!(!headers(&token, None).unwrap().contains_key(ACCOUNT_HEADER));
    }
}
