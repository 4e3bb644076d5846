//! How each [`Change`] becomes edits of individual layers. Planning looks at the effective
//! view to decide which layer owns each key; the edit itself is a pure function applied to
//! the layer's fresh documents inside its lock or transaction, so a concurrent writer's
//! change to another key is never lost.

use serde_json::{Map, Value, json};

use super::Change;
use super::error::StoreError;
use super::layer::{LayerDocs, LayerId};
use super::snapshot::Snapshot;
use crate::engine::profile::Fence;

/// One layer's part of a change. (No `Debug`: an upsert carries tokens.)
#[derive(Clone, PartialEq)]
pub(crate) enum LayerEdit {
    /// Merge `fields` into `profiles[id]` (creating it); refuse over a pending fence.
    Upsert {
        id: String,
        fields: Map<String, Value>,
    },
    /// `order[provider] = ids`.
    SetOrder { provider: String, ids: Vec<String> },
    /// Remove `order[provider]`.
    ClearOrder { provider: String },
    /// Remove `id` from every order list; `lastGood` entries naming it move to `next[provider]`
    /// or are removed.
    Retire {
        id: String,
        next: Vec<(String, Option<String>)>,
        /// `order[provider] = ids`, where no order was stored (see
        /// [`Snapshot::order_to_store_on_retire`]).
        store_order: Option<(String, Vec<String>)>,
    },
    /// Remove `profiles[id]`, `usageStats[id]`, `id` from order lists and `lastGood` naming it.
    Delete { id: String },
    /// Clear the windows of `usageStats[id]` (see [`super::unblock::clear_entry`]).
    Unblock { id: String },
}

fn obj_mut<'a>(v: &'a mut Value, key: &str) -> &'a mut Map<String, Value> {
    if !v.get(key).is_some_and(Value::is_object) {
        v[key] = json!({});
    }
    // Just ensured to be an object above.
    match v.get_mut(key) {
        Some(Value::Object(m)) => m,
        _ => unreachable!("ensured to be an object"),
    }
}

fn is_pending_fence(entry: &Value) -> bool {
    ["access", "refresh"].iter().any(|k| {
        entry
            .get(*k)
            .and_then(Value::as_str)
            .is_some_and(|t| Fence::of_token(t) == Fence::Refreshing)
    })
}

fn remove_from_orders(state: &mut Value, id: &str) {
    if let Some(Value::Object(order)) = state.get_mut("order") {
        for list in order.values_mut() {
            if let Value::Array(a) = list {
                a.retain(|x| x.as_str() != Some(id));
            }
        }
    }
}

/// Apply one edit to fresh documents. Refuses to touch a profile whose refresh is in flight.
pub(crate) fn apply_edit(edit: &LayerEdit, mut docs: LayerDocs) -> Result<LayerDocs, StoreError> {
    match edit {
        LayerEdit::Upsert { id, fields } => {
            let profiles = obj_mut(&mut docs.store, "profiles");
            let entry = profiles.entry(id.clone()).or_insert_with(|| json!({}));
            if is_pending_fence(entry) {
                return Err(StoreError::Fenced(id.clone()));
            }
            if !entry.is_object() {
                *entry = json!({});
            }
            if let Value::Object(e) = entry {
                for (k, v) in fields {
                    e.insert(k.clone(), v.clone());
                }
            }
        }
        LayerEdit::SetOrder { provider, ids } => {
            let order = obj_mut(&mut docs.state, "order");
            order.insert(provider.clone(), json!(ids));
        }
        LayerEdit::ClearOrder { provider } => {
            if let Some(Value::Object(order)) = docs.state.get_mut("order") {
                order.shift_remove(provider);
            }
        }
        LayerEdit::Retire {
            id,
            next,
            store_order,
        } => {
            remove_from_orders(&mut docs.state, id);
            if let Some((provider, ids)) = store_order {
                let order = obj_mut(&mut docs.state, "order");
                order.insert(provider.clone(), json!(ids));
            }
            if let Some(Value::Object(lg)) = docs.state.get_mut("lastGood") {
                for (provider, to) in next {
                    if lg.get(provider).and_then(Value::as_str) == Some(id.as_str()) {
                        match to {
                            Some(to) => {
                                lg.insert(provider.clone(), json!(to));
                            }
                            None => {
                                lg.shift_remove(provider);
                            }
                        }
                    }
                }
            }
        }
        LayerEdit::Delete { id } => {
            if let Some(Value::Object(p)) = docs.store.get_mut("profiles") {
                if p.get(id).is_some_and(is_pending_fence) {
                    return Err(StoreError::Fenced(id.clone()));
                }
                p.shift_remove(id);
            }
            remove_from_orders(&mut docs.state, id);
            if let Some(Value::Object(lg)) = docs.state.get_mut("lastGood") {
                lg.retain(|_, v| v.as_str() != Some(id.as_str()));
            }
            if let Some(Value::Object(us)) = docs.state.get_mut("usageStats") {
                us.shift_remove(id);
            }
        }
        LayerEdit::Unblock { id } => {
            super::unblock::clear_in_state(&mut docs.state, id);
        }
    }
    Ok(docs)
}

