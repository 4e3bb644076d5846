//! The one path every mutation takes (SPEC section 3): **preflight** (read the effective
//! store, check the targets, say what will change; a dry run stops here), **backup** (the
//! layers about to be written), **apply** (the store engine re-reads under its lock or
//! transaction and edits the fresh copy; or, in gateway-native mode, the real `openclaw`
//! does it), **verify** (read back through the gateway's path: the intended change is there
//! and nothing else changed), then an optional queued gateway restart.

use std::path::Path;

use serde::Serialize;

use super::backup;
use super::error::ChangeError;
use super::files;
use super::gateway::Gateway;
use super::plan::{
    change_provider, gateway_layers, layers_line, nothing_to_change, planned_layers, shared_layer,
};
use super::queue::{self, QueueOutcome};
use super::verify;
use crate::engine::profile::{Fence, ProfileId};
use crate::engine::store::{
    Change, EffectiveOrder, LayerDocs, LayerId, Snapshot, Store, StoreChoice, StoreInfo,
    StoreOptions,
};

/// A callback run between backup and apply. Only tests use it, to change the store behind
/// our back and prove the change is not lost.
pub type Hook<'a> = &'a (dyn Fn() + Sync);

/// How to run one change.
#[derive(Clone, Copy, Default)]
pub struct ExecuteOptions<'a> {
    /// Stop after preflight and write nothing.
    pub dry_run: bool,
    /// The action word for the backup name and report (`order-set`, `retire`, `login`...).
    pub action: &'a str,
    /// Run the real `openclaw` instead of writing ourselves.
    pub via_gateway: bool,
    /// Queue a background gateway restart afterwards.
    pub queue_apply: bool,
    /// Test hook between backup and apply.
    pub before_apply: Option<Hook<'a>>,
}

/// What a change did (or, for a dry run, would do).
#[derive(Debug, Clone, Serialize)]
pub struct ChangeReport {
    /// Always true: failures are errors.
    pub ok: bool,
    /// The action word.
    pub action: String,
    /// Which store.
    pub store: StoreInfo,
    /// Whether this was a dry run (nothing written).
    pub dry_run: bool,
    /// What the change does, one sentence per step.
    pub plan: Vec<String>,
    /// The layers the plan writes.
    pub planned_layers: Vec<LayerId>,
    /// Backup file names taken before writing.
    pub backups: Vec<String>,
    /// The layers actually written.
    pub written: Vec<LayerId>,
    /// Whether `openclaw` did the write.
    pub via_gateway: bool,
    /// Whether the read-back matched exactly the intended change.
    pub verified: bool,
    /// What differs, when not verified.
    pub differences: Vec<String>,
    /// What became of the queued apply request, if one was made.
    pub queued_apply: Option<QueueOutcome>,
    /// Worth knowing after the change, not a failure (e.g. a lastGood only the gateway moves).
    pub notes: Vec<String>,
    /// True when the store already is as the change asks: nothing was written and no
    /// backup taken.
    pub nothing_to_change: bool,
    /// The provider's effective order after an order change or retire, and where it comes
    /// from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_in_effect: Option<EffectiveOrder>,
    /// The profiles in use now that the change takes out of service (an `order set`'s left
    /// out, a retired or deleted profile that was in use), also on a dry run.
    pub leaving_service: Vec<String>,
}

impl ChangeReport {
    /// The report of a change that has been planned and not yet run.
    pub(crate) fn planned(
        store: &Store,
        opts: &ExecuteOptions<'_>,
        plan: Vec<String>,
        planned_layers: Vec<LayerId>,
    ) -> ChangeReport {
        ChangeReport {
            ok: true,
            action: opts.action.to_owned(),
            store: store.info().clone(),
            dry_run: opts.dry_run,
            plan,
            planned_layers,
            backups: Vec::new(),
            written: Vec::new(),
            via_gateway: opts.via_gateway,
            verified: false,
            differences: Vec::new(),
            queued_apply: None,
            notes: Vec::new(),
            nothing_to_change: false,
            order_in_effect: None,
            leaving_service: Vec::new(),
        }
    }
}

