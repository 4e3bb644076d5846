//! One raw profile entry -> a [`CodexProfile`]: `type: "oauth"` with provider `openai` or
//! `openai-codex` (from the entry, else the id's prefix). `accountId`, `email` and
//! `chatgptPlanType` come from the entry, else from the access token's claims. Fence markers
//! (`openclaw-oauth-refresh-fence:v1:<32 hex>:[failed:]access|refresh:<64 hex>`, as OpenClaw
//! 2026.9.6 writes them) are recognised and never kept as tokens.

use serde_json::Value;

use crate::engine::jwt;
use crate::engine::profile::{CodexProfile, Fence, ProfileId, Provider};
use crate::secret::Secret;

fn opt_str<'a>(e: &'a Value, key: &str) -> Result<Option<&'a str>, String> {
    match e.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(format!("`{key}` is not a string")),
    }
}

fn opt_ms(e: &Value, key: &str) -> Result<Option<i64>, String> {
    match e.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_i64().or_else(|| n.as_f64().map(|f| f as i64))),
        Some(_) => Err(format!("`{key}` is not a number")),
    }
}

/// Parse one entry: `Ok(None)` for a profile that is not a Codex OAuth profile, `Err(reason)`
/// for a Codex-looking entry with fields of the wrong type (the reason names the field only).
pub fn parse_codex(id: &str, e: &Value) -> Result<Option<CodexProfile>, String> {
    let id_provider = id.split_once(':').map(|(p, _)| p);
    let Some(obj) = e.as_object() else {
        return if id_provider.and_then(Provider::parse).is_some() {
            Err("the entry is not an object".into())
        } else {
            Ok(None)
        };
    };
    let provider_text = match obj.get("provider") {
        None | Some(Value::Null) => id_provider,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => return Err("`provider` is not a string".into()),
    };
    let Some(provider) = provider_text.and_then(Provider::parse) else {
        return Ok(None);
    };
    match obj.get("type") {
        Some(Value::String(t)) if t == "oauth" => {}
        Some(Value::String(_)) | None | Some(Value::Null) => return Ok(None),
        Some(_) => return Err("`type` is not a string".into()),
    }
    let pid = ProfileId::parse(id).map_err(|_| "the id is not `<provider>:<name>`".to_owned())?;
    let access = opt_str(e, "access")?;
    let refresh = opt_str(e, "refresh")?;
    let expires_ms = opt_ms(e, "expires")?;
    let account = opt_str(e, "accountId")?;
    let email = opt_str(e, "email")?;
    let plan = opt_str(e, "chatgptPlanType")?;
    let fences = [access, refresh].map(|t| t.map_or(Fence::None, Fence::of_token));
    let fence = if fences.contains(&Fence::Failed) {
        Fence::Failed
    } else if fences.contains(&Fence::Refreshing) {
        Fence::Refreshing
    } else {
        Fence::None
    };
    let access = access.filter(|a| fence == Fence::None && !a.is_empty());
    // The claims only fill fields the entry lacks: skip decoding when none is missing.
    let claims = if account.is_some() && email.is_some() && plan.is_some() {
        jwt::Claims::default()
    } else {
        access.and_then(|a| jwt::claims(a).ok()).unwrap_or_default()
    };
    Ok(Some(CodexProfile {
        id: pid,
        provider,
        access: access.map(|a| Secret::new(a.to_owned())),
        has_refresh: refresh.is_some_and(|r| !r.is_empty() && fence == Fence::None),
        expires_ms,
        account_id: account.map(str::to_owned).or(claims.account_id),
        email: email.map(str::to_owned).or(claims.email),
        plan: plan.map(str::to_owned).or(claims.plan),
        fence,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const FENCE_ACCESS: &str = "openclaw-oauth-refresh-fence:v1:0123456789abcdef0123456789abcdef:access:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    const FAILED_REFRESH: &str = "openclaw-oauth-refresh-fence:v1:0123456789abcdef0123456789abcdef:failed:refresh:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn claims_fill_missing_fields() {
        let t = jwt::unsigned_for_tests(&json!({
            "https://api.openai.com/auth": {"chatgpt_account_id": "acc", "chatgpt_plan_type": "pro"},
            "https://api.openai.com/profile": {"email": "x@example.com"}
        }));
        let p = parse_codex(
            "openai-codex:x",
            &json!({"type": "oauth", "provider": "openai-codex", "access": t, "expires": 5}),
        )
        .unwrap()
        .unwrap();
        assert_eq!(p.provider, Provider::OpenAiCodex);
        assert_eq!(p.email.as_deref(), Some("x@example.com"));
        assert_eq!(p.account_id.as_deref(), Some("acc"));
        assert_eq!(p.plan.as_deref(), Some("pro"));
        assert!(!p.has_refresh);
    }

    #[test]
    fn non_codex_and_non_oauth_are_ignored() {
        assert!(
            parse_codex(
                "anthropic:a",
                &json!({"type": "oauth", "provider": "anthropic"})
            )
            .unwrap()
            .is_none()
        );
        assert!(
            parse_codex(
                "openai:k",
                &json!({"type": "api_key", "provider": "openai"})
            )
            .unwrap()
            .is_none()
        );
        assert!(parse_codex("anthropic:a", &json!(3)).unwrap().is_none());
    }

    #[test]
    fn wrong_types_are_reasons_without_values() {
        let e = parse_codex("openai:a", &json!({"type": "oauth", "access": 42})).unwrap_err();
        assert_eq!(e, "`access` is not a string");
        let e =
            parse_codex("openai:a", &json!({"type": "oauth", "expires": "SECRET"})).unwrap_err();
        assert!(!e.contains("SECRET"));
        assert!(parse_codex("openai:a", &json!([1])).is_err());
    }

    #[test]
    fn fences_are_not_tokens() {
        let p = parse_codex("openai:a", &json!({"type": "oauth", "access": FENCE_ACCESS, "refresh": FENCE_ACCESS.replace("access", "refresh"), "expires": 1}))
            .unwrap()
            .unwrap();
        assert_eq!(p.fence, Fence::Refreshing);
        assert!(p.access.is_none());
        let p = parse_codex(
            "openai:a",
            &json!({"type": "oauth", "access": "eyJx", "refresh": FAILED_REFRESH, "expires": 1}),
        )
        .unwrap()
        .unwrap();
        assert_eq!(p.fence, Fence::Failed);
    }
}
