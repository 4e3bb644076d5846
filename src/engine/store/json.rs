//! The json store: `auth-profiles.json` (`{version, profiles, order?, lastGood?, usageStats?}`)
//! and, since OpenClaw 2026.4.6, `auth-state.json` beside it, whose `order`/`lastGood`/
//! `usageStats` entries win over the profiles file's per provider or profile id (as OpenClaw's
//! doctor imports them: `mergeImportedAuthProfileState`). Writes hold the sidecar lock of
//! `auth-profiles.json` (it covers both files), re-read, then replace each changed file by a
//! temp file in the same directory: write, fsync, rename, fsync the directory, mode 0600.
//! Temp files (`.auth-profiles.json.<pid>.<nonce>.tmp`, `.auth-state.json.<...>.tmp`) that a
//! killed writer left behind are removed under the lock by the next write once they are older
//! than [`STALE_TMP_AGE`] (a live writer holds the lock while its temp file exists, so an old
//! one is never in use).

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Map, Value};

use super::error::StoreError;
use super::layer::{LayerDocs, STATE_KEYS};
use super::lock;

/// How old a leftover temp file must be before a writer removes it.
pub const STALE_TMP_AGE: Duration = Duration::from_secs(60);

/// Remove our own leftover temp files of `file` and its state file older than `max_age`.
/// Best effort: a file that cannot be removed is logged and left.
pub(crate) fn remove_stale_temp_files(file: &Path, max_age: Duration) {
    let Some(dir) = file.parent() else { return };
    let bases: Vec<String> = [file.to_owned(), state_path(file)]
        .iter()
        .filter_map(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .collect();
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        // Only names of our pattern (`.auth-profiles.json.<pid>.<nonce>.tmp`), never a
        // gateway file that merely starts the same way (`.auth-profiles.json.tmp`).
        if !bases
            .iter()
            .any(|b| super::leftovers::is_ours(&name, Some(b)))
        {
            continue;
        }
        let old = entry
            .metadata()
            .ok()
            .filter(fs::Metadata::is_file)
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age >= max_age);
        if old && let Err(e) = fs::remove_file(entry.path()) {
            tracing::warn!(file = %name, error = %e, "could not remove a leftover temp file");
        }
    }
}

/// The state file beside a profiles file.
pub fn state_path(profiles_file: &Path) -> PathBuf {
    profiles_file.with_file_name("auth-state.json")
}

/// Set mode 0600.
pub(crate) fn set_owner_only(path: &Path) -> Result<(), StoreError> {
    fs::set_permissions(path, fs::Permissions::from_mode(0o600))
        .map_err(|e| StoreError::io("set the mode of", path, &e))
}

/// Read a JSON object file; `Ok(None)` when absent.
pub(crate) fn read_object(path: &Path) -> Result<Option<Value>, StoreError> {
    let Some(bytes) = super::bounded::read_file(path)? else {
        return Ok(None);
    };
    let v = super::bounded::parse(path, &bytes)?;
    if !v.is_object() {
        return Err(StoreError::BadField {
            path: path.to_owned(),
            field: "top level".into(),
            expected: "a JSON object",
        });
    }
    Ok(Some(v))
}

/// Read the layer: the profiles file (split into store and state) with the state file's
/// keys on top.
pub(crate) fn read_layer(file: &Path) -> Result<LayerDocs, StoreError> {
    let mut docs = match read_object(file)? {
        Some(v) => LayerDocs::from_single_file(v),
        None => LayerDocs::empty(),
    };
    if let Some(state) = read_object(&state_path(file))? {
        if let (Some(into), Some(from)) = (docs.state.as_object_mut(), state.as_object()) {
            for (k, v) in from {
                // `order`/`lastGood`/`usageStats` merge key by key, the state file winning
                // (OpenClaw's doctor import, `mergeImportedAuthProfileState`); other keys whole.
                match (into.get_mut(k), v) {
                    (Some(Value::Object(base)), Value::Object(over))
                        if STATE_KEYS.contains(&k.as_str()) =>
                    {
                        for (kk, vv) in over {
                            base.insert(kk.clone(), vv.clone());
                        }
                    }
                    _ => {
                        into.insert(k.clone(), v.clone());
                    }
                }
            }
        }
    }
    Ok(docs)
}

