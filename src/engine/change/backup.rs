//! Backups: before every write, the layer about to be written is saved to
//! `<state>/codex-profiler/backups/<UTC stamp>-<action>.json` (mode 0600, owner-only folder,
//! newest [`KEEP`] kept). A backup records the store format, the layer's path and id, and both
//! of its documents (profiles and state) exactly as parsed, so `backups restore` can put the
//! layer back with the store engine's own writer.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::ChangeError;
use super::files::{create_private_atomic, ensure_private_dir, now_ms, own_dir};
use crate::engine::health::iso_ms;

/// How many backups are kept.
pub const KEEP: usize = 50;
/// The `kind` every backup file carries.
pub const BACKUP_KIND: &str = "codex-profiler-backup";

/// One backup file's content. Its `Debug` leaves out `store` and `state`: they are the
/// layer's raw documents, tokens included.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Backup {
    /// Always [`BACKUP_KIND`].
    pub kind: String,
    /// File format version (1).
    pub version: u32,
    /// RFC 3339 time it was taken.
    pub created_at: String,
    /// The action it was taken before (`order-set`, `retire`, `delete`, `restore`, `login`).
    pub action: String,
    /// Store format of the layer (`state-db`, `agent-db`, `json`).
    pub format: String,
    /// The layer's file or database.
    pub path: PathBuf,
    /// The layer's id, as the store engine names it.
    pub layer: Value,
    /// A short human label of the layer.
    pub layer_label: String,
    /// The profiles document, if the layer had one.
    pub store: Option<Value>,
    /// The state document (order, lastGood, usageStats), if the layer had one.
    pub state: Option<Value>,
    /// The profile the change was about (`retire`, `delete`, `login`, `unblock`), when it
    /// named one; absent in backups from before this field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

impl std::fmt::Debug for Backup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = |v: &Option<Value>| v.as_ref().map(|_| "[REDACTED: raw layer document]");
        f.debug_struct("Backup")
            .field("kind", &self.kind)
            .field("version", &self.version)
            .field("created_at", &self.created_at)
            .field("action", &self.action)
            .field("format", &self.format)
            .field("path", &self.path)
            .field("layer", &self.layer)
            .field("layer_label", &self.layer_label)
            .field("target", &self.target)
            .field("store", &hidden(&self.store))
            .field("state", &hidden(&self.state))
            .finish()
    }
}

/// A line of `backups list`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BackupEntry {
    /// File name, what `backups restore` takes.
    pub name: String,
    /// When it was taken.
    pub created_at: String,
    /// Before which action.
    pub action: String,
    /// Store format.
    pub format: String,
    /// Which layer.
    pub layer: String,
    /// The layer's path.
    pub path: PathBuf,
    /// The profile the change was about, when the backup records one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

/// `<state>/codex-profiler/backups`, created owner-only if missing (for writing).
pub fn backups_dir(state_dir: &Path) -> Result<PathBuf, ChangeError> {
    ensure_private_dir(&own_dir(state_dir)?.join("backups"))
}

/// `<state>/codex-profiler/backups`, for reading: nothing is created (listing backups on a
/// machine without OpenClaw must leave no folder behind).
fn backups_path(state_dir: &Path) -> PathBuf {
    state_dir.join("codex-profiler").join("backups")
}

/// A file-name-safe version of an action word.
fn slug(action: &str) -> String {
    let s: String = action
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let s = s.trim_matches('-').to_owned();
    if s.is_empty() { "change".to_owned() } else { s }
}

/// Save `backup` and prune to the newest [`KEEP`]; returns the file's path.
///
/// The name is `<UTC stamp, ms>-<action>.json`, or `...-<action>-<n>.json` when another
/// backup (another process, the same millisecond) took it first: the file is created
/// exclusively, so two backups never overwrite each other. Pruning never fails the change
/// (the backup it protects is already safe): a problem there is logged as a warning.
pub fn save(state_dir: &Path, backup: &Backup) -> Result<PathBuf, ChangeError> {
    let dir = backups_dir(state_dir)?;
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%3fZ").to_string();
    let base = format!("{stamp}-{}", slug(&backup.action));
    let bytes = serde_json::to_vec_pretty(backup).map_err(|e| ChangeError::BadFile {
        kind: "backup",
        path: dir.join(format!("{base}.json")),
        reason: e.to_string(),
    })?;
    let mut saved = None;
    for n in 1..=MAX_SAME_NAME {
        let path = if n == 1 {
            dir.join(format!("{base}.json"))
        } else {
            dir.join(format!("{base}-{n}.json"))
        };
        if create_private_atomic(&path, &bytes)? {
            saved = Some(path);
            break;
        }
    }
    let path = saved.ok_or_else(|| ChangeError::BadFile {
        kind: "backup",
        path: dir.join(format!("{base}.json")),
        reason: format!("{MAX_SAME_NAME} backups already carry this name"),
    })?;
    if let Err(e) = prune(&dir, KEEP) {
        tracing::warn!(error = %e, "could not prune old backups; the change goes on");
    }
    Ok(path)
}

