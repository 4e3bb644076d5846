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
use serde::Serialize;
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

/// The current layer a backup belongs to (same format, path and scope). A backup of a layer
/// this store does not have (taken before a format migration, or of another agent's overlay)
/// is refused: writing it back would bring a store back the gateway no longer reads.
fn find_layer(store: &Store, b: &Backup) -> Result<LayerId, ChangeError> {
    store
        .layers()
        .into_iter()
        .find(|l| serde_json::to_value(l).ok().as_ref() == Some(&b.layer))
        .ok_or_else(|| ChangeError::BackupOfOtherStore {
            layer: b.layer_label.clone(),
            backup_format: b.format.clone(),
            store_format: store.info().format.as_str().to_owned(),
            store_path: store.info().path.clone(),
        })
}

/// What a restore would do, in facts a chat words itself (the CLI prints the plan instead).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RestorePreview {
    /// The backup's file name.
    pub name: String,
    /// When it was taken (RFC 3339).
    pub created_at: String,
    /// The action it was taken before.
    pub action: String,
    /// The profile that action was about, when the backup records it.
    pub target: Option<String>,
    /// The layer it puts back.
    pub layer: LayerId,
    /// Profiles the layer lacks now: they come back whole.
    pub returning: Vec<String>,
    /// Profiles the layer holds now and the backup does not (logged in since): they go.
    pub leaving: Vec<String>,
    /// Profiles in both whose backup credentials differ: they keep their current ones.
    pub kept_live: Vec<String>,
    /// The Codex provider's order stored in that layer now (`None`: none stored).
    pub order_now: Option<Vec<String>>,
    /// ... and after the restore.
    pub order_after: Option<Vec<String>>,
    /// The layer already matches the backup: a restore writes nothing new.
    pub unchanged: bool,
}

/// A restore worked out, before anything is written.
struct Prepared {
    backup: Backup,
    layer: LayerId,
    backup_docs: LayerDocs,
    current: LayerDocs,
    before: Snapshot,
    docs: LayerDocs,
    kept: Vec<String>,
    changes: Vec<String>,
}

fn prepare(store: &Store, name: &str) -> Result<Prepared, ChangeError> {
    let backup = backup::read(store.state_dir(), name)?;
    let layer = find_layer(store, &backup)?;
    let backup_docs = LayerDocs {
        store: backup
            .store
            .clone()
            .unwrap_or_else(|| LayerDocs::empty().store),
        state: backup
            .state
            .clone()
            .unwrap_or_else(|| LayerDocs::empty().state),
    };
    let current = store.read_layer(&layer).map_err(ChangeError::store)?;
    let before = store.load().map_err(ChangeError::store)?;
    let (docs, kept) = keep_live_credentials(&backup_docs, &current, &before);
    let mut changes = Vec::new();
    diff_paths("", &current.store, &docs.store, &mut changes);
    diff_paths("", &current.state, &docs.state, &mut changes);
    Ok(Prepared {
        backup,
        layer,
        backup_docs,
        current,
        before,
        docs,
        kept,
        changes,
    })
}

fn profile_ids(d: &LayerDocs) -> Vec<String> {
    d.profiles()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

fn order_in(d: &LayerDocs, provider: &str) -> Option<Vec<String>> {
    let list = d.state_map("order")?.get(provider)?.as_array()?;
    Some(
        list.iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
    )
}

/// What restoring the backup `name` would do, without writing anything; refused the same
/// way [`restore`] refuses (no such backup, a layer the store does not have).
pub fn preview(store: &Store, name: &str) -> Result<RestorePreview, ChangeError> {
    let p = prepare(store, name)?;
    let (now, then) = (profile_ids(&p.current), profile_ids(&p.docs));
    let provider = store.codex_provider();
    Ok(RestorePreview {
        name: name.trim().to_owned(),
        created_at: p.backup.created_at,
        action: p.backup.action,
        target: p.backup.target,
        returning: then.iter().filter(|i| !now.contains(i)).cloned().collect(),
        leaving: now.iter().filter(|i| !then.contains(i)).cloned().collect(),
        kept_live: p.kept,
        order_now: order_in(&p.current, provider.as_str()),
        order_after: order_in(&p.docs, provider.as_str()),
        unchanged: p.changes.is_empty(),
        layer: p.layer,
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
    let Prepared {
        backup: b,
        layer,
        backup_docs,
        current,
        before,
        kept,
        changes,
        ..
    } = prepare(store, name)?;
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
        None,
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
