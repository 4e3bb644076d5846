//! The Codex profile model: provider ids, profile ids, and a Codex OAuth profile as parsed out
//! of a store entry (tokens as [`Secret`]s, refresh fences recognised, never shown as tokens).

use std::fmt;

use crate::secret::Secret;

/// The two provider ids a Codex OAuth profile can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Provider {
    /// `openai`: current OpenClaw (database stores).
    OpenAi,
    /// `openai-codex`: legacy OpenClaw (json stores).
    OpenAiCodex,
}

impl Provider {
    /// The provider id as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::OpenAi => "openai",
            Provider::OpenAiCodex => "openai-codex",
        }
    }

    /// Parse a stored provider id; other providers are not Codex providers.
    pub fn parse(s: &str) -> Option<Provider> {
        match s {
            "openai" => Some(Provider::OpenAi),
            "openai-codex" => Some(Provider::OpenAiCodex),
            _ => None,
        }
    }

    /// Both Codex provider ids.
    pub const ALL: [Provider; 2] = [Provider::OpenAi, Provider::OpenAiCodex];
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A profile id, `<provider>:<name>`. Parsing guarantees both parts are non-empty and the
/// whole has no control characters or whitespace.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProfileId(String);

/// Why a string is not a profile id.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("`{0}` is not a profile id: expected `<provider>:<name>` with no spaces")]
pub struct BadProfileId(pub String);

impl ProfileId {
    /// Parse `<provider>:<name>`.
    pub fn parse(s: &str) -> Result<ProfileId, BadProfileId> {
        let ok = match s.split_once(':') {
            Some((p, n)) => {
                !p.is_empty()
                    && !n.is_empty()
                    && !s.chars().any(|c| c.is_whitespace() || c.is_control())
            }
            None => false,
        };
        if ok {
            Ok(ProfileId(s.to_owned()))
        } else {
            Err(BadProfileId(s.chars().take(80).collect()))
        }
    }

    /// Build `<provider>:<name>` from a user-given name (email or label).
    pub fn new(provider: Provider, name: &str) -> Result<ProfileId, BadProfileId> {
        ProfileId::parse(&format!("{}:{}", provider.as_str(), name))
    }

    /// The whole id.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The provider part (before the first `:`).
    pub fn provider_part(&self) -> &str {
        self.0.split_once(':').map_or("", |(p, _)| p)
    }

    /// The name part (after the first `:`).
    pub fn name(&self) -> &str {
        self.0.split_once(':').map_or("", |(_, n)| n)
    }
}

impl fmt::Display for ProfileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The prefix OpenClaw writes into `access`/`refresh` while it refreshes a token.
pub const FENCE_PREFIX: &str = "openclaw-oauth-refresh-fence:v1:";

/// Whether a refresh is in flight or has failed, as shown by fence markers in the tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fence {
    /// Ordinary tokens.
    None,
    /// A refresh is in flight (`refreshing`): never write over this profile.
    Refreshing,
    /// The refresh failed and the refresh token is gone (`refresh_failed`).
    Failed,
}

impl Fence {
    /// Recognise fence markers in an `access` or `refresh` value.
    pub fn of_token(value: &str) -> Fence {
        match value.strip_prefix(FENCE_PREFIX) {
            None => Fence::None,
            Some(rest) if rest.starts_with("failed:") || rest.contains(":failed:") => Fence::Failed,
            Some(_) => Fence::Refreshing,
        }
    }

    /// The word reports use: `none`, `refreshing`, `refresh_failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Fence::None => "none",
            Fence::Refreshing => "refreshing",
            Fence::Failed => "refresh_failed",
        }
    }
}

/// A Codex OAuth profile as read from the effective store. Fields the gateway may leave out
/// are options; tokens are secrets and fenced tokens are not kept as tokens at all.
#[derive(Debug, Clone)]
pub struct CodexProfile {
    /// The profile id as stored.
    pub id: ProfileId,
    /// `openai` or `openai-codex`.
    pub provider: Provider,
    /// The access token, unless missing or fenced.
    pub access: Option<Secret<String>>,
    /// Whether a refresh token is stored (its value is never needed: we never refresh).
    pub has_refresh: bool,
    /// Token expiry, ms since the epoch (`expires`); a fence stores 1 here.
    pub expires_ms: Option<i64>,
    /// ChatGPT account (workspace) id: `accountId`, else the JWT claim.
    pub account_id: Option<String>,
    /// Email: `email`, else the JWT claim.
    pub email: Option<String>,
    /// Plan: `chatgptPlanType`, else the JWT claim.
    pub plan: Option<String>,
    /// Refresh fence state.
    pub fence: Fence,
}

/// `1111…0001`: the short form of an account (workspace) id every output shows; enough to
/// tell two apart without printing the whole id.
pub fn short_account(account_id: &str) -> String {
    let chars: Vec<char> = account_id.chars().collect();
    if chars.len() <= 12 {
        return account_id.to_owned();
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

impl CodexProfile {
    /// A stored profile with no token, for unit tests.
    #[cfg(test)]
    pub(crate) fn for_tests(
        id: &str,
        email: Option<&str>,
        account: Option<&str>,
        plan: Option<&str>,
    ) -> CodexProfile {
        let id = ProfileId(id.to_owned());
        CodexProfile {
            provider: Provider::parse(id.provider_part()).unwrap_or(Provider::OpenAi),
            id,
            access: None,
            has_refresh: true,
            expires_ms: None,
            account_id: account.map(str::to_owned),
            email: email.map(str::to_owned),
            plan: plan.map(str::to_owned),
            fence: Fence::None,
        }
    }

    /// The label users see: the email when known, else the profile id's name. Lists that
    /// show several profiles use [`crate::engine::label::display_labels`], which tells
    /// profiles that read the same apart.
    pub fn label(&self) -> &str {
        self.email.as_deref().unwrap_or_else(|| self.id.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_ids_parse() {
        let id = ProfileId::parse("openai:alice@example.com").unwrap();
        assert_eq!(id.provider_part(), "openai");
        assert_eq!(id.name(), "alice@example.com");
        assert!(ProfileId::parse("alice").is_err());
        assert!(ProfileId::parse("openai:").is_err());
        assert!(ProfileId::parse(":x").is_err());
        assert!(ProfileId::parse("openai:a b").is_err());
    }

    #[test]
    fn fences_are_recognised() {
        assert_eq!(Fence::of_token("eyJ.x.y"), Fence::None);
        assert_eq!(
            Fence::of_token("openclaw-oauth-refresh-fence:v1:abc"),
            Fence::Refreshing
        );
        assert_eq!(
            Fence::of_token("openclaw-oauth-refresh-fence:v1:failed:abc"),
            Fence::Failed
        );
    }
}
