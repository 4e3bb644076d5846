//! The typed outcome of a check: one [`ProfileResult`] per profile (an entry of SPEC section 6
//! `profiles[]`), the [`UsageRun`] holding them, and its [`Summary`], which counts limited
//! profiles apart from usable ones.

use serde::Serialize;

use super::classify::RemoteError;
use super::parse::RemoteUsage;
use crate::engine::health::LocalHealth;

/// The outcome for one profile; serialises to one entry of SPEC section 6 `profiles[]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProfileResult {
    /// Profile id.
    pub profile: String,
    /// `openai` or `openai-codex`.
    pub provider: &'static str,
    /// Stored email.
    pub email: Option<String>,
    /// Stored ChatGPT account id.
    pub account_id: Option<String>,
    /// The plan the usage endpoint reported (fresher than the token's claim), else the
    /// stored one.
    pub plan: Option<String>,
    /// Local health from the store.
    pub local: LocalHealth,
    /// Whether the endpoint answered with readable usage.
    pub remote_usage_ok: bool,
    /// The usage, when it did.
    pub remote_usage: Option<RemoteUsage>,
    /// Why not, when it did not.
    pub remote_error: Option<RemoteError>,
    /// The last HTTP status received, if any.
    pub remote_status: Option<u16>,
    /// What to do about the error, when there is advice.
    pub remote_hint: Option<String>,
    /// For `rate_limited`: the endpoint's `Retry-After`, in seconds, when it sent one.
    pub retry_after_seconds: Option<u64>,
    /// For `rate_limited`: when to try again (RFC 3339 UTC), when the endpoint said.
    pub retry_at: Option<String>,
    /// Wall time for this profile, retries and backoff included.
    pub elapsed_ms: u64,
    /// Requests made (0 when the profile was not sent). Shown with `--debug`.
    #[serde(skip)]
    pub attempts: u32,
    /// Milliseconds per request. Shown with `--debug`.
    #[serde(skip)]
    pub attempt_ms: Vec<u64>,
}

impl ProfileResult {
    /// The name users see: the email, else the part of the id after `<provider>:`.
    pub fn label(&self) -> &str {
        self.email.as_deref().unwrap_or_else(|| {
            self.profile
                .split_once(':')
                .map_or(self.profile.as_str(), |(_, n)| n)
        })
    }

    /// Answered, and a limit is reached (rate limit, spend limit, workspace out).
    pub fn is_limited(&self) -> bool {
        self.remote_usage.as_ref().is_some_and(|u| u.limited)
    }

    /// Answered, and no limit is reached.
    pub fn is_usable(&self) -> bool {
        self.remote_usage_ok && !self.is_limited()
    }
}

/// `summary` of SPEC section 6, plus the usable/limited split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Profiles in the run.
    pub profiles_checked: usize,
    /// With readable usage (usable or limited).
    pub remote_ok_count: usize,
    /// Without.
    pub remote_failed_count: usize,
    /// With readable usage and no limit reached.
    pub usable_count: usize,
    /// With readable usage and a limit reached.
    pub limited_count: usize,
}

/// The outcome of one check run, profiles in the order given.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UsageRun {
    /// The endpoint asked (no secret: a trusted or loopback URL).
    pub remote_endpoint: String,
    /// One result per profile.
    pub profiles: Vec<ProfileResult>,
    /// Wall time of the whole run.
    pub elapsed_ms: u64,
}

impl UsageRun {
    /// Counts for `summary`.
    pub fn summary(&self) -> Summary {
        let ok = self.profiles.iter().filter(|p| p.remote_usage_ok).count();
        let limited = self.profiles.iter().filter(|p| p.is_limited()).count();
        Summary {
            profiles_checked: self.profiles.len(),
            remote_ok_count: ok,
            remote_failed_count: self.profiles.len() - ok,
            usable_count: ok.saturating_sub(limited),
            limited_count: limited,
        }
    }
}
