//! Who a set of tokens belongs to, the profile fields they become, and which profile id they
//! are stored under (pure: no I/O, unit-tested here).
//!
//! Id rules (SPEC section 4):
//! 1. A stored Codex profile with the same `accountId` and the same email is *that account*:
//!    it is updated, whatever its id.
//! 2. Otherwise the id is `<provider>:<name>`.
//! 3. If that id already holds anything else (another workspace of the same email, another
//!    account, a non-Codex profile), the new login never overwrites it: the id becomes
//!    `<provider>:<name>-<first 8 characters of the account id>` (and so on, if taken).

use serde_json::{Map, Value, json};

use super::{OAuthError, Tokens};
use crate::engine::jwt;
use crate::engine::profile::{CodexProfile, ProfileId, Provider};

/// The identity a login proved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// ChatGPT account (workspace) id.
    pub account_id: String,
    /// Email, when a token carries it.
    pub email: Option<String>,
    /// ChatGPT plan, when a token carries it.
    pub plan: Option<String>,
    /// Access token expiry, ms since the epoch.
    pub expires_ms: i64,
}

/// Read the identity out of the tokens. The access token must carry the account id claim
/// (the Codex CLI import may supply it from `tokens.account_id` instead).
pub fn identity(tokens: &Tokens, now_ms: i64) -> Result<Identity, OAuthError> {
    let access = jwt::claims(tokens.access.expose_secret()).unwrap_or_default();
    let id = tokens
        .id_token
        .as_ref()
        .and_then(|t| jwt::claims(t.expose_secret()).ok())
        .unwrap_or_default();
    let account_id = access
        .account_id
        .clone()
        .or_else(|| tokens.account_id_hint.clone())
        .filter(|a| !a.trim().is_empty())
        .ok_or(OAuthError::MissingAccountId)?;
    let expires_ms = match (tokens.expires_in_s, access.exp) {
        // `as i64` would turn an absurd `expires_in` negative: an already-expired token.
        (Some(s), _) => {
            now_ms.saturating_add(i64::try_from(s).unwrap_or(i64::MAX).saturating_mul(1000))
        }
        (None, Some(exp)) => exp.saturating_mul(1000),
        // Unknown expiry: store it as expired so the gateway refreshes rather than trusts it.
        (None, None) => now_ms,
    };
    Ok(Identity {
        account_id,
        email: access.email.or(id.email),
        plan: access.plan.or(id.plan),
        expires_ms,
    })
}

/// The stored profile: `{type, provider, access, refresh, expires, accountId, email,
/// chatgptPlanType}` (email and plan only when known).
pub fn profile_fields(provider: Provider, tokens: &Tokens, who: &Identity) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("type".into(), json!("oauth"));
    m.insert("provider".into(), json!(provider.as_str()));
    m.insert("access".into(), json!(tokens.access.expose_secret()));
    m.insert("refresh".into(), json!(tokens.refresh.expose_secret()));
    m.insert("expires".into(), json!(who.expires_ms));
    m.insert("accountId".into(), json!(who.account_id));
    if let Some(e) = &who.email {
        m.insert("email".into(), json!(e));
    }
    if let Some(p) = &who.plan {
        m.insert("chatgptPlanType".into(), json!(p));
    }
    m
}

/// The profile name a user typed: a bare name, or a full Codex profile id whose name part is
/// taken. Refuses names that cannot be part of an id.
pub fn parse_name(raw: &str) -> Result<String, OAuthError> {
    let s = raw.trim();
    let name = match s.split_once(':') {
        Some((p, n)) if Provider::parse(p).is_some() => n,
        _ => s,
    };
    let ok = !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '@' | '.' | '-' | '_' | '+'));
    if ok {
        Ok(name.to_owned())
    } else {
        Err(OAuthError::BadProfileName(s.chars().take(60).collect()))
    }
}

/// Where a login goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The profile id written.
    pub id: ProfileId,
    /// The provider the profile carries (an updated profile keeps its own).
    pub provider: Provider,
    /// True when no profile had this id before.
    pub is_new: bool,
    /// The id the name asked for (`<provider>:<name>`): differs from `id` when the account
    /// is already stored under another id (updated there), or when that id holds another
    /// account (a new id with the account's short form appended).
    pub requested: ProfileId,
}

