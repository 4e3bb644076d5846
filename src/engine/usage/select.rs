//! From the effective store to the profiles a check sends: resolve a selector the way every
//! front end does (`default` follows the Codex provider's effective order) and attach each
//! profile's local health. Shared by the CLI and the chat core so both pick the same profiles.

use super::ProfileToCheck;
use crate::engine::profile::{ProfileId, Provider};
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
    let order: Vec<ProfileId> = snap
        .effective_order(provider.as_str())
        .ids
        .iter()
        .filter_map(|id| ProfileId::parse(id).ok())
        .collect();
    let ids = selector.resolve(&snap.codex_ids(), &order)?;
    Ok(ids
        .iter()
        .filter_map(|id| snap.profile(id))
        .map(|p| ProfileToCheck {
            profile: p.clone(),
            local: snap.health(p, now_ms),
        })
        .collect())
}
