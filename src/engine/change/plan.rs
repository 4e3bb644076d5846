//! Which layers a change writes, decided before anything is written: the layers the backup
//! must cover (exactly those, no more) and the plan names; for gateway-native mode, the layers
//! the real `openclaw` writes; and whether the change would write nothing at all (then no
//! backup is taken and the report says so).

use serde_json::Value;

use super::verify;
use crate::engine::store::detect::agent_db_path;
use crate::engine::store::unblock;
use crate::engine::store::{Change, LayerDocs, LayerId, LayerScope, Snapshot, Store, StoreFormat};

pub(super) fn shared_layer(store: &Store) -> Option<LayerId> {
    store.layers().into_iter().next()
}

/// The layers a change will write: those whose documents it touches, and for a new order or
/// profile where none is stored, the shared layer.
pub(super) fn planned_layers(store: &Store, snap: &Snapshot, change: &Change) -> Vec<LayerId> {
    let touches = |d: &LayerDocs| match change {
        // Retire edits a layer only where an order list names the id or lastGood points at
        // it (storing a whole order where none is stored is the home layer's, below).
        Change::Retire { id } => retire_touches(d, id.as_str()),
        Change::Unblock { .. } => false,
        _ => &verify::normalize(change, d) != d,
    };
    let mut out: Vec<LayerId> = snap
        .layers
        .iter()
        .filter(|(_, d)| touches(d))
        .map(|(l, _)| l.clone())
        .collect();
    if let Change::Unblock { id } = change {
        // Only the layer whose entry the gateway reads (see `store::unblock`).
        out = unblock::layers_to_clear(snap, id.as_str());
        out.reverse();
    }
    let needs_home = match change {
        Change::SetOrder { provider, .. } => snap.stored_order(provider).is_none(),
        Change::UpsertProfile { id, .. } => snap.raw_profile(id.as_str()).is_none(),
        Change::Retire { id } => snap
            .order_to_store_on_retire(id.provider_part(), id.as_str())
            .is_some_and(|rest| !rest.is_empty()),
        _ => false,
    };
    if needs_home && matches!(change, Change::Retire { .. }) {
        if let Some(home) = shared_layer(store).filter(|h| !out.contains(h)) {
            out.insert(0, home);
        }
    }
    if out.is_empty() && needs_home {
        out.extend(shared_layer(store));
    }
    if let Change::SetOrder { provider, .. } | Change::ClearOrder { provider } = change {
        // Only the layer that owns the order is written.
        if let Some((_, owner)) = snap.stored_order(provider) {
            out.retain(|l| *l == owner);
        }
    }
    out
}

/// Whether retiring `id` edits this layer: an order list names it or a lastGood points at it.
fn retire_touches(d: &LayerDocs, id: &str) -> bool {
    let named = |v: &Value| v.as_str() == Some(id);
    let in_order = d.state_map("order").is_some_and(|o| {
        o.values()
            .any(|l| l.as_array().is_some_and(|a| a.iter().any(named)))
    });
    let last_good = d
        .state_map("lastGood")
        .is_some_and(|m| m.values().any(named));
    in_order || last_good
}

/// The plan's last line: every layer the change writes, by name (the reader of a plan must
/// not have to guess that a retire writes two databases).
pub(super) fn layers_line(layers: &[LayerId], by: &str) -> String {
    let names: Vec<String> = layers.iter().map(ToString::to_string).collect();
    match names.as_slice() {
        [] => "writes nothing".to_owned(),
        [one] => format!("{by}writes 1 layer: {one}"),
        many => format!("{by}writes {} layers: {}", many.len(), many.join("; ")),
    }
}

/// Where `openclaw` writes: order changes (and retire, an order change there) go to the
/// agent's own database, even for `main`; logout removes references from every layer.
pub(super) fn gateway_layers(
    store: &Store,
    snap: &Snapshot,
    change: &Change,
) -> (Vec<LayerId>, String) {
    match change {
        Change::Delete { id } => {
            // Checked against the real CLI (2026.9.6): logout rewrites exactly the layers
            // that name the id (the profile's layer, an overlay's order or lastGood), and
            // drops the id from openclaw.json `auth.profiles` where it is listed there.
            let layers = planned_layers(store, snap, change);
            let mut note = layers_line(&layers, "via the gateway: `openclaw models auth logout` ");
            if snap
                .config
                .profile_ids_for(id.provider_part())
                .iter()
                .any(|p| p.as_str() == id.as_str())
            {
                note.push_str(&format!(
                    ", and removes {id} from openclaw.json auth.profiles"
                ));
            }
            (layers, note)
        }
        Change::UpsertProfile { .. } => (
            planned_layers(store, snap, change),
            "via the gateway: no command stores a login".into(),
        ),
        Change::Unblock { .. } => (
            planned_layers(store, snap, change),
            "via the gateway: no command clears a block".into(),
        ),
        _ => {
            let overlay = LayerId {
                format: StoreFormat::AgentDb,
                path: agent_db_path(store.state_dir(), store.agent()),
                scope: LayerScope::Overlay {
                    agent: store.agent().to_owned(),
                },
            };
            let note = layers_line(
                std::slice::from_ref(&overlay),
                "via the gateway: `openclaw models auth order` ",
            );
            (vec![overlay], note)
        }
    }
}

/// Why `change` would write nothing, if it would not: a retire of a profile already out of
/// service (no layer names it in an order or lastGood, and the gateway's order skips it), an
/// order clear where no order is stored. Other changes always write.
pub(super) fn nothing_to_change(
    snap: &Snapshot,
    change: &Change,
    planned: &[LayerId],
) -> Option<String> {
    if !planned.is_empty() {
        return None;
    }
    match change {
        Change::Retire { id }
            if !snap
                .effective_order(id.provider_part())
                .ids
                .iter()
                .any(|i| i == id.as_str()) =>
        {
            Some(format!(
                "nothing to change: {id} is already out of service (in no order, not lastGood)"
            ))
        }
        Change::ClearOrder { provider } => {
            Some(format!("nothing to change: no {provider} order is stored"))
        }
        Change::Unblock { id } => Some(format!(
            "nothing to change: {id} has no blocked, cooldown or disabled window"
        )),
        _ => None,
    }
}

pub(super) fn change_provider(change: &Change) -> String {
    match change {
        Change::SetOrder { provider, .. } | Change::ClearOrder { provider } => provider.clone(),
        Change::UpsertProfile { id, .. }
        | Change::Retire { id }
        | Change::Delete { id }
        | Change::Unblock { id } => id.provider_part().to_owned(),
    }
}