/// Pick the profile id (rules in the module header). `codex` are the stored Codex profiles;
/// `taken(id)` says whether any profile (Codex or not) has that id.
pub fn choose_target(
    codex: &[CodexProfile],
    taken: &dyn Fn(&str) -> bool,
    provider: Provider,
    name: &str,
    who: &Identity,
) -> Result<Target, OAuthError> {
    let same_email = |p: &CodexProfile| match (&p.email, &who.email) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        (None, None) => true,
        _ => false,
    };
    // Prefer the profile named as asked, then the store's provider, when several match.
    let wanted =
        ProfileId::new(provider, name).map_err(|_| OAuthError::BadProfileName(name.into()))?;
    let mut same: Vec<&CodexProfile> = codex
        .iter()
        .filter(|p| p.account_id.as_deref() == Some(who.account_id.as_str()) && same_email(p))
        .collect();
    same.sort_by_key(|p| (p.id != wanted, p.provider != provider, p.id.clone()));
    if let Some(p) = same.first() {
        return Ok(Target {
            id: p.id.clone(),
            provider: p.provider,
            is_new: false,
            requested: wanted,
        });
    }
    let short: String = who
        .account_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(8)
        .collect();
    let mut candidate = wanted.clone();
    let mut n = 1;
    while taken(candidate.as_str()) {
        let suffix = if n == 1 {
            short.clone()
        } else {
            format!("{short}-{n}")
        };
        candidate = ProfileId::new(provider, &format!("{name}-{suffix}"))
            .map_err(|_| OAuthError::BadProfileName(name.into()))?;
        n += 1;
    }
    Ok(Target {
        id: candidate,
        provider,
        is_new: true,
        requested: wanted,
    })
}

/// The short form of an account id, for display (one definition, in the profile model).
pub use crate::engine::profile::short_account;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    fn tokens(account: Option<&str>, email: &str) -> Tokens {
        let mut auth = json!({"chatgpt_plan_type": "plus"});
        if let Some(a) = account {
            auth["chatgpt_account_id"] = json!(a);
        }
        let access = jwt::unsigned_for_tests(&json!({
            "exp": 2_000_000_000,
            "https://api.openai.com/auth": auth,
            "https://api.openai.com/profile": {"email": email},
        }));
        Tokens {
            access: Secret::new(access),
            refresh: Secret::new("rt_x".into()),
            id_token: None,
            expires_in_s: None,
            account_id_hint: None,
        }
    }

    fn stored(id: &str, account: &str, email: &str) -> CodexProfile {
        CodexProfile::for_tests(id, Some(email), Some(account), None)
    }

    #[test]
    fn identity_reads_claims_and_expiry() {
        let who = identity(&tokens(Some("acc-1"), "a@x.io"), 5).unwrap();
        assert_eq!(who.account_id, "acc-1");
        assert_eq!(who.email.as_deref(), Some("a@x.io"));
        assert_eq!(who.plan.as_deref(), Some("plus"));
        assert_eq!(who.expires_ms, 2_000_000_000_000);
        let mut t = tokens(Some("acc-1"), "a@x.io");
        t.expires_in_s = Some(10);
        assert_eq!(identity(&t, 5).unwrap().expires_ms, 10_005);
        t.expires_in_s = Some(u64::MAX);
        assert_eq!(identity(&t, 5).unwrap().expires_ms, i64::MAX);
        assert!(matches!(
            identity(&tokens(None, "a@x.io"), 0),
            Err(OAuthError::MissingAccountId)
        ));
        let mut t = tokens(None, "a@x.io");
        t.account_id_hint = Some("hint".into());
        assert_eq!(identity(&t, 0).unwrap().account_id, "hint");
    }

    #[test]
    fn same_account_updates_whatever_its_id() {
        let codex = vec![stored("openai:old-name", "acc-1", "a@x.io")];
        let who = identity(&tokens(Some("acc-1"), "A@x.io"), 0).unwrap();
        let t = choose_target(&codex, &|_| true, Provider::OpenAi, "a@x.io", &who).unwrap();
        assert_eq!(t.id.as_str(), "openai:old-name");
        assert!(!t.is_new);
        assert_eq!(t.requested.as_str(), "openai:a@x.io");
    }

    #[test]
    fn other_workspace_gets_its_own_profile() {
        let codex = vec![stored("openai:a@x.io", "acc-1", "a@x.io")];
        let ids = ["openai:a@x.io"];
        let taken = |id: &str| ids.contains(&id);
        let who = identity(&tokens(Some("acc-2222-3333"), "a@x.io"), 0).unwrap();
        let t = choose_target(&codex, &taken, Provider::OpenAi, "a@x.io", &who).unwrap();
        assert_eq!(t.id.as_str(), "openai:a@x.io-acc22223");
        assert!(t.is_new);
        let t = choose_target(&codex, &taken, Provider::OpenAi, "team", &who).unwrap();
        assert_eq!(t.id.as_str(), "openai:team");
    }

    #[test]
    fn names_parse() {
        assert_eq!(parse_name("openai:alice@x.io").unwrap(), "alice@x.io");
        assert_eq!(parse_name(" work ").unwrap(), "work");
        assert!(parse_name("a b").is_err());
        assert!(parse_name("").is_err());
        assert!(parse_name("x/../y").is_err());
    }

    #[test]
    fn fields_are_the_stored_shape() {
        let t = tokens(Some("acc-1"), "a@x.io");
        let who = identity(&t, 0).unwrap();
        let f = profile_fields(Provider::OpenAiCodex, &t, &who);
        let keys: Vec<&str> = f.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "type",
                "provider",
                "access",
                "refresh",
                "expires",
                "accountId",
                "email",
                "chatgptPlanType"
            ]
        );
        assert_eq!(f["provider"], "openai-codex");
        assert_eq!(
            short_account("11111111-aaaa-4bbb-8ccc-000000000001"),
            "1111…0001"
        );
    }
}
