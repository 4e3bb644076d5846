//! codex-profiler's own small JSON memories under `<state>/codex-profiler/` (the watcher's
//! `watch.json`, the chat's `chat-agents.json`): read so that a bad file never stops the
//! program (missing is "nothing yet"; a file that is not the expected document is set aside
//! as `<name>.bad` with a warning, so the next write does not destroy the evidence), and
//! written whole, atomically, 0600, in the owner-only folder.

use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::error::ChangeError;
use super::files;

/// What [`read`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct Read<T> {
    /// The document, when there was a good one.
    pub value: Option<T>,
    /// What went wrong, as one sentence for the log or stderr (ending "…; `fallback`").
    pub warning: Option<String>,
}

/// Read `path` as a `T` that `accept` takes (`Err` says why not, e.g. another version).
/// `what` names the file in a warning ("watch state"), `fallback` says what happens instead
/// ("starting fresh"). Missing: no value, no warning. Unreadable: a warning, left in place.
/// Not a `T`, or refused: moved aside as `<name>.bad`, with a warning.
pub fn read<T: DeserializeOwned>(
    path: &Path,
    what: &str,
    fallback: &str,
    accept: impl FnOnce(&T) -> Result<(), String>,
) -> Read<T> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Read {
                value: None,
                warning: None,
            };
        }
        Err(e) => {
            return Read {
                value: None,
                warning: Some(format!(
                    "{what} {} unreadable ({e}); {fallback}",
                    path.display()
                )),
            };
        }
    };
    let why = match serde_json::from_slice::<T>(&bytes) {
        Ok(v) => match accept(&v) {
            Ok(()) => {
                return Read {
                    value: Some(v),
                    warning: None,
                };
            }
            Err(why) => why,
        },
        Err(e) => format!("is not a {what} ({e})"),
    };
    let mut aside = path.as_os_str().to_owned();
    aside.push(".bad");
    let aside = std::path::PathBuf::from(aside);
    let kept = match std::fs::rename(path, &aside) {
        Ok(()) => format!("kept as {}", aside.display()),
        Err(_) => "left in place".to_owned(),
    };
    Read {
        value: None,
        warning: Some(format!(
            "{what} {} {why}: {kept}; {fallback}",
            path.display()
        )),
    }
}

/// Write `value` to `<state>/codex-profiler/<name>` atomically (0600 temp file, fsync,
/// rename) in the owner-only folder.
pub fn write<T: Serialize>(state_dir: &Path, name: &str, value: &T) -> Result<(), ChangeError> {
    let p = files::own_dir(state_dir)?.join(name);
    let bytes = serde_json::to_vec_pretty(value)
        .map_err(|e| ChangeError::io("encode", &p, std::io::Error::other(e)))?;
    files::write_private_atomic(&p, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn missing_is_quiet_bad_is_set_aside_refused_too() {
        let dir = std::env::temp_dir().join(format!("cp-json-file-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let p = dir.join("codex-profiler/x.json");
        let any = |_: &u32| Ok(());
        assert_eq!(read::<u32>(&p, "x", "going on", any).value, None);
        assert_eq!(read::<u32>(&p, "x", "going on", any).warning, None);

        write(&dir, "x.json", &7u32).unwrap();
        let mode = std::fs::metadata(&p).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(read::<u32>(&p, "x", "going on", any).value, Some(7));

        let r = read::<u32>(&p, "x", "going on", |v| Err(format!("has {v}")));
        assert_eq!(r.value, None);
        let w = r.warning.unwrap();
        assert!(
            w.contains("has 7: kept as ") && w.ends_with("; going on"),
            "{w}"
        );
        assert!(dir.join("codex-profiler/x.json.bad").exists() && !p.exists());

        std::fs::write(&p, b"{not json").unwrap();
        let w = read::<u32>(&p, "x", "going on", any).warning.unwrap();
        assert!(w.contains("is not a x ("), "{w}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