fn provider_of(id: &ProfileId) -> String {
    id.provider_part().to_owned()
}

/// Check the targets against the effective view and describe the change.
fn preflight(store: &Store, snap: &Snapshot, change: &Change) -> Result<Vec<String>, ChangeError> {
    let exists = |id: &ProfileId| snap.raw_profile(id.as_str()).is_some();
    let refuse_fence = |id: &ProfileId| match snap.profile(id).map(|p| p.fence) {
        Some(Fence::Refreshing) => Err(ChangeError::Fenced(id.to_string())),
        _ => Ok(()),
    };
    let mut plan = Vec::new();
    match change {
        Change::UpsertProfile { id, .. } => {
            refuse_fence(id)?;
            plan.push(if exists(id) {
                format!("update the credential of {id}")
            } else {
                format!("add profile {id}")
            });
        }
        Change::SetOrder { provider, ids } => {
            let target = match snap.stored_order(provider) {
                Some((_, layer)) => layer.to_string(),
                None => {
                    shared_layer(store).map_or_else(|| "the store".to_owned(), |l| l.to_string())
                }
            };
            plan.extend(super::order_plan::plan_set_order(
                snap, provider, ids, &target,
            )?);
        }
        Change::ClearOrder { provider } => match snap.stored_order(provider) {
            Some((_, layer)) => {
                plan.push(format!("remove the stored {provider} order from {layer}"));
                let next = order_after_clear(snap, provider, &layer);
                plan.push(format!(
                    "the gateway then follows the {}: {}",
                    next.source.describe(),
                    next.ids.join(", ")
                ));
            }
            None => plan.push(format!("no {provider} order is stored: nothing to remove")),
        },
        Change::Retire { id } => {
            if !exists(id) {
                return Err(ChangeError::UnknownProfile(id.to_string()));
            }
            refuse_fence(id)?;
            let p = provider_of(id);
            match snap.order_to_store_on_retire(&p, id.as_str()) {
                Some(rest) if rest.is_empty() => {
                    return Err(ChangeError::Refused(format!(
                        "{id} is the only profile the gateway would use for {p}: log another one in first, or delete it"
                    )));
                }
                Some(rest) => {
                    let home = shared_layer(store)
                        .map_or_else(|| "the store".to_owned(), |l| l.to_string());
                    plan.push(format!(
                        "no {p} order is stored (the gateway follows {}): store the order {} in {home}, which takes {id} out of service (its credential is kept)",
                        after_clear_source(snap, &p),
                        rest.join(", ")
                    ));
                }
                None if snap
                    .stored_order_left_after_retire(&p, id.as_str())
                    .is_empty() =>
                {
                    return Err(ChangeError::Refused(format!(
                        "{id} is the last profile of the stored {p} order: without it the gateway would fall back to using every stored profile, retired ones too; log another one in first, set the order you want with `codex-profiler order set`, or delete it"
                    )));
                }
                None => plan.push(format!(
                    "remove {id} from the {p} order (its credential is kept)"
                )),
            }
            if snap.last_good(&p).as_deref() == Some(id.as_str()) {
                plan.push(format!("repoint lastGood away from {id}"));
            }
        }
        Change::Delete { id } => {
            if !exists(id) {
                return Err(ChangeError::UnknownProfile(id.to_string()));
            }
            refuse_fence(id)?;
            plan.push(format!(
                "delete the credential of {id} and its order, lastGood and usageStats entries"
            ));
        }
        Change::Unblock { id } => {
            if !exists(id) {
                return Err(ChangeError::UnknownProfile(id.to_string()));
            }
            plan.extend(super::unblock::plan_lines(snap, id));
        }
    }
    Ok(plan)
}

