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
use super::files::{ensure_private_dir, now_ms, own_dir, write_private_atomic};
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
}

/// `<state>/codex-profiler/backups`, owner-only.
pub fn backups_dir(state_dir: &Path) -> Result<PathBuf, ChangeError> {
    ensure_private_dir(&own_dir(state_dir)?.join("backups"))
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
pub fn save(state_dir: &Path, backup: &Backup) -> Result<PathBuf, ChangeError> {
    let dir = backups_dir(state_dir)?;
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%3fZ").to_string();
    let base = format!("{stamp}-{}", slug(&backup.action));
    let mut path = dir.join(format!("{base}.json"));
    let mut n = 2;
    while path.exists() {
        path = dir.join(format!("{base}-{n}.json"));
        n += 1;
    }
    let bytes = serde_json::to_vec_pretty(backup).map_err(|e| ChangeError::BadFile {
        kind: "backup",
        path: path.clone(),
        reason: e.to_string(),
    })?;
    write_private_atomic(&path, &bytes)?;
    prune(&dir, KEEP)?;
    Ok(path)
}

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
    }
}

fn names(dir: &Path) -> Result<Vec<String>, ChangeError> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .map_err(|e| ChangeError::io("read", dir, e))?
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.ends_with(".json") && !n.starts_with('.'))
        .collect();
    // Names start with a UTC stamp: lexical order is time order. Newest first.
    names.sort();
    names.reverse();
    Ok(names)
}

fn prune(dir: &Path, keep: usize) -> Result<(), ChangeError> {
    for old in names(dir)?.into_iter().skip(keep) {
        let p = dir.join(&old);
        fs::remove_file(&p).map_err(|e| ChangeError::io("remove", &p, e))?;
    }
    Ok(())
}

/// Every backup, newest first. Files that are not our backups are listed as unreadable
/// rather than hidden.
pub fn list(state_dir: &Path) -> Result<Vec<BackupEntry>, ChangeError> {
    let dir = backups_dir(state_dir)?;
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
            },
            Err(_) => BackupEntry {
                name,
                created_at: String::new(),
                action: "unreadable".to_owned(),
                format: String::new(),
                layer: String::new(),
                path: PathBuf::new(),
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
    let path = backups_dir(state_dir)?.join(&file);
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
        assert!(all[0].name > all[1].name);
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
