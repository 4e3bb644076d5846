//! Read the OpenAI claims out of an access or id token without checking its signature (we only
//! use them to label and match accounts; the token itself is checked by the servers).

use base64::Engine as _;
use serde_json::Value;

/// The claims codex-profiler uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Claims {
    /// `["https://api.openai.com/auth"].chatgpt_account_id`
    pub account_id: Option<String>,
    /// `["https://api.openai.com/auth"].chatgpt_plan_type`
    pub plan: Option<String>,
    /// `["https://api.openai.com/profile"].email`, else a top-level `email`
    pub email: Option<String>,
    /// `exp`, seconds since the epoch
    pub exp: Option<i64>,
}

/// Why a token's claims could not be read. Never carries the token.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JwtError {
    /// Not three dot-separated parts.
    #[error("the token is not a JWT")]
    NotAJwt,
    /// The payload is not base64url JSON.
    #[error("the token's claims are not readable JSON")]
    BadPayload,
}

/// Decode the claims of a JWT.
pub fn claims(token: &str) -> Result<Claims, JwtError> {
    let mut parts = token.split('.');
    let (Some(_), Some(payload), Some(_)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(JwtError::NotAJwt);
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| JwtError::BadPayload)?;
    let v: Value = serde_json::from_slice(&bytes).map_err(|_| JwtError::BadPayload)?;
    let auth = v.get("https://api.openai.com/auth");
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    Ok(Claims {
        account_id: text(auth.and_then(|a| a.get("chatgpt_account_id"))),
        plan: text(auth.and_then(|a| a.get("chatgpt_plan_type"))),
        email: text(
            v.get("https://api.openai.com/profile")
                .and_then(|p| p.get("email")),
        )
        .or_else(|| text(v.get("email"))),
        exp: v
            .get("exp")
            .and_then(|e| e.as_i64().or_else(|| e.as_f64().map(|f| f as i64))),
    })
}

/// Build an unsigned JWT with the given claims: for tests and fixtures.
pub fn unsigned_for_tests(payload: &Value) -> String {
    let enc = |v: &Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string().as_bytes())
    };
    format!(
        "{}.{}.FAKE_SIGNATURE",
        enc(&serde_json::json!({"alg":"RS256","typ":"JWT"})),
        enc(payload)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_openai_claims() {
        let t = unsigned_for_tests(&serde_json::json!({
            "exp": 1796170000,
            "https://api.openai.com/auth": {"chatgpt_account_id": "acc-1", "chatgpt_plan_type": "plus"},
            "https://api.openai.com/profile": {"email": "a@example.com"}
        }));
        let c = claims(&t).unwrap();
        assert_eq!(c.account_id.as_deref(), Some("acc-1"));
        assert_eq!(c.plan.as_deref(), Some("plus"));
        assert_eq!(c.email.as_deref(), Some("a@example.com"));
        assert_eq!(c.exp, Some(1796170000));
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(claims("abc"), Err(JwtError::NotAJwt));
        assert_eq!(claims("a.!!!.c"), Err(JwtError::BadPayload));
    }
}