/// How many backups of one action in one millisecond get a name before we give up.
const MAX_SAME_NAME: usize = 1000;

/// A new backup record for `action`, stamped now.
pub fn record(
    action: &str,
    format: &str,
    path: &Path,
    layer: Value,
    layer_label: &str,
    store: Option<Value>,
    state: Option<Value>,
) -> Backup {
    Backup {
        kind: BACKUP_KIND.to_owned(),
        version: 1,
        created_at: iso_ms(now_ms()).unwrap_or_default(),
        action: action.to_owned(),
        format: format.to_owned(),
        path: path.to_path_buf(),
        layer,
        layer_label: layer_label.to_owned(),
        store,
        state,
        target: None,
    }
}

/// The sort key of a backup name: its stem, then its collision number (`-2`, `-3`...), so a
/// later backup of the same millisecond sorts after the first.
fn order_key(name: &str) -> (String, u32) {
    let stem = name.strip_suffix(".json").unwrap_or(name);
    match stem.rsplit_once('-') {
        Some((head, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
            (head.to_owned(), n.parse().unwrap_or(1))
        }
        _ => (stem.to_owned(), 1),
    }
}

/// The backup file names in `dir`, newest first; none when the folder does not exist.
fn names(dir: &Path) -> Result<Vec<String>, ChangeError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(ChangeError::io("read", dir, e)),
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.ends_with(".json") && !n.starts_with('.'))
        .collect();
    // Names start with a UTC stamp: lexical order is time order. Newest first.
    names.sort_by_cached_key(|n| order_key(n));
    names.reverse();
    Ok(names)
}

/// Remove all but the newest `keep`. Concurrent writers prune the same files: one already
/// removed by another is success.
fn prune(dir: &Path, keep: usize) -> Result<(), ChangeError> {
    remove_oldest(dir, names(dir)?, keep)
}

/// Remove the entries of `listed` (newest first) after the first `keep`. The listing may be
/// out of date by the time a file is removed: another writer pruning the same folder.
fn remove_oldest(dir: &Path, listed: Vec<String>, keep: usize) -> Result<(), ChangeError> {
    for old in listed.into_iter().skip(keep) {
        let p = dir.join(&old);
        match fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(ChangeError::io("remove", &p, e)),
        }
    }
    Ok(())
}

/// Every backup, newest first. Files that are not our backups are listed as unreadable
/// rather than hidden.
pub fn list(state_dir: &Path) -> Result<Vec<BackupEntry>, ChangeError> {
    let dir = backups_path(state_dir);
    let mut out = Vec::new();
    for name in names(&dir)? {
        let entry = match read_path(&dir.join(&name)) {
            Ok(b) => BackupEntry {
                name,
                created_at: b.created_at,
                action: b.action,
                format: b.format,
                layer: b.layer_label,
                path: b.path,
                target: b.target,
            },
            Err(_) => BackupEntry {
                name,
                created_at: String::new(),
                action: "unreadable".to_owned(),
                format: String::new(),
                layer: String::new(),
                path: PathBuf::new(),
                target: None,
            },
        };
        out.push(entry);
    }
    Ok(out)
}

/// Read the backup called `name` (a bare file name, with or without `.json`).
pub fn read(state_dir: &Path, name: &str) -> Result<Backup, ChangeError> {
    let name = name.trim();
    if name.is_empty() || name.contains('/') || name.contains("..") || name.starts_with('.') {
        return Err(ChangeError::NoSuchBackup(name.chars().take(80).collect()));
    }
    let file = if name.ends_with(".json") {
        name.to_owned()
    } else {
        format!("{name}.json")
    };
    let path = backups_path(state_dir).join(&file);
    if !path.is_file() {
        return Err(ChangeError::NoSuchBackup(name.to_owned()));
    }
    read_path(&path)
}