fn layers_where<F: Fn(&LayerDocs) -> bool>(snap: &Snapshot, f: F) -> Vec<LayerId> {
    snap.layers
        .iter()
        .filter(|(_, d)| f(d))
        .map(|(id, _)| id.clone())
        .collect()
}

fn order_lists(d: &LayerDocs, id: &str) -> bool {
    d.state_map("order").is_some_and(|o| {
        o.values().any(|l| {
            l.as_array()
                .is_some_and(|a| a.iter().any(|x| x.as_str() == Some(id)))
        })
    })
}

fn names_in_last_good(d: &LayerDocs, id: &str) -> bool {
    d.state_map("lastGood")
        .is_some_and(|m| m.values().any(|v| v.as_str() == Some(id)))
}

/// Decide which layers a change touches, from the effective view before it.
pub(crate) fn plan(
    change: &Change,
    snap: &Snapshot,
) -> Result<Vec<(LayerId, LayerEdit)>, StoreError> {
    let shared = || snap.layers.first().map(|(l, _)| l.clone());
    let top = |layers: Vec<LayerId>| layers.into_iter().last().or_else(shared);
    Ok(match change {
        Change::UpsertProfile { id, fields } => {
            let id = id.as_str().to_owned();
            if snap.raw_profile(&id).is_some_and(is_pending_fence) {
                return Err(StoreError::Fenced(id));
            }
            let holder = top(layers_where(snap, |d| {
                d.profiles().is_some_and(|p| p.contains_key(&id))
            }));
            holder
                .map(|l| {
                    (
                        l,
                        LayerEdit::Upsert {
                            id,
                            fields: fields.clone(),
                        },
                    )
                })
                .into_iter()
                .collect()
        }
        Change::SetOrder { provider, ids } => {
            let holder = snap.stored_order(provider).map(|(_, l)| l).or_else(shared);
            let ids = ids.iter().map(|i| i.as_str().to_owned()).collect();
            holder
                .map(|l| {
                    (
                        l,
                        LayerEdit::SetOrder {
                            provider: provider.clone(),
                            ids,
                        },
                    )
                })
                .into_iter()
                .collect()
        }
        // Only the layer the effective order comes from (overlay first), as `openclaw models
        // auth order clear` does: an order in another layer then takes effect.
        Change::ClearOrder { provider } => snap
            .stored_order(provider)
            .map(|(_, l)| {
                (
                    l,
                    LayerEdit::ClearOrder {
                        provider: provider.clone(),
                    },
                )
            })
            .into_iter()
            .collect(),
        Change::Retire { id } => {
            let id = id.as_str().to_owned();
            if snap.raw_profile(&id).is_none() {
                return Err(StoreError::NoSuchProfile(id));
            }
            // lastGood moves to the next profile of that provider's effective order.
            let mut next = Vec::new();
            for (_, d) in &snap.layers {
                for (provider, v) in d.state_map("lastGood").into_iter().flatten() {
                    if v.as_str() == Some(id.as_str()) {
                        let order = snap.effective_order(provider).ids;
                        let pos = order.iter().position(|x| *x == id);
                        let after = pos.map_or(0, |p| p + 1);
                        let candidate = order[after.min(order.len())..]
                            .iter()
                            .chain(order.iter())
                            .find(|x| **x != id && snap.raw_profile(x).is_some())
                            .cloned();
                        next.push((provider.clone(), candidate));
                    }
                }
            }
            let mut edits: Vec<(LayerId, LayerEdit)> =
                layers_where(snap, |d| order_lists(d, &id) || names_in_last_good(d, &id))
                    .into_iter()
                    .map(|l| {
                        (
                            l,
                            LayerEdit::Retire {
                                id: id.clone(),
                                next: next.clone(),
                                store_order: None,
                            },
                        )
                    })
                    .collect();
            // No stored order: the profile is in service through the automatic or configured
            // order, so store that order without it where the store keeps a new order.
            let provider = id.split_once(':').map_or("", |(p, _)| p).to_owned();
            if let (Some(rest), Some(home)) =
                (snap.order_to_store_on_retire(&provider, &id), shared())
                && !rest.is_empty()
            {
                let order = Some((provider, rest));
                match edits.iter_mut().find(|(l, _)| *l == home) {
                    Some((_, LayerEdit::Retire { store_order, .. })) => *store_order = order,
                    _ => edits.insert(
                        0,
                        (
                            home,
                            LayerEdit::Retire {
                                id: id.clone(),
                                next: next.clone(),
                                store_order: order,
                            },
                        ),
                    ),
                }
            }
            edits
        }
        Change::Delete { id } => {
            let id = id.as_str().to_owned();
            if snap.raw_profile(&id).is_none() {
                return Err(StoreError::NoSuchProfile(id));
            }
            if snap.raw_profile(&id).is_some_and(is_pending_fence) {
                return Err(StoreError::Fenced(id));
            }
            layers_where(snap, |d| {
                d.profiles().is_some_and(|p| p.contains_key(&id))
                    || order_lists(d, &id)
                    || names_in_last_good(d, &id)
                    || d.state_map("usageStats")
                        .is_some_and(|u| u.contains_key(&id))
            })
            .into_iter()
            .map(|l| (l, LayerEdit::Delete { id: id.clone() }))
            .collect()
        }
        Change::Unblock { id } => {
            let id = id.as_str().to_owned();
            if snap.raw_profile(&id).is_none() {
                return Err(StoreError::NoSuchProfile(id));
            }
            super::unblock::layers_to_clear(snap, &id)
                .into_iter()
                .map(|l| (l, LayerEdit::Unblock { id: id.clone() }))
                .collect()
        }
    })
}

