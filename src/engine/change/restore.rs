//! `backups restore`: put one layer back as a backup recorded it, through the same steps as
//! every change (preflight, a backup of the current layer, the store engine's own writer,
//! verify that the layer reads back as intended and no other layer changed).
//!
//! Safety: refresh tokens are single-use and the gateway rotates them, so a backup's tokens
//! may already be used up; writing one back can get the account revoked. A profile that
//! exists now keeps its live `access`/`refresh`/`expires` (fences included); only a profile
//! that is gone comes back whole.

use super::backup::{self, Backup};
use super::error::ChangeError;
use super::pipeline::{ChangeReport, ExecuteOptions, changed_layers, save_backup};
use super::queue;
use super::verify::diff_paths;
use crate::engine::store::{LayerDocs, LayerId, Snapshot, Store};
use serde_json::Value;

/// The credential fields a restore never rolls back.
const LIVE_FIELDS: [&str; 3] = ["access", "refresh", "expires"];

/// The live credential of `id`: this layer's own entry first (what the write replaces), else
/// the effective view (another layer's entry that wins or would be shadowed).
fn live_entry<'a>(fresh: &'a LayerDocs, snap: &'a Snapshot, id: &str) -> Option<&'a Value> {
    fresh
        .profiles()
        .and_then(|p| p.get(id))
        .or_else(|| snap.raw_profile(id))
}

/// The backup's documents with every existing profile's live credential fields kept; returns
/// the ids whose backup credential differed and was therefore not restored.
fn keep_live_credentials(
    backup: &LayerDocs,
    fresh: &LayerDocs,
    snap: &Snapshot,
) -> (LayerDocs, Vec<String>) {
    let mut out = backup.clone();
    let mut kept = Vec::new();
    let Some(profiles) = out.store.get_mut("profiles").and_then(Value::as_object_mut) else {
        return (out, kept);
    };
    for (id, entry) in profiles.iter_mut() {
        let (Some(live), Some(entry)) = (live_entry(fresh, snap, id), entry.as_object_mut()) else {
            continue;
        };
        let mut differed = false;
        for f in LIVE_FIELDS {
            let now = live.get(f);
            if entry.get(f) != now {
                differed = true;
                match now {
                    Some(v) => entry.insert(f.to_owned(), v.clone()),
                    None => entry.remove(f),
                };
            }
        }
        if differed {
            kept.push(id.clone());
        }
    }
    (out, kept)
}

/// The current layer a backup belongs to (same format, path and scope).
fn find_layer(store: &Store, b: &Backup) -> Result<LayerId, ChangeError> {
    store
        .layers()
        .into_iter()
        .find(|l| serde_json::to_value(l).ok().as_ref() == Some(&b.layer))
        .ok_or_else(|| {
            ChangeError::Refused(format!(
                "the backup is of {}, which is not a layer of the store in use ({}): open that store (--store/--agent) to restore it",
                b.layer_label,
                store.info().path.display()
            ))
        })
}

/// Restore the backup `name`. Without `confirm` it refuses with the plan (exit 4); a dry run
/// returns the plan.
pub fn restore(
    store: &Store,
    name: &str,
    confirm: bool,
    opts: &ExecuteOptions<'_>,
) -> Result<ChangeReport, ChangeError> {
    let b = backup::read(store.state_dir(), name)?;
    let layer = find_layer(store, &b)?;
    let backup_docs = LayerDocs {
        store: b.store.clone().unwrap_or_else(|| LayerDocs::empty().store),
        state: b.state.clone().unwrap_or_else(|| LayerDocs::empty().state),
    };
    let current = store.read_layer(&layer).map_err(ChangeError::store)?;
    let before = store.load().map_err(ChangeError::store)?;
    let (docs, kept) = keep_live_credentials(&backup_docs, &current, &before);
    let mut changes = Vec::new();
    diff_paths("", &current.store, &docs.store, &mut changes);
    diff_paths("", &current.state, &docs.state, &mut changes);
    let mut plan = vec![format!(
        "put {layer} back as it was at {} (before `{}`)",
        b.created_at, b.action
    )];
    if changes.is_empty() {
        plan.push("it already matches the backup".into());
    } else {
        plan.extend(changes.iter().map(|c| format!("restore: {c}")));
    }
    plan.extend(kept.iter().map(|id| {
        format!(
            "{id} keeps its current credentials (access, refresh, expires): the backup's may already be used up"
        )
    }));
    let mut report = ChangeReport::planned(store, opts, plan, vec![layer.clone()]);
    // Restore always writes directly: the gateway has no command for it.
    report.via_gateway = false;
    if opts.dry_run {
        return Ok(report);
    }
    if !confirm {
        return Err(ChangeError::ConfirmationRequired(report.plan.join("; ")));
    }
    report.backups = vec![save_backup(
        store.state_dir(),
        &layer,
        &current,
        opts.action,
    )?];
    if let Some(hook) = opts.before_apply {
        hook();
    }
    // Re-apply the rule to the fresh copy under the lock: a refresh made since preflight
    // must survive too.
    let docs = store
        .replace_layer_with(&layer, |fresh| {
            keep_live_credentials(&backup_docs, fresh, &before).0
        })
        .map_err(ChangeError::store)?;
    let after = store.load().map_err(ChangeError::store)?;
    report.written = changed_layers(&before, &after);
    for (l, d) in &after.layers {
        if *l == layer {
            let mut diffs = Vec::new();
            diff_paths("", &docs.store, &d.store, &mut diffs);
            diff_paths("", &docs.state, &d.state, &mut diffs);
            report.differences.extend(
                diffs
                    .into_iter()
                    .map(|p| format!("{p} differs from what was restored in {l}")),
            );
        } else if report.written.contains(l) {
            report.differences.push(format!("{l} changed too"));
        }
    }
    report.verified = report.differences.is_empty();
    if opts.queue_apply {
        report.queued_apply = Some(queue::queue_apply(store.state_dir())?);
    }
    Ok(report)
}
