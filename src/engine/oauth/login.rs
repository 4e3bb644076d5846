//! Turn tokens into the stored profile and write it. [`save_login`] holds the one store write
//! of every login path, and makes it through the change pipeline (preflight, backup, apply,
//! verify) like every other mutation.

use serde::Serialize;

use super::identity::{Identity, choose_target, identity, profile_fields, short_account};
use super::{OAuthError, Tokens};
use crate::engine::change::{self, ExecuteOptions};
use crate::engine::health::iso_ms;
use crate::engine::profile::ProfileId;
use crate::engine::store::{Change, LayerId, Store, StoreInfo};

/// What a saved login reports (no secrets): `store:{format,path}`, the layer written, the
/// profile id, email, account (shortened), plan, expiry, and new vs. updated.
#[derive(Debug, Clone, Serialize)]
pub struct SavedLogin {
    /// The profile id written.
    pub profile: String,
    /// `true` when the profile did not exist before.
    pub new_profile: bool,
    /// The profile id the given name asked for. When it differs from `profile`, see
    /// [`SavedLogin::why_elsewhere`].
    pub requested_profile: String,
    /// Email from the tokens.
    pub email: Option<String>,
    /// The account id, shortened for display.
    pub account: String,
    /// The ChatGPT plan.
    pub plan: Option<String>,
    /// Token expiry, RFC 3339.
    pub expires_at: Option<String>,
    /// Which store.
    pub store: StoreInfo,
    /// The layer written (`None`: the stored profile already held exactly these values).
    pub layer: Option<LayerId>,
    /// The backup taken of that layer before writing.
    pub backups: Vec<String>,
    /// Whether the read-back showed exactly the intended change.
    pub verified: bool,
    /// What differed, when not verified (key paths, never values).
    pub differences: Vec<String>,
    /// The provider's stored order after the new profile was appended to it (`None`: no order
    /// is stored, or the profile was not new). A stored order the profile is not in would
    /// keep the gateway from ever using it.
    pub order: Option<Vec<String>>,
}

/// Why a login was not stored under the id its name asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Elsewhere {
    /// The account (same account id and email) is already stored under another id, which
    /// was updated: one account is kept once, since its refresh token is single-use.
    SameAccount,
    /// The id asked for holds another account (another workspace of the email, or another
    /// login), so the new profile got the account's short form appended.
    NameTaken,
}

impl SavedLogin {
    /// Why `profile` is not `requested_profile` (`None` when it is).
    pub fn why_elsewhere(&self) -> Option<Elsewhere> {
        match (self.profile == self.requested_profile, self.new_profile) {
            (true, _) => None,
            (false, false) => Some(Elsewhere::SameAccount),
            (false, true) => Some(Elsewhere::NameTaken),
        }
    }
}

/// Work out the identity and id, then write the profile through the store (which refuses to
/// write over a refresh in flight). Nothing is written when the tokens lack an account id.
pub fn save_login(
    store: &Store,
    name: &str,
    tokens: &Tokens,
    now_ms: i64,
) -> Result<SavedLogin, OAuthError> {
    let who: Identity = identity(tokens, now_ms)?;
    let snap = store.load().map_err(|e| OAuthError::store(&e))?;
    let taken = |id: &str| snap.raw_profile(id).is_some();
    let target = choose_target(&snap.codex, &taken, store.codex_provider(), name, &who)?;
    let fields = profile_fields(target.provider, tokens, &who);
    let id: ProfileId = target.id;
    tracing::debug!(profile = %id, new = target.is_new, "saving login");
    let report = change::execute(
        store,
        Change::UpsertProfile {
            id: id.clone(),
            fields,
        },
        &ExecuteOptions {
            action: "login",
            ..ExecuteOptions::default()
        },
    )
    .map_err(|e| OAuthError::store(&e))?;
    let mut backups = report.backups;
    let mut verified = report.verified;
    let mut differences = report.differences;
    let mut order = None;
    if target.is_new {
        if let Some(r) = append_to_stored_order(store, &id)? {
            backups.extend(r.backups);
            verified &= r.verified;
            differences.extend(r.differences);
            order = store
                .load()
                .ok()
                .and_then(|s| s.stored_order(id.provider_part()))
                .map(|(ids, _)| ids);
        }
    }
    Ok(SavedLogin {
        profile: id.to_string(),
        new_profile: target.is_new,
        requested_profile: target.requested.to_string(),
        email: who.email,
        account: short_account(&who.account_id),
        plan: who.plan,
        expires_at: iso_ms(who.expires_ms),
        store: store.info().clone(),
        layer: report.written.into_iter().next(),
        backups,
        verified,
        differences,
        order,
    })
}

/// Where the provider has a stored order without `id`, append `id` (through the same change
/// pipeline, in the layer owning the order): the gateway never tries a profile a stored
/// order leaves out.
fn append_to_stored_order(
    store: &Store,
    id: &ProfileId,
) -> Result<Option<change::ChangeReport>, OAuthError> {
    let snap = store.load().map_err(|e| OAuthError::store(&e))?;
    let provider = id.provider_part();
    let Some((stored, _)) = snap.stored_order(provider) else {
        return Ok(None);
    };
    if stored.iter().any(|x| x == id.as_str()) {
        return Ok(None);
    }
    // Entries pointing nowhere are dropped: the gateway ignores them and the pipeline
    // refuses an order naming a missing profile.
    let mut ids: Vec<ProfileId> = stored
        .iter()
        .filter(|x| snap.raw_profile(x).is_some())
        .filter_map(|x| ProfileId::parse(x).ok())
        .collect();
    ids.push(id.clone());
    let report = change::execute(
        store,
        Change::SetOrder {
            provider: provider.to_owned(),
            ids,
        },
        &ExecuteOptions {
            action: "login-order",
            ..ExecuteOptions::default()
        },
    )
    .map_err(|e| OAuthError::store(&e))?;
    Ok(Some(report))
}