/// The effective order once `layer`'s order for `provider` is removed (another layer's
/// order, the config or the automatic order).
fn order_after_clear(snap: &Snapshot, provider: &str, layer: &LayerId) -> EffectiveOrder {
    let layers = snap
        .layers
        .iter()
        .map(|(l, d)| {
            let mut d = d.clone();
            if l == layer
                && let Some(o) = d.state.get_mut("order").and_then(|o| o.as_object_mut())
            {
                o.shift_remove(provider);
            }
            (l.clone(), d)
        })
        .collect();
    Snapshot::build(
        snap.info.clone(),
        layers,
        snap.config.clone(),
        snap.read_at_ms,
    )
    .effective_order(provider)
}

/// Where the order comes from once no order is stored (the next rule of the precedence).
fn after_clear_source(snap: &Snapshot, provider: &str) -> String {
    if snap.config.order_for(provider).is_some() {
        "openclaw.json auth.order".into()
    } else if !snap.config.profile_ids_for(provider).is_empty() {
        "openclaw.json auth.profiles (hides other stored profiles)".into()
    } else {
        "the automatic order (every stored profile)".into()
    }
}

/// The profile a change is about, recorded in its backup (an order change names many).
fn change_target(change: &Change) -> Option<&str> {
    match change {
        Change::UpsertProfile { id, .. }
        | Change::Retire { id }
        | Change::Delete { id }
        | Change::Unblock { id } => Some(id.as_str()),
        Change::SetOrder { .. } | Change::ClearOrder { .. } => None,
    }
}

/// Save a backup of each layer, returning the file names.
fn back_up(
    store: &Store,
    layers: &[LayerId],
    action: &str,
    target: Option<&str>,
) -> Result<Vec<String>, ChangeError> {
    let mut names = Vec::new();
    for layer in layers {
        let docs = store.read_layer(layer).map_err(ChangeError::store)?;
        names.push(save_backup(
            store.state_dir(),
            layer,
            &docs,
            action,
            target,
        )?);
    }
    Ok(names)
}

/// Save one layer's documents as a backup, with the profile the change is about; returns its
/// file name.
pub(crate) fn save_backup(
    state_dir: &Path,
    layer: &LayerId,
    docs: &LayerDocs,
    action: &str,
    target: Option<&str>,
) -> Result<String, ChangeError> {
    let mut rec = backup::record(
        action,
        layer.format.as_str(),
        &layer.path,
        serde_json::to_value(layer).unwrap_or_default(),
        &layer.to_string(),
        Some(docs.store.clone()),
        Some(docs.state.clone()),
    );
    rec.target = target.map(str::to_owned);
    let path = backup::save(state_dir, &rec)?;
    Ok(path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default())
}

