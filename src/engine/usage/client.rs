//! The HTTP side of a usage check: one shared rustls client, the request headers SPEC section 5
//! names, a timeout over the whole attempt (connect, headers and body), a cap on the body
//! size read as a stream, and retries with exponential backoff for transient failures only.
//!
//! Every attempt first takes a permit of the checker's gate (a semaphore sized by
//! `--concurrency`), so no more requests are in flight than that, however many profiles a run
//! holds; the permit is released during backoff and `Retry-After` pauses. A 429 whose
//! `Retry-After` fits within the timeout is tried once more after it; a longer one is reported
//! with the time. Running out of file descriptors is told apart from a connection error.
//!
//! The access token leaves its [`Secret`] only to become a header value marked sensitive; no
//! log line, error or result carries it.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderValue, RETRY_AFTER};
use tokio::sync::Semaphore;
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
    /// One permit per request in flight (the concurrency cap), shared by every profile.
    pub gate: Arc<Semaphore>,
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
    /// When the result is a 429 that carried a `Retry-After`: that pause (too long to wait
    /// for, or a second 429 after the one wait).
    pub retry_after: Option<Duration>,
}

/// One failed attempt.
struct AttemptFail {
    error: RemoteError,
    status: Option<u16>,
    retry_after: Option<Duration>,
}

impl AttemptFail {
    fn new(error: RemoteError, status: Option<u16>) -> AttemptFail {
        AttemptFail {
            error,
            status,
            retry_after: None,
        }
    }
}

/// A `Retry-After` value: delay seconds, or an HTTP date (a date already past is zero).
/// Anything else is `None`.
pub fn parse_retry_after(raw: &str, now: SystemTime) -> Option<Duration> {
    let raw = raw.trim();
    if let Ok(secs) = raw.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(raw).ok()?;
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(at.timestamp()).ok()?);
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

fn retry_after(h: &HeaderMap) -> Option<Duration> {
    let raw = h.get(RETRY_AFTER)?.to_str().ok()?;
    parse_retry_after(raw, SystemTime::now())
}

/// Whether an error chain ends in the process or the system running out of file descriptors.
fn out_of_files(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if matches!(io.raw_os_error(), Some(libc::EMFILE | libc::ENFILE)) {
                return true;
            }
            // A wrapping `io::Error` hides its payload from `source()`.
            if let Some(inner) = io.get_ref() {
                if out_of_files(inner) {
                    return true;
                }
            }
        }
        cur = err.source();
    }
    false
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
    if out_of_files(e) {
        RemoteError::TooManyOpenFiles
    } else if e.is_timeout() {
        RemoteError::Timeout
    } else {
        // Refused, reset, TLS, or the body broke off midway: all worth another try.
        RemoteError::ConnectionError
    }
}

/// Read a 2xx body as a stream, stopping as soon as it exceeds the cap (never buffered whole).
async fn read_capped(mut resp: reqwest::Response, cap: usize) -> Result<Vec<u8>, AttemptFail> {
    let status = Some(resp.status().as_u16());
    let too_big = AttemptFail::new(RemoteError::MalformedResponse, status);
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
            Err(e) => return Err(AttemptFail::new(transport_error(&e), status)),
        }
    }
}

async fn attempt(
    http: &reqwest::Client,
    url: &Url,
    headers: &HeaderMap,
    policy: &AttemptPolicy,
) -> Result<(u16, Vec<u8>), AttemptFail> {
    // Held until the body is read; never while pausing between attempts. The gate is never
    // closed, so an error here cannot happen; going on without a permit would be harmless.
    let _permit = policy.gate.acquire().await.ok();
    let work = async {
        let resp = http
            .get(url.clone())
            .headers(headers.clone())
            .send()
            .await
            .map_err(|e| AttemptFail::new(transport_error(&e), None))?;
        let status = resp.status().as_u16();
        if !resp.status().is_success() {
            let mut fail = AttemptFail::new(from_status(status), Some(status));
            if status == 429 {
                fail.retry_after = retry_after(resp.headers());
            }
            return Err(fail);
        }
        read_capped(resp, policy.max_body_bytes)
            .await
            .map(|b| (status, b))
    };
    match tokio::time::timeout(policy.timeout, work).await {
        Ok(r) => r,
        Err(_) => Err(AttemptFail::new(RemoteError::Timeout, None)),
    }
}

/// The pause before retry number `n` (1-based): `backoff * 2^(n-1)`, at most 5 s.
pub fn backoff_delay(base: Duration, n: u32) -> Duration {
    base.saturating_mul(1u32 << (n.saturating_sub(1)).min(16))
        .min(MAX_BACKOFF)
}

/// GET the usage URL for one token, retrying transient failures (up to `policy.retries`
/// times) and one 429 whose `Retry-After` is within the timeout.
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
            retry_after: None,
        };
    };
    let mut attempt_ms = Vec::new();
    let mut n = 0u32;
    let mut waited_429 = false;
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
                    retry_after: None,
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
                if let Some(wait) = fail.retry_after.filter(|w| *w <= policy.timeout) {
                    if !waited_429 {
                        waited_429 = true;
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                }
                return Fetched {
                    result: Err(fail.error),
                    status: fail.status,
                    attempt_ms,
                    retry_after: fail.retry_after,
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
    fn retry_after_reads_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        assert_eq!(parse_retry_after(" 7 ", now), Some(Duration::from_secs(7)));
        // 2027-01-15T08:02:00Z, two minutes after `now`.
        assert_eq!(
            parse_retry_after("Fri, 15 Jan 2027 08:02:00 GMT", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Thu, 01 Jan 2026 00:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
    }

    #[test]
    fn running_out_of_files_is_told_apart() {
        let emfile = std::io::Error::from_raw_os_error(libc::EMFILE);
        assert!(out_of_files(&emfile));
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(!out_of_files(&refused));
        let wrapped = std::io::Error::other(std::io::Error::from_raw_os_error(libc::ENFILE));
        assert!(out_of_files(&wrapped));
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
