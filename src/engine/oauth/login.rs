//! Turn tokens into the stored profile and write it. [`save_login`] holds the one store write
//! of every login path, so the change pipeline (preflight, backup, apply, verify) can wrap it.

use serde::Serialize;

use super::identity::{Identity, choose_target, identity, profile_fields, short_account};
use super::{OAuthError, Tokens};
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
    let applied = store
        .apply(&Change::UpsertProfile {
            id: id.clone(),
            fields,
        })
        .map_err(|e| OAuthError::store(&e))?;
    Ok(SavedLogin {
        profile: id.to_string(),
        new_profile: target.is_new,
        email: who.email,
        account: short_account(&who.account_id),
        plan: who.plan,
        expires_at: iso_ms(who.expires_ms),
        store: store.info().clone(),
        layer: applied.written.into_iter().next(),
    })
}
