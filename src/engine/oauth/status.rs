//! Login status per profile: identity (email, account id shortened, plan), token expiry and
//! status, fence, and whether a login is pending for it. No secrets.

use serde::Serialize;

use super::OAuthError;
use super::identity::short_account;
use super::pending::{PendingLogins, PendingSummary};
use crate::engine::health::{TokenStatus, iso_ms, token_status};
use crate::engine::selector::{SelectError, Selector};
use crate::engine::store::Snapshot;

/// One profile's login status.
#[derive(Debug, Clone, Serialize)]
pub struct ProfileStatus {
    /// Profile id.
    pub profile: String,
    /// `openai` or `openai-codex`.
    pub provider: &'static str,
    /// Email.
    pub email: Option<String>,
    /// Account id, shortened.
    pub account: Option<String>,
    /// Plan.
    pub plan: Option<String>,
    /// Token expiry (absent while fenced).
    pub token_expires_at: Option<String>,
    /// `ok`, `expiring`, `expired`, `refreshing`, `refresh_failed`, `missing_token`.
    pub status: TokenStatus,
    /// `none`, `refreshing`, `refresh_failed`.
    pub fence: &'static str,
    /// Whether a login is pending for this profile's name.
    pub pending_login: bool,
}

/// A pending login, as shown.
#[derive(Debug, Clone, Serialize)]
pub struct PendingView {
    /// Profile name the login was started for.
    pub profile: String,
    /// Who started it.
    pub requester: String,
    /// When it expires, RFC 3339.
    pub expires_at: Option<String>,
}

/// Why status could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    /// The selector matched nothing.
    #[error(transparent)]
    Select(#[from] SelectError),
    /// `pending.json` is unreadable.
    #[error(transparent)]
    Pending(#[from] OAuthError),
}

impl crate::engine::Failure for StatusError {
    fn kind(&self) -> crate::engine::FailureKind {
        match self {
            StatusError::Select(e) => e.kind(),
            StatusError::Pending(e) => e.kind(),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            StatusError::Select(e) => e.code(),
            StatusError::Pending(e) => e.code(),
        }
    }
}

/// The status of the profiles `selector` names, and every unexpired pending login. A
/// selector that names no stored profile but a login pending under that name (a new profile
/// not finished yet) shows no rows and that pending login, instead of failing.
pub fn login_status(
    snap: &Snapshot,
    pending: &PendingLogins,
    selector: &str,
    now_ms: i64,
) -> Result<(Vec<ProfileStatus>, Vec<PendingView>), StatusError> {
    let pend: Vec<PendingSummary> = pending.list(now_ms)?;
    let profiles = if snap.codex.is_empty() && selector.trim() == "all" {
        Vec::new()
    } else {
        let provider = snap.codex.first().map_or("openai", |p| p.provider.as_str());
        match Selector::parse(selector)?.resolve_in(snap, provider) {
            Ok(ids) => ids,
            Err(SelectError::NoMatch { .. } | SelectError::NoProfiles)
                if pend.iter().any(|x| pending_for(x, selector)) =>
            {
                Vec::new()
            }
            Err(e) => return Err(e.into()),
        }
    };
    let rows = profiles
        .iter()
        .filter_map(|id| snap.profile(id))
        .map(|p| ProfileStatus {
            profile: p.id.to_string(),
            provider: p.provider.as_str(),
            email: p.email.clone(),
            account: p.account_id.as_deref().map(short_account),
            plan: p.plan.clone(),
            token_expires_at: match p.fence {
                crate::engine::profile::Fence::None => p.expires_ms.and_then(iso_ms),
                _ => None,
            },
            status: token_status(p, now_ms),
            fence: p.fence.as_str(),
            pending_login: pend.iter().any(|x| {
                x.profile == p.id.name() || Some(x.profile.as_str()) == p.email.as_deref()
            }),
        })
        .collect();
    let views = pend
        .into_iter()
        .map(|x| PendingView {
            profile: x.profile,
            requester: x.requester,
            expires_at: iso_ms(x.expires_at_ms),
        })
        .collect();
    Ok((rows, views))
}

/// Whether a pending login was started under the name `selector` gives (`work` or
/// `openai:work`, any case).
pub fn pending_for(p: &PendingSummary, selector: &str) -> bool {
    is_pending_name(&p.profile, selector)
}

/// Whether the pending login name `pending` is the one `selector` gives.
pub fn is_pending_name(pending: &str, selector: &str) -> bool {
    let s = selector.trim();
    let name = s.split_once(':').map_or(s, |(_, n)| n);
    pending.eq_ignore_ascii_case(name)
}
