//! `backups restore`: put one layer back as a backup recorded it, through the same steps as
//! every change (preflight, a backup of the current layer, the store engine's own writer,
//! verify that the layer reads back as the backup and no other layer changed).

use super::backup::{self, Backup};
use super::error::ChangeError;
use super::pipeline::{ChangeReport, ExecuteOptions, changed_layers, save_backup};
use super::queue;
use super::verify::diff_paths;
use crate::engine::store::{LayerDocs, LayerId, Store};

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
    let docs = LayerDocs {
        store: b.store.clone().unwrap_or_else(|| LayerDocs::empty().store),
        state: b.state.clone().unwrap_or_else(|| LayerDocs::empty().state),
    };
    let current = store.read_layer(&layer).map_err(ChangeError::store)?;
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
    let mut report = ChangeReport::planned(store, opts, plan, vec![layer.clone()]);
    // Restore always writes directly: the gateway has no command for it.
    report.via_gateway = false;
    if opts.dry_run {
        return Ok(report);
    }
    if !confirm {
        return Err(ChangeError::ConfirmationRequired(report.plan.join("; ")));
    }
    let before = store.load().map_err(ChangeError::store)?;
    report.backups = vec![save_backup(
        store.state_dir(),
        &layer,
        &current,
        opts.action,
    )?];
    if let Some(hook) = opts.before_apply {
        hook();
    }
    store
        .write_layer(&layer, &docs)
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
                    .map(|p| format!("{p} differs from the backup in {l}")),
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