/// Run one change through preflight, backup, apply and verify.
pub fn execute(
    store: &Store,
    change: Change,
    opts: &ExecuteOptions<'_>,
) -> Result<ChangeReport, ChangeError> {
    let snap = store.load().map_err(ChangeError::store)?;
    let mut plan = preflight(store, &snap, &change)?;
    let direct = planned_layers(store, &snap, &change);
    if let Some(why) = nothing_to_change(&snap, &change, &direct) {
        // Nothing would be written: no backup, no apply, and the report says so (instead of
        // the steps preflight described, which would all be no-ops).
        let mut report = ChangeReport::planned(store, opts, vec![why], Vec::new());
        report.nothing_to_change = true;
        report.verified = true;
        report.order_in_effect = Some(snap.effective_order(&change_provider(&change)));
        return Ok(report);
    }
    let planned = if opts.via_gateway {
        let (layers, note) = gateway_layers(store, &snap, &change);
        plan.push(note);
        layers
    } else {
        plan.push(layers_line(&direct, ""));
        direct
    };
    let mut report = ChangeReport::planned(store, opts, plan, planned.clone());
    report.leaving_service = super::order_plan::leaving_service(&snap, &change);
    if opts.dry_run {
        return Ok(report);
    }
    files::sweep_own(store.state_dir());
    let gateway = if opts.via_gateway {
        Some(Gateway::locate(store.state_dir(), store.agent())?)
    } else {
        None
    };
    // A layer `openclaw` is about to create has nothing to back up yet.
    let existing: Vec<LayerId> = planned
        .iter()
        .filter(|l| store.layers().contains(l))
        .cloned()
        .collect();
    report.backups = back_up(store, &existing, opts.action, change_target(&change))?;
    if let Some(hook) = opts.before_apply {
        hook();
    }
    let (before, after, written) = match &gateway {
        None => {
            let applied = store.apply(&change).map_err(ChangeError::store)?;
            (applied.before, applied.after, applied.written)
        }
        Some(gw) => {
            let before = store.load().map_err(ChangeError::store)?;
            run_via_gateway(gw, &before, &change)?;
            // `openclaw` may have created an overlay we did not have: open afresh to see it.
            let fresh = reopen(store)?;
            let after = fresh.load().map_err(ChangeError::store)?;
            let written = changed_layers(&before, &after);
            (before, after, written)
        }
    };
    report.written = written;
    let found = verify::intended_missing(&change, &before, &after, opts.via_gateway);
    report.differences = found.differences;
    report.notes = found.notes;
    report
        .differences
        .extend(verify::unintended(&change, &before.layers, &after.layers));
    if let Change::ClearOrder { provider } | Change::SetOrder { provider, .. } = &change {
        report.order_in_effect = Some(after.effective_order(provider));
    }
    if let Change::Retire { id } = &change {
        report.order_in_effect = Some(after.effective_order(id.provider_part()));
    }
    report.verified = report.differences.is_empty();
    if opts.queue_apply {
        report.queued_apply = Some(queue::queue_apply(store.state_dir())?);
    }
    Ok(report)
}

/// The layers whose documents differ between two reads.
pub(crate) fn changed_layers(before: &Snapshot, after: &Snapshot) -> Vec<LayerId> {
    after
        .layers
        .iter()
        .filter(|(l, d)| before.layers.iter().find(|(x, _)| x == l).map(|(_, b)| b) != Some(d))
        .map(|(l, _)| l.clone())
        .collect()
}

/// The same store, detected again (gateway-native writes can add an agent overlay).
fn reopen(store: &Store) -> Result<Store, ChangeError> {
    Store::open(StoreOptions {
        state_dir: store.state_dir().to_path_buf(),
        agent: store.agent().to_owned(),
        choice: StoreChoice::Auto,
        auth_path: None,
    })
    .map_err(ChangeError::store)
}

fn run_via_gateway(gw: &Gateway, snap: &Snapshot, change: &Change) -> Result<(), ChangeError> {
    match change {
        Change::SetOrder { provider, ids } => gw.order_set(provider, ids).map(drop),
        Change::ClearOrder { provider } => gw.order_clear(provider).map(drop),
        Change::Retire { id } => {
            let p = provider_of(id);
            // Every profile the order names stays (skipped ones too), only `id` leaves.
            let rest: Vec<ProfileId> = snap
                .effective_order(&p)
                .members()
                .iter()
                .filter(|i| i.as_str() != id.as_str())
                .filter_map(|i| ProfileId::parse(i).ok())
                .collect();
            if rest.is_empty() {
                return Err(ChangeError::Refused(format!(
                    "{id} is the only profile in the {p} order: the gateway cannot store an empty order, so retire it without --via-gateway"
                )));
            }
            gw.order_set(&p, &rest).map(drop)
        }
        Change::Delete { id } => gw.logout(id).map(drop),
        Change::UpsertProfile { .. } => Err(ChangeError::Refused(
            "the gateway has no command to store a login: run it without --via-gateway".into(),
        )),
        Change::Unblock { .. } => Err(ChangeError::Refused(
            "the gateway has no command to clear a block: run it without --via-gateway".into(),
        )),
    }
}
