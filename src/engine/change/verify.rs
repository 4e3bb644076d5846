//! Verification after a write: the intended change must be in the effective view read back
//! through the gateway's path, and every layer's documents, minus what the change may touch,
//! must be exactly what they were. Differences are named by key path, never by value (values
//! hold tokens).

use serde_json::{Map, Value};

use crate::engine::store::{Change, LayerDocs, LayerId, Snapshot, unblock};

/// Remove from a layer's documents every part `change` may legitimately alter, so what is
/// left must compare equal before and after.
pub fn normalize(change: &Change, docs: &LayerDocs) -> LayerDocs {
    let mut d = docs.clone();
    match change {
        Change::UpsertProfile { id, .. } => {
            remove_in(&mut d.store, "profiles", id.as_str());
        }
        Change::SetOrder { provider, .. } | Change::ClearOrder { provider } => {
            remove_in(&mut d.state, "order", provider);
        }
        Change::Retire { id } => {
            drop_references(&mut d.state, id.as_str());
            // Where no order was stored, retire stores the effective order without the id
            // (checked by `intended_missing`: the id is out of the effective order).
            remove_in(&mut d.state, "order", id.provider_part());
        }
        Change::Delete { id } => {
            remove_in(&mut d.store, "profiles", id.as_str());
            drop_references(&mut d.state, id.as_str());
            remove_in(&mut d.state, "usageStats", id.as_str());
        }
        Change::Unblock { id } => {
            // Idempotent: the entry as clearing leaves it, before and after alike.
            unblock::clear_in_state(&mut d.state, id.as_str());
        }
    }
    // An emptied map and a missing one mean the same to the gateway (a layer created by the
    // change starts without them).
    for doc in [&mut d.store, &mut d.state] {
        if let Some(o) = doc.as_object_mut() {
            o.retain(|k, v| k == "profiles" || v.as_object().is_none_or(|m| !m.is_empty()));
        }
    }
    d
}

fn remove_in(doc: &mut Value, map: &str, key: &str) {
    if let Some(m) = doc.get_mut(map).and_then(Value::as_object_mut) {
        m.shift_remove(key);
    }
}

/// Take `id` out of every order list and drop the `lastGood` entries of its provider and any
/// pointing at it (the change may repoint them, and the new pick is the store's choice).
fn drop_references(state: &mut Value, id: &str) {
    let provider = id.split_once(':').map_or("", |(p, _)| p);
    if let Some(orders) = state.get_mut("order").and_then(Value::as_object_mut) {
        for list in orders.values_mut() {
            if let Some(a) = list.as_array_mut() {
                a.retain(|v| v.as_str() != Some(id));
            }
        }
    }
    if let Some(lg) = state.get_mut("lastGood").and_then(Value::as_object_mut) {
        let pointing: Vec<String> = lg
            .iter()
            .filter(|(k, v)| v.as_str() == Some(id) || k.as_str() == provider)
            .map(|(k, _)| k.clone())
            .collect();
        for k in pointing {
            lg.shift_remove(&k);
        }
    }
}

/// Whether a layer's documents mention `id` anywhere the gateway reads (profile, order,
/// lastGood, usageStats).
pub fn references(docs: &LayerDocs, id: &str) -> bool {
    let in_map = |doc: &Value, map: &str| doc.get(map).and_then(|m| m.get(id)).is_some();
    let in_order = docs
        .state_map("order")
        .is_some_and(|o| o.values().any(|l| list_has(l, id)));
    let last_good = docs
        .state_map("lastGood")
        .is_some_and(|m| m.values().any(|v| v.as_str() == Some(id)));
    in_map(&docs.store, "profiles") || in_map(&docs.state, "usageStats") || in_order || last_good
}

fn list_has(list: &Value, id: &str) -> bool {
    list.as_array()
        .is_some_and(|a| a.iter().any(|v| v.as_str() == Some(id)))
}

/// Key paths where `a` and `b` differ (`profiles.openai:x`, `order.openai`), values never shown.
pub fn diff_paths(prefix: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => diff_maps(prefix, x, y, out),
        _ if a == b => {}
        _ => out.push(if prefix.is_empty() {
            "(whole document)".into()
        } else {
            prefix.into()
        }),
    }
}