/// A legacy state map of the profiles file without the entries whose merged value this
/// change altered (`before` -> `now`) or removed.
fn keep_unchanged_entries(legacy: &Value, before: &Value, now: &Value) -> Value {
    match (legacy, now) {
        (Value::Object(old), Value::Object(now)) => Value::Object(
            old.iter()
                .filter(|(k, _)| {
                    now.get(k.as_str()).is_some() && now.get(k.as_str()) == before.get(k.as_str())
                })
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        _ => legacy.clone(),
    }
}

/// Write `value` to `path` atomically (temp file, fsync, rename, fsync dir, 0600).
pub(crate) fn write_atomic(path: &Path, value: &Value) -> Result<(), StoreError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.{}.tmp", std::process::id(), nonce()));
    let mut text = serde_json::to_string_pretty(value).map_err(|e| StoreError::Io {
        action: "serialise",
        path: path.to_owned(),
        detail: e.to_string(),
    })?;
    text.push('\n');
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)?;
        File::open(dir)?.sync_all()
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(StoreError::io("write", path, &e));
    }
    set_owner_only(path)
}

fn nonce() -> u64 {
    let mut b = [0u8; 8];
    // A collision only makes create_new fail, which is reported, never a lost write.
    let _ = getrandom::fill(&mut b);
    u64::from_le_bytes(b)
}

/// Under the lock: re-read, let `edit` produce new documents (or `None`), write the files
/// that changed. `create` says whether a missing profiles file may be created.
pub(crate) fn write_layer<F>(
    file: &Path,
    wait: Duration,
    create: bool,
    edit: F,
) -> Result<bool, StoreError>
where
    F: FnOnce(LayerDocs) -> Result<Option<LayerDocs>, StoreError>,
{
    if create && let Some(dir) = file.parent().filter(|d| !d.exists()) {
        // An old gateway's agent directory that does not exist yet (forced `--store json`).
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| StoreError::io("create", dir, &e))?;
    }
    let _guard = lock::acquire(file, wait)?;
    remove_stale_temp_files(file, STALE_TMP_AGE);
    let raw_profiles = read_object(file)?;
    let state_file = state_path(file);
    let raw_state = read_object(&state_file)?;
    if raw_profiles.is_none() && !create {
        return Err(StoreError::Missing {
            what: "auth store file",
            path: file.to_owned(),
        });
    }
    let fresh = read_layer(file)?.validate(file)?;
    let Some(new) = edit(fresh.clone())? else {
        return Ok(false);
    };
    if new == fresh {
        return Ok(false);
    }
    match raw_state {
        Some(old_state) => {
            // Split store: state goes to auth-state.json; the profiles file keeps the legacy
            // state entries it had, untouched (the state file wins over them key by key),
            // except those this change altered or removed, so a stale one cannot shine through
            // again (OpenClaw drops an emptied order on import, which would expose it).
            let mut profiles_doc = new.store.clone();
            if let (Some(obj), Some(old)) = (
                profiles_doc.as_object_mut(),
                raw_profiles.as_ref().and_then(Value::as_object),
            ) {
                for k in STATE_KEYS {
                    if let (Some(v), Some(now)) = (old.get(k), new.state.get(k)) {
                        let before = fresh.state.get(k).unwrap_or(&Value::Null);
                        obj.insert(k.into(), keep_unchanged_entries(v, before, now));
                    }
                }
            }
            if Some(&profiles_doc) != raw_profiles.as_ref() {
                write_atomic(file, &profiles_doc)?;
            }
            let mut state_doc = old_state.as_object().cloned().unwrap_or_default();
            merge_state(&mut state_doc, &new.state);
            if Value::Object(state_doc.clone()) != old_state {
                write_atomic(&state_file, &Value::Object(state_doc))?;
            }
        }
        None => write_atomic(file, &new.to_single_file())?,
    }
    Ok(true)
}

/// Copy `new`'s keys into `into`, and drop the state keys `new` no longer has.
fn merge_state(into: &mut Map<String, Value>, new: &Value) {
    let Some(new) = new.as_object() else { return };
    for k in STATE_KEYS {
        if !new.contains_key(k) {
            into.shift_remove(k);
        }
    }
    for (k, v) in new {
        into.insert(k.clone(), v.clone());
    }
}
