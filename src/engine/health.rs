//! Local health of a Codex profile, from the store alone (no network): token expiry, refresh
//! fences, and the gateway's own `usageStats` (cooldown, blocked, disabled, errors, last use).

use chrono::{DateTime, TimeZone, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::engine::lenient::integer as num;

use crate::engine::profile::{CodexProfile, Fence};

/// A token expiring within this window is `expiring`.
pub const EXPIRING_WINDOW_MS: i64 = 24 * 3600 * 1000;

/// The token's state, as one word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenStatus {
    /// Valid for more than 24 h.
    Ok,
    /// Expires within 24 h (the gateway will refresh it).
    Expiring,
    /// Expired.
    Expired,
    /// A refresh is in flight.
    Refreshing,
    /// The refresh failed; a new login is needed.
    RefreshFailed,
    /// No access token stored.
    MissingToken,
}

impl TokenStatus {
    /// The word used in text output.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenStatus::Ok => "ok",
            TokenStatus::Expiring => "expiring",
            TokenStatus::Expired => "expired",
            TokenStatus::Refreshing => "refreshing",
            TokenStatus::RefreshFailed => "refresh_failed",
            TokenStatus::MissingToken => "missing_token",
        }
    }
}

/// The gateway's `usageStats` entry for one profile, the fields we read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UsageStats {
    /// `lastUsed`, ms.
    pub last_used: Option<i64>,
    /// `cooldownUntil`, ms.
    pub cooldown_until: Option<i64>,
    /// `cooldownReason`.
    pub cooldown_reason: Option<String>,
    /// `blockedUntil`, ms.
    pub blocked_until: Option<i64>,
    /// `blockedReason`.
    pub blocked_reason: Option<String>,
    /// `disabledUntil`, ms.
    pub disabled_until: Option<i64>,
    /// `disabledReason`.
    pub disabled_reason: Option<String>,
    /// `errorCount`.
    pub error_count: u64,
}

impl UsageStats {
    /// Read an entry, tolerating missing fields and numbers sent as strings.
    pub fn from_value(v: Option<&Value>) -> UsageStats {
        let Some(v) = v else {
            return UsageStats::default();
        };
        let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        UsageStats {
            last_used: num(v.get("lastUsed")),
            cooldown_until: num(v.get("cooldownUntil")),
            cooldown_reason: text("cooldownReason"),
            blocked_until: num(v.get("blockedUntil")),
            blocked_reason: text("blockedReason"),
            disabled_until: num(v.get("disabledUntil")),
            disabled_reason: text("disabledReason"),
            error_count: num(v.get("errorCount")).map_or(0, |n| n.max(0) as u64),
        }
    }

    /// When the profile becomes usable again: max(blocked, cooldown, disabled), if in the future.
    pub fn unusable_until(&self, now_ms: i64) -> Option<i64> {
        [self.blocked_until, self.cooldown_until, self.disabled_until]
            .into_iter()
            .flatten()
            .filter(|t| *t > now_ms)
            .max()
    }
}

/// Local health, serialised with the field names SPEC section 6 gives for `local`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LocalHealth {
    /// Token expiry (RFC 3339), if known and not a fence.
    pub token_expires_at: Option<String>,
    /// Token state.
    pub status: TokenStatus,
    /// Cooldown end, if in the future.
    pub cooldown_until: Option<String>,
    /// Blocked until, if in the future.
    pub blocked_until: Option<String>,
    /// Disabled until, if in the future.
    pub disabled_until: Option<String>,
    /// Last use by the gateway.
    pub last_used: Option<String>,
    /// The gateway's error count.
    pub error_count: u64,
    /// Whether the profile is in the effective order.
    pub in_order: bool,
    /// Whether the profile is the provider's `lastGood`.
    pub last_good: bool,
    /// `none`, `refreshing` or `refresh_failed`.
    pub fence: &'static str,
}

/// Milliseconds since the epoch as RFC 3339 UTC, seconds precision.
pub fn iso_ms(ms: i64) -> Option<String> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .map(|t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

/// The token status alone.
pub fn token_status(p: &CodexProfile, now_ms: i64) -> TokenStatus {
    match p.fence {
        Fence::Refreshing => return TokenStatus::Refreshing,
        Fence::Failed => return TokenStatus::RefreshFailed,
        Fence::None => {}
    }
    if p.access.is_none() {
        return TokenStatus::MissingToken;
    }
    match p.expires_ms {
        Some(e) if e <= now_ms => TokenStatus::Expired,
        Some(e) if e - now_ms <= EXPIRING_WINDOW_MS => TokenStatus::Expiring,
        _ => TokenStatus::Ok,
    }
}

/// Compute local health.
pub fn local_health(
    p: &CodexProfile,
    stats: &UsageStats,
    in_order: bool,
    last_good: bool,
    now_ms: i64,
) -> LocalHealth {
    let future = |t: Option<i64>| t.filter(|t| *t > now_ms).and_then(iso_ms);
    LocalHealth {
        token_expires_at: if p.fence == Fence::None {
            p.expires_ms.and_then(iso_ms)
        } else {
            None
        },
        status: token_status(p, now_ms),
        cooldown_until: future(stats.cooldown_until),
        blocked_until: future(stats.blocked_until),
        disabled_until: future(stats.disabled_until),
        last_used: stats.last_used.and_then(iso_ms),
        error_count: stats.error_count,
        in_order,
        last_good,
        fence: p.fence.as_str(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::profile::{ProfileId, Provider};
    use crate::secret::Secret;

    fn profile(expires: Option<i64>, fence: Fence) -> CodexProfile {
        CodexProfile {
            id: ProfileId::parse("openai:a").unwrap(),
            provider: Provider::OpenAi,
            access: (fence == Fence::None).then(|| Secret::new("t".to_owned())),
            has_refresh: true,
            expires_ms: expires,
            account_id: None,
            email: None,
            plan: None,
            fence,
        }
    }

    #[test]
    fn statuses() {
        let now = 1_000_000_000_000;
        assert_eq!(
            token_status(&profile(Some(now - 1), Fence::None), now),
            TokenStatus::Expired
        );
        assert_eq!(
            token_status(&profile(Some(now + 3_600_000), Fence::None), now),
            TokenStatus::Expiring
        );
        assert_eq!(
            token_status(&profile(Some(now + 48 * 3_600_000), Fence::None), now),
            TokenStatus::Ok
        );
        assert_eq!(
            token_status(&profile(Some(1), Fence::Refreshing), now),
            TokenStatus::Refreshing
        );
        assert_eq!(
            token_status(&profile(Some(1), Fence::Failed), now),
            TokenStatus::RefreshFailed
        );
    }

    #[test]
    fn stats_tolerate_strings_and_past_times() {
        let v = serde_json::json!({"lastUsed": "5", "cooldownUntil": 10, "blockedUntil": 30, "errorCount": 2});
        let s = UsageStats::from_value(Some(&v));
        assert_eq!(s.last_used, Some(5));
        assert_eq!(s.unusable_until(20), Some(30));
        assert_eq!(s.unusable_until(40), None);
        let h = local_health(&profile(None, Fence::None), &s, true, false, 20);
        assert!(h.cooldown_until.is_none());
        assert!(h.blocked_until.is_some());
        assert_eq!(h.error_count, 2);
    }
}