fn diff_maps(prefix: &str, x: &Map<String, Value>, y: &Map<String, Value>, out: &mut Vec<String>) {
    let join = |k: &str| {
        if prefix.is_empty() {
            k.to_owned()
        } else {
            format!("{prefix}.{k}")
        }
    };
    for (k, v) in x {
        match y.get(k) {
            None => out.push(format!("{} removed", join(k))),
            Some(w) => {
                // Below a profile entry, name only the entry: its fields may be secrets' names.
                if prefix == "profiles" {
                    if v != w {
                        out.push(format!("{} changed", join(k)));
                    }
                } else {
                    diff_paths(&join(k), v, w, out);
                }
            }
        }
    }
    for k in y.keys() {
        if !x.contains_key(k) {
            out.push(format!("{} added", join(k)));
        }
    }
}

/// What changed in the layers beyond `change`, as sentences. Layers missing on either side
/// are compared with empty documents.
pub fn unintended(
    change: &Change,
    before: &[(LayerId, LayerDocs)],
    after: &[(LayerId, LayerDocs)],
) -> Vec<String> {
    let empty = LayerDocs::empty();
    let mut out = Vec::new();
    let mut ids: Vec<&LayerId> = before.iter().map(|(l, _)| l).collect();
    for (l, _) in after {
        if !ids.contains(&l) {
            ids.push(l);
        }
    }
    let find = |set: &[(LayerId, LayerDocs)], l: &LayerId| {
        set.iter().find(|(x, _)| x == l).map(|(_, d)| d.clone())
    };
    for layer in ids {
        let b = normalize(
            change,
            &find(before, layer).unwrap_or_else(|| empty.clone()),
        );
        let a = normalize(change, &find(after, layer).unwrap_or_else(|| empty.clone()));
        let mut paths = Vec::new();
        diff_paths("", &b.store, &a.store, &mut paths);
        diff_paths("", &b.state, &a.state, &mut paths);
        for p in paths {
            out.push(format!("{p} in {layer}"));
        }
    }
    out
}

/// What verification found: `differences` fail it, `notes` are worth saying and do not.
#[derive(Debug, Default)]
pub struct Findings {
    /// Misses of the intended change, as sentences.
    pub differences: Vec<String>,
    /// Leftovers that do not change what the gateway uses.
    pub notes: Vec<String>,
}

fn order_entry<'a>(layers: &'a [(LayerId, LayerDocs)], l: &LayerId, p: &str) -> Option<&'a Value> {
    layers
        .iter()
        .find(|(x, _)| x == l)
        .and_then(|(_, d)| d.state_map("order"))
        .and_then(|o| o.get(p))
}

/// Whether the intended change is in the effective view (`before`: the view the change was
/// planned from). In gateway-native mode a retire is what `openclaw` does: the overlay's order
/// without the profile; what the shared layer still says about it is a note.
pub fn intended_missing(
    change: &Change,
    before: &Snapshot,
    after: &Snapshot,
    via_gateway: bool,
) -> Findings {
    let mut found = Findings::default();
    if let Change::ClearOrder { provider } = change {
        // Only the layer the order came from is cleared; another layer's order stays.
        let owner = before.stored_order(provider).map(|(_, l)| l);
        for (l, _) in &after.layers {
            let (was, now) = (
                order_entry(&before.layers, l, provider),
                order_entry(&after.layers, l, provider),
            );
            if Some(l) == owner.as_ref() {
                if now.is_some() {
                    found
                        .differences
                        .push(format!("a {provider} order is still stored in {l}"));
                }
            } else if was != now {
                found.differences.push(format!(
                    "the {provider} order in {l} changed too (only the effective order's layer is cleared)"
                ));
            }
        }
        return found;
    }
    if let (Change::Retire { id }, true) = (change, via_gateway) {
        let p = id.provider_part();
        if after.raw_profile(id.as_str()).is_none() {
            found
                .differences
                .push(format!("the credential of {id} is gone (retire keeps it)"));
        }
        if after
            .effective_order(p)
            .ids
            .iter()
            .any(|x| x == id.as_str())
        {
            found
                .differences
                .push(format!("{id} is still in the effective {p} order"));
        }
        for (layer, docs) in &after.layers {
            if docs
                .state_map("lastGood")
                .is_some_and(|m| m.values().any(|v| v.as_str() == Some(id.as_str())))
            {
                found.notes.push(format!(
                    "lastGood still names {id} in {layer} (the gateway has no command to change it; it moves on after its next success)"
                ));
            }
        }
        return found;
    }
    found.differences = missing(change, after);
    found
}

