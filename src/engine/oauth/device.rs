//! The device-code login: ask for a user code, let the user type it at `{issuer}/codex/device`,
//! poll until the issuer hands out an authorization code and its verifier, then exchange them
//! like a PKCE callback (with `redirect_uri={issuer}/deviceauth/callback`).
//!
//! [`device_login`] is a future: drop it to cancel (Ctrl-C in the CLI, a chat adapter giving
//! up). Progress goes to a callback so a CLI can print a countdown and a chat adapter can edit
//! its message.

use std::time::Duration;

use serde_json::Value;

use super::error::safe_code;
use super::exchange::{exchange_code, transport_error};
use super::{CLIENT_ID, Issuer, LOGIN_TTL_MS, OAuthError, ORIGINATOR, Tokens, now_ms};
use crate::secret::Secret;

/// Poll interval when the issuer names none.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);
/// Never poll faster than this.
const MIN_INTERVAL: Duration = Duration::from_secs(1);

/// What the device flow reports while it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceEvent {
    /// Show the user this code and where to type it.
    Code {
        /// The code to type (shown to the user; not a credential on its own).
        user_code: String,
        /// Where to type it: `{issuer}/codex/device`.
        verification_url: String,
        /// When the flow gives up, ms since the epoch.
        expires_at_ms: i64,
    },
    /// Still waiting for the user; this many seconds are left.
    Waiting {
        /// Seconds until the flow gives up.
        remaining_s: u64,
    },
    /// The user approved; the code is being exchanged for tokens.
    Exchanging,
}

/// How long to wait for the user; SPEC caps it at 15 minutes.
#[derive(Debug, Clone, Copy)]
pub struct DeviceOptions {
    /// Give up after this long.
    pub max_wait: Duration,
}

impl Default for DeviceOptions {
    fn default() -> Self {
        DeviceOptions {
            max_wait: Duration::from_millis(LOGIN_TTL_MS as u64),
        }
    }
}

/// Server errors (5xx) in a row a device poll rides out, as it does a dropped or slow poll (a
/// proxy's 502 while the user approves); one more ends the login with the server's answer.
pub const MAX_POLL_SERVER_ERRORS: u32 = 5;

/// Run the whole device flow and return the tokens. Cancel by dropping the future.
pub async fn device_login(
    http: &reqwest::Client,
    issuer: &Issuer,
    opts: DeviceOptions,
    on_event: &mut (dyn FnMut(DeviceEvent) + Send),
) -> Result<Tokens, OAuthError> {
    let started = tokio::time::Instant::now();
    let deadline = started + opts.max_wait;
    let (status, body) = post_json(
        http,
        &issuer.url("/api/accounts/deviceauth/usercode"),
        serde_json::json!({ "client_id": CLIENT_ID }),
    )
    .await?;
    if status == 404 {
        return Err(OAuthError::DeviceUnavailable);
    }
    if !(200..300).contains(&status) {
        return Err(OAuthError::DeviceFailed(refusal(status, body.as_ref())));
    }
    let body = body.ok_or(OAuthError::NotJson)?;
    let text = |k: &str| {
        body.get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let (Some(device_auth_id), Some(user_code)) = (
        text("device_auth_id"),
        text("user_code").or_else(|| text("usercode")),
    ) else {
        return Err(OAuthError::DeviceFailed(
            "no device code in the reply".into(),
        ));
    };
    let device_auth_id = Secret::new(device_auth_id);
    let interval = interval_of(body.get("interval"));
    on_event(DeviceEvent::Code {
        user_code: user_code.clone(),
        verification_url: issuer.url("/codex/device"),
        expires_at_ms: now_ms() + opts.max_wait.as_millis() as i64,
    });

    let poll_url = issuer.url("/api/accounts/deviceauth/token");
    let mut server_errors = 0;
    let (code, verifier) = loop {
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return Err(OAuthError::DeviceExpired);
        }
        on_event(DeviceEvent::Waiting {
            remaining_s: (deadline - now).as_secs(),
        });
        tokio::time::sleep(interval.min(deadline - now)).await;
        let req = serde_json::json!({
            "device_auth_id": device_auth_id.expose_secret(),
            "user_code": user_code,
        });
        let (status, body) = match post_json(http, &poll_url, req).await {
            Ok(r) => r,
            // A slow or dropped poll is not fatal: the next one may work.
            Err(OAuthError::Timeout | OAuthError::Network(_)) => continue,
            Err(e) => return Err(e),
        };
        match status {
            200..=299 => {
                let body = body.ok_or(OAuthError::NotJson)?;
                let get = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_owned);
                match (get("authorization_code"), get("code_verifier")) {
                    (Some(c), Some(v)) if !c.is_empty() && !v.is_empty() => {
                        break (Secret::new(c), Secret::new(v));
                    }
                    _ => return Err(OAuthError::MissingTokens),
                }
            }
            // Not yet approved.
            403 | 404 => server_errors = 0,
            500..=599 if server_errors < MAX_POLL_SERVER_ERRORS => server_errors += 1,
            _ => return Err(OAuthError::DeviceFailed(refusal(status, body.as_ref()))),
        }
    };
    on_event(DeviceEvent::Exchanging);
    let redirect = issuer.url("/deviceauth/callback");
    exchange_code(http, issuer, &code, &verifier, &redirect).await
}

/// POST a JSON body; return the status and the reply parsed as JSON (None when it is not).
async fn post_json(
    http: &reqwest::Client,
    url: &str,
    body: Value,
) -> Result<(u16, Option<Value>), OAuthError> {
    let resp = http
        .post(url)
        .header("originator", ORIGINATOR)
        .json(&body)
        .send()
        .await
        .map_err(|e| transport_error(&e))?;
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.map_err(|e| transport_error(&e))?;
    Ok((status, serde_json::from_slice(&bytes).ok()))
}

/// The server's error word, else `HTTP <status>`.
fn refusal(status: u16, body: Option<&Value>) -> String {
    match body.and_then(|b| b.get("error")).and_then(Value::as_str) {
        Some(e) => safe_code(e),
        None => format!("HTTP {status}"),
    }
}

/// `interval` in seconds, as a number or a string; at least 1 s, default 5 s.
fn interval_of(v: Option<&Value>) -> Duration {
    let secs = match v {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    match secs {
        Some(s) if s.is_finite() && s > 0.0 => {
            Duration::from_secs_f64(s.min(60.0)).max(MIN_INTERVAL)
        }
        _ => DEFAULT_INTERVAL,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_parses_numbers_and_strings() {
        assert_eq!(
            interval_of(Some(&serde_json::json!(3))),
            Duration::from_secs(3)
        );
        assert_eq!(
            interval_of(Some(&serde_json::json!("2"))),
            Duration::from_secs(2)
        );
        assert_eq!(interval_of(Some(&serde_json::json!(0.1))), MIN_INTERVAL);
        assert_eq!(interval_of(None), DEFAULT_INTERVAL);
        assert_eq!(interval_of(Some(&serde_json::json!("x"))), DEFAULT_INTERVAL);
    }

    #[test]
    fn refusal_never_echoes_bodies() {
        let b = serde_json::json!({"error": "<html>secret</html>"});
        assert_eq!(refusal(400, Some(&b)), "unknown_error");
        assert_eq!(refusal(500, None), "HTTP 500");
    }
}
