//! The preflight of `order set`: which profiles may be named (every stored profile of the
//! provider, token and api_key ones too, as `openclaw models auth order set` accepts), which
//! provider ids the gateway reads for this store, and which profiles an explicit order takes
//! out of service (a stored order is the whole list the gateway tries: profiles it leaves out
//! are never tried).

use super::error::ChangeError;
use crate::engine::profile::{CodexProfile, ProfileId};
use crate::engine::selector::{SelectError, Selector};
use crate::engine::store::snapshot::entry_provider;
use crate::engine::store::{Change, Snapshot};

/// Resolve one member of an order about to be set (CLI `order set` and the chat alike): a
/// stored profile id as given (the pipeline checks its provider), else a selector over the
/// stored profiles of `provider`: the Codex ones by id, name, email or label, then every
/// other one (token and api_key profiles, as `openclaw models auth order set` accepts them)
/// by id or its end. `Ok(None)` for `all`, which names no single member.
pub fn order_member(
    snap: &Snapshot,
    provider: &str,
    sel: &str,
) -> Result<Option<ProfileId>, SelectError> {
    if snap.raw_profile(sel.trim()).is_some()
        && let Ok(id) = ProfileId::parse(sel.trim())
    {
        return Ok(Some(id));
    }
    let s = Selector::parse(sel)?;
    if s == Selector::All {
        return Ok(None);
    }
    let of_provider = snap.provider_profile_ids(provider);
    let order: Vec<ProfileId> = snap
        .effective_order(provider)
        .ids
        .iter()
        .filter_map(|i| ProfileId::parse(i).ok())
        .collect();
    let codex: Vec<CodexProfile> = snap
        .codex
        .iter()
        .filter(|p| of_provider.iter().any(|i| i == p.id.as_str()))
        .cloned()
        .collect();
    match s.resolve_profiles(&codex, &order) {
        Ok(mut found) if found.len() == 1 => return Ok(found.pop()),
        Err(e @ SelectError::Ambiguous { .. }) => return Err(e),
        _ => {}
    }
    let ids: Vec<ProfileId> = of_provider
        .iter()
        .filter_map(|i| ProfileId::parse(i).ok())
        .collect();
    Ok(s.resolve(&ids, &order)?.pop())
}

fn same_provider(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

/// Check an `order set` of `ids` for `provider` and describe it, one sentence per step.
/// `target` names the layer the order is written to.
pub(crate) fn plan_set_order(
    snap: &Snapshot,
    provider: &str,
    ids: &[ProfileId],
    target: &str,
) -> Result<Vec<String>, ChangeError> {
    if ids.is_empty() {
        return Err(ChangeError::Refused(
            "an order needs at least one profile: use `order clear` to remove it".into(),
        ));
    }
    if let Some(why) = snap.unused_provider(provider) {
        return Err(ChangeError::Refused(format!("no order was set: {why}")));
    }
    for (i, id) in ids.iter().enumerate() {
        let Some(entry) = snap.raw_profile(id.as_str()) else {
            return Err(ChangeError::UnknownProfile(id.to_string()));
        };
        let of = entry_provider(id.as_str(), entry);
        if !same_provider(of, provider) {
            return Err(ChangeError::Refused(format!(
                "profile {id} is for {of}, not {provider}: an order holds profiles of its own provider only"
            )));
        }
        if ids[..i].contains(id) {
            return Err(ChangeError::DuplicateInOrder(id.to_string()));
        }
    }
    let list: Vec<&str> = ids.iter().map(ProfileId::as_str).collect();
    let mut plan = vec![format!(
        "set the {provider} order to {} in {target}",
        list.join(", ")
    )];
    let change = Change::SetOrder {
        provider: provider.to_owned(),
        ids: ids.to_vec(),
    };
    let leaving = leaving_service(snap, &change);
    if !leaving.is_empty() {
        plan.push(format!(
            "{} {} service: the gateway will no longer try {} (credentials are kept)",
            leaving.join(", "),
            if leaving.len() == 1 {
                "leaves"
            } else {
                "leave"
            },
            if leaving.len() == 1 { "it" } else { "them" },
        ));
    }
    let named = |x: &String| list.contains(&x.as_str());
    let still_out: Vec<String> = snap
        .provider_profile_ids(provider)
        .into_iter()
        .filter(|x| !named(x) && !leaving.contains(x))
        .collect();
    if !still_out.is_empty() {
        plan.push(format!(
            "{} {} out of service (not in the new order)",
            still_out.join(", "),
            if still_out.len() == 1 {
                "stays"
            } else {
                "stay"
            },
        ));
    }
    Ok(plan)
}

/// The profiles the gateway uses now (tried, or skipped only for now) that the change takes
/// out of service: for an `order set` those the new order leaves out, for a retire or a
/// delete the profile itself when it is in use. Empty for every other change.
pub fn leaving_service(snap: &Snapshot, change: &Change) -> Vec<String> {
    match change {
        Change::SetOrder { provider, ids } => snap
            .effective_order(provider)
            .members()
            .into_iter()
            .filter(|m| !ids.iter().any(|i| i.as_str() == m))
            .collect(),
        Change::Retire { id } | Change::Delete { id } => snap
            .effective_order(id.provider_part())
            .members()
            .into_iter()
            .filter(|m| m == id.as_str())
            .collect(),
        _ => Vec::new(),
    }
}