fn missing(change: &Change, after: &Snapshot) -> Vec<String> {
    let mut out = Vec::new();
    match change {
        Change::UpsertProfile { id, fields } => match after.raw_profile(id.as_str()) {
            None => out.push(format!("profile {id} is not in the store")),
            Some(entry) => {
                for (k, v) in fields {
                    if entry.get(k) != Some(v) {
                        out.push(format!("field {k} of {id} was not written"));
                    }
                }
            }
        },
        Change::SetOrder { provider, ids } => {
            let want: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
            match after.stored_order(provider) {
                Some((got, _)) if got == want => {}
                Some((got, layer)) => out.push(format!(
                    "the stored {provider} order in {layer} is {} instead of {}",
                    got.join(", "),
                    want.join(", ")
                )),
                None => out.push(format!("no {provider} order is stored")),
            }
        }
        Change::ClearOrder { .. } => {}
        Change::Retire { id } => {
            if after.raw_profile(id.as_str()).is_none() {
                out.push(format!("the credential of {id} is gone (retire keeps it)"));
            }
            let p = id.provider_part();
            if after
                .effective_order(p)
                .ids
                .iter()
                .any(|x| x == id.as_str())
            {
                out.push(format!("{id} is still in the effective {p} order"));
            }
            for (layer, docs) in &after.layers {
                if docs
                    .state_map("order")
                    .is_some_and(|o| o.values().any(|l| list_has(l, id.as_str())))
                {
                    out.push(format!("{id} is still in an order in {layer}"));
                }
                if docs
                    .state_map("lastGood")
                    .is_some_and(|m| m.values().any(|v| v.as_str() == Some(id.as_str())))
                {
                    out.push(format!("lastGood still points to {id} in {layer}"));
                }
            }
        }
        Change::Delete { id } => {
            for (layer, docs) in &after.layers {
                if references(docs, id.as_str()) {
                    out.push(format!("{id} is still referenced in {layer}"));
                }
            }
        }
        Change::Unblock { id } => {
            for layer in unblock::layers_to_clear(after, id.as_str()) {
                out.push(format!(
                    "{id} still has a blocked, cooldown or disabled window in {layer}"
                ));
            }
            if after.raw_profile(id.as_str()).is_none() {
                out.push(format!("the credential of {id} is gone (unblock keeps it)"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::profile::ProfileId;
    use serde_json::json;

    fn docs(store: Value, state: Value) -> LayerDocs {
        LayerDocs { store, state }
    }

    #[test]
    fn retire_normalization_ignores_only_its_references() {
        let id = ProfileId::parse("openai:a").unwrap();
        let before = docs(
            json!({"profiles": {"openai:a": {"x": 1}, "openai:b": {"x": 2}}}),
            json!({"order": {"openai": ["openai:a", "openai:b"]}, "lastGood": {"openai": "openai:a"}, "usageStats": {"openai:a": {"errorCount": 1}}}),
        );
        let after = docs(
            json!({"profiles": {"openai:a": {"x": 1}, "openai:b": {"x": 2}}}),
            json!({"order": {"openai": ["openai:b"]}, "lastGood": {"openai": "openai:b"}, "usageStats": {"openai:a": {"errorCount": 1}}}),
        );
        let ch = Change::Retire { id };
        assert_eq!(normalize(&ch, &before), normalize(&ch, &after));
        let mut other = after.clone();
        other.state["usageStats"]["openai:a"]["errorCount"] = json!(2);
        other.store["profiles"]["openai:b"]["x"] = json!(3);
        let mut paths = Vec::new();
        let (b, a) = (normalize(&ch, &before), normalize(&ch, &other));
        diff_paths("", &b.store, &a.store, &mut paths);
        diff_paths("", &b.state, &a.state, &mut paths);
        assert_eq!(
            paths,
            vec![
                "profiles.openai:b changed",
                "usageStats.openai:a.errorCount"
            ]
        );
    }

    #[test]
    fn diff_never_shows_values() {
        let mut out = Vec::new();
        diff_paths(
            "",
            &json!({"profiles": {"openai:a": {"access": "SECRET1"}}}),
            &json!({"profiles": {"openai:a": {"access": "SECRET2"}, "openai:n": {}}}),
            &mut out,
        );
        let text = out.join(" ");
        assert!(!text.contains("SECRET"));
        assert!(!text.contains("access"));
        assert_eq!(
            out,
            vec!["profiles.openai:a changed", "profiles.openai:n added"]
        );
    }

    #[test]
    fn references_cover_every_place() {
        let d = docs(
            json!({"profiles": {}}),
            json!({"lastGood": {"openai": "openai:a"}}),
        );
        assert!(references(&d, "openai:a"));
        assert!(!references(&d, "openai:b"));
    }
}