fn read_path(path: &Path) -> Result<Backup, ChangeError> {
    let bytes = fs::read(path).map_err(|e| ChangeError::io("read", path, e))?;
    // serde_json quotes the offending value ("invalid type: string \"…\""), and a backup is
    // full of tokens: say where, not what.
    let b: Backup = serde_json::from_slice(&bytes).map_err(|e| ChangeError::BadFile {
        kind: "backup",
        path: path.to_path_buf(),
        reason: format!(
            "unexpected content at line {} column {}",
            e.line(),
            e.column()
        ),
    })?;
    if b.kind != BACKUP_KIND {
        return Err(ChangeError::BadFile {
            kind: "backup",
            path: path.to_path_buf(),
            reason: format!("its kind is `{}`", b.kind),
        });
    }
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn sample(action: &str) -> Backup {
        record(
            action,
            "json",
            Path::new("/x/auth-profiles.json"),
            Value::String("json:main".into()),
            "json main",
            Some(serde_json::json!({"version":1,"profiles":{}})),
            None,
        )
    }

    #[test]
    fn saves_private_lists_newest_first_and_prunes() {
        let dir = tempfile::tempdir().unwrap();
        let first = save(dir.path(), &sample("order set")).unwrap();
        let mode = fs::metadata(&first).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let bdir = first.parent().unwrap();
        let dmode = fs::metadata(bdir).unwrap().permissions().mode() & 0o777;
        assert_eq!(dmode, 0o700);
        assert!(
            first
                .file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .ends_with("-order-set.json")
        );
        for _ in 0..(KEEP + 4) {
            save(dir.path(), &sample("retire")).unwrap();
        }
        let all = list(dir.path()).unwrap();
        assert_eq!(all.len(), KEEP);
        assert!(
            all.iter().all(|b| b.action == "retire"),
            "oldest pruned first"
        );
        // Newest first by the listing's own key: a second backup in the same millisecond is
        // `…-retire-2.json`, which sorts before `…-retire.json` as a plain string.
        assert!(order_key(&all[0].name) > order_key(&all[1].name));
        let back = read(dir.path(), &all[0].name).unwrap();
        assert_eq!(back.format, "json");
        assert!(matches!(
            read(dir.path(), "../x"),
            Err(ChangeError::NoSuchBackup(_))
        ));
        assert!(matches!(
            read(dir.path(), "nope"),
            Err(ChangeError::NoSuchBackup(_))
        ));
    }

    /// Backups of the same action in the same millisecond (threads here, processes in real
    /// life) get distinct names: none overwrites another.
    #[test]
    fn concurrent_backups_never_overwrite_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let (threads, each) = (8, 5);
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(threads));
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (state, barrier) = (dir.path().to_path_buf(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    for i in 0..each {
                        let mut b = sample("retire");
                        b.layer_label = format!("t{t}-{i}");
                        save(&state, &b).unwrap();
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        let all = list(dir.path()).unwrap();
        let mut labels: Vec<String> = all.iter().map(|b| b.layer.clone()).collect();
        labels.sort();
        labels.dedup();
        assert_eq!(labels.len(), threads * each, "{all:?}");
    }

    /// Pruning after another process already removed a file is no failure.
    #[test]
    fn pruning_tolerates_files_already_gone() {
        let dir = tempfile::tempdir().unwrap();
        for _ in 0..3 {
            save(dir.path(), &sample("retire")).unwrap();
        }
        let bdir = backups_path(dir.path());
        let listed = names(&bdir).unwrap();
        assert_eq!(listed.len(), 3);
        // Another writer, pruning from the same listing, removed the oldest first.
        fs::remove_file(bdir.join(&listed[2])).unwrap();
        remove_oldest(&bdir, listed, 1).unwrap();
        assert_eq!(names(&bdir).unwrap().len(), 1);
    }

    #[test]
    fn listing_creates_no_folder() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("absent");
        assert!(list(&state).unwrap().is_empty());
        assert!(matches!(
            read(&state, "x"),
            Err(ChangeError::NoSuchBackup(_))
        ));
        assert!(!state.exists());
    }

    #[test]
    fn debug_never_shows_the_layer_documents() {
        let mut b = sample("login");
        b.store = Some(serde_json::json!({"version":1,"profiles":{"openai:a":{
            "type":"oauth","access":"eyJhbGciOi.secret-access","refresh":"rt_secret-refresh"}}}));
        b.state = Some(serde_json::json!({"lastGood":{"openai":"openai:a"}}));
        let shown = format!("{b:?} {b:#?}");
        for secret in ["secret-access", "secret-refresh", "lastGood"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("json main"), "{shown}");
    }

    #[test]
    fn a_malformed_backup_is_refused_without_quoting_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.json");
        let secret = "eyJhbGciOiJIUzI1NiJ9.secret-payload.sig";
        fs::write(
            &path,
            format!(r#"{{"kind":"{BACKUP_KIND}","version":"{secret}"}}"#),
        )
        .unwrap();
        let e = read_path(&path).unwrap_err().to_string();
        assert!(!e.contains("secret-payload"), "{e}");
        assert!(e.contains("line 1"), "{e}");
    }
}
