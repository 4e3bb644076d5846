//! From the effective store to the profiles a check sends: resolve a selector the way every
//! front end does (names, emails and labels count; `default` follows the Codex provider's
//! effective order) and attach each profile's local health. Shared by the CLI and the chat
//! core so both pick the same profiles.

use super::ProfileToCheck;
use crate::engine::label::LabelParts;
use crate::engine::profile::Provider;
use crate::engine::selector::{SelectError, Selector};
use crate::engine::store::Snapshot;

/// The profiles `selector` names in `snap`, in selector order, each with its local health at
/// `now_ms`. `provider` is the store's Codex provider (`Store::codex_provider`), whose
/// effective order decides `default`.
pub fn profiles_to_check(
    snap: &Snapshot,
    provider: Provider,
    selector: &Selector,
    now_ms: i64,
) -> Result<Vec<ProfileToCheck>, SelectError> {
    let ids = selector.resolve_in(snap, provider.as_str())?;
    Ok(ids
        .iter()
        .filter_map(|id| snap.profile(id))
        .map(|p| ProfileToCheck {
            profile: p.clone(),
            local: snap.health(p, now_ms),
        })
        .collect())
}

/// Every Codex profile of `snap` as label peers: what usage lines are told apart from, so a
/// line names its profile the way a selector finds it
/// ([`super::report::lines_among`], [`super::report::render_text_among`]).
pub fn peers(snap: &Snapshot) -> Vec<LabelParts<'_>> {
    snap.codex.iter().map(LabelParts::of).collect()
}