/// Check the change is visible in the effective view after writing (`before`: the view the
/// change was planned from).
pub(crate) fn verify(change: &Change, before: &Snapshot, after: &Snapshot) -> Result<(), String> {
    match change {
        Change::UpsertProfile { id, fields } => {
            let entry = after
                .raw_profile(id.as_str())
                .ok_or("the profile is missing")?;
            for (k, v) in fields {
                if entry.get(k) != Some(v) {
                    return Err(format!("field `{k}` does not have the written value"));
                }
            }
        }
        Change::SetOrder { provider, ids } => {
            let stored = after.stored_order(provider).map(|(ids, _)| ids);
            let want: Vec<String> = ids.iter().map(|i| i.as_str().to_owned()).collect();
            if stored.as_ref() != Some(&want) {
                return Err(format!("the stored {provider} order differs"));
            }
        }
        Change::ClearOrder { provider } => {
            if let Some((_, owner)) = before.stored_order(provider)
                && let Some((_, d)) = after.layers.iter().find(|(l, _)| *l == owner)
                && d.state_map("order")
                    .is_some_and(|o| o.contains_key(provider))
            {
                return Err(format!("a {provider} order is still stored in {owner}"));
            }
        }
        Change::Retire { id } | Change::Delete { id } => {
            let id = id.as_str();
            if after
                .layers
                .iter()
                .any(|(_, d)| order_lists(d, id) || names_in_last_good(d, id))
            {
                return Err("the profile is still in an order or lastGood".into());
            }
            if matches!(change, Change::Delete { .. }) && after.raw_profile(id).is_some() {
                return Err("the profile is still stored".into());
            }
        }
        Change::Unblock { id } => {
            if !super::unblock::layers_to_clear(after, id.as_str()).is_empty() {
                return Err("the profile still has a blocked, cooldown or disabled window".into());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn docs() -> LayerDocs {
        LayerDocs {
            store: json!({"version": 1, "profiles": {"openai:a": {"type": "oauth", "x": 1}, "openai:b": {"type": "oauth"}}}),
            state: json!({"version": 1, "order": {"openai": ["openai:a", "openai:b"], "other": ["openai:a"]},
                "lastGood": {"openai": "openai:a", "other": "z"}, "usageStats": {"openai:a": {"n": 1}}}),
        }
    }

    #[test]
    fn upsert_merges_and_keeps_unknown_fields() {
        let mut fields = Map::new();
        fields.insert("email".into(), json!("a@example.com"));
        let out = apply_edit(
            &LayerEdit::Upsert {
                id: "openai:a".into(),
                fields,
            },
            docs(),
        )
        .unwrap();
        assert_eq!(
            out.store["profiles"]["openai:a"],
            json!({"type": "oauth", "x": 1, "email": "a@example.com"})
        );
        assert_eq!(out.state, docs().state);
    }

    #[test]
    fn retire_removes_from_every_order_and_repoints_last_good() {
        let next = vec![("openai".to_owned(), Some("openai:b".to_owned()))];
        let out = apply_edit(
            &LayerEdit::Retire {
                id: "openai:a".into(),
                next,
                store_order: None,
            },
            docs(),
        )
        .unwrap();
        assert_eq!(
            out.state["order"],
            json!({"openai": ["openai:b"], "other": []})
        );
        assert_eq!(
            out.state["lastGood"],
            json!({"openai": "openai:b", "other": "z"})
        );
        assert_eq!(out.store, docs().store, "the credential is kept");
    }

    #[test]
    fn delete_removes_every_reference() {
        let out = apply_edit(
            &LayerEdit::Delete {
                id: "openai:a".into(),
            },
            docs(),
        )
        .unwrap();
        assert!(out.store["profiles"].get("openai:a").is_none());
        assert_eq!(out.state["lastGood"], json!({"other": "z"}));
        assert_eq!(out.state["usageStats"], json!({}));
    }

    #[test]
    fn unblock_clears_only_that_entrys_windows() {
        let mut d = docs();
        d.state["usageStats"]["openai:a"] =
            json!({"n": 1, "cooldownUntil": 9, "cooldownReason": "rate_limit", "errorCount": 2});
        d.state["usageStats"]["openai:b"] = json!({"cooldownUntil": 9});
        let out = apply_edit(
            &LayerEdit::Unblock {
                id: "openai:a".into(),
            },
            d.clone(),
        )
        .unwrap();
        let mut want = d;
        want.state["usageStats"]["openai:a"] = json!({"n": 1, "errorCount": 0});
        assert_eq!(
            out, want,
            "unknown fields, other profiles, orders and credentials stay"
        );
    }

    #[test]
    fn a_pending_fence_refuses_upsert() {
        let mut d = docs();
        d.store["profiles"]["openai:a"]["access"] = json!(format!(
            "{}{}:access:{}",
            crate::engine::profile::FENCE_PREFIX,
            "0".repeat(32),
            "1".repeat(64)
        ));
        let err = apply_edit(
            &LayerEdit::Upsert {
                id: "openai:a".into(),
                fields: Map::new(),
            },
            d,
        )
        .unwrap_err();
        assert!(matches!(err, StoreError::Fenced(_)));
    }
}
