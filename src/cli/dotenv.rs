//! The `.env` file of the working directory, read only when it is safe to. A `.env` is a way to
//! configure the tool, and so a way to attack it: a file another user could write, or one that
//! came with a cloned repository, must not be able to point the tool at a program to run. So:
//! only `./.env` (no search up the tree), a regular file, owned by the user running the tool and
//! writable by nobody else; and the variables that name a program to run are never taken from
//! it (set them in the real environment, e.g. a systemd unit's `Environment=`).

use std::fs::File;
use std::io::Read as _;
use std::os::unix::fs::MetadataExt as _;
use std::path::Path;

/// Variables whose value is a program the tool runs: never read from `.env`.
pub const PROGRAM_VARIABLES: &[&str] = &[
    crate::engine::change::gateway::OPENCLAW_BIN_ENV,
    crate::engine::change::queue::RESTART_CMD_ENV,
];

/// The largest `.env` read; a larger one is refused, not read in part.
const MAX_LEN: u64 = 256 * 1024;

/// What reading `.env` gave: the pairs to set, and the warnings to print.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Loaded {
    /// Variables to set (only those not already in the environment get set).
    pub pairs: Vec<(String, String)>,
    /// One sentence per problem (a refused file, an ignored variable).
    pub warnings: Vec<String>,
}

/// Read `dir/.env` under the rules above. A missing file is no warning.
pub fn read(dir: &Path, euid: u32) -> Loaded {
    let path = dir.join(".env");
    let mut out = Loaded::default();
    let file = match File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return out,
        Err(e) => {
            out.warnings
                .push(format!("ignoring ./.env: it cannot be read ({e})"));
            return out;
        }
    };
    // The checks look at the file that was opened, not at the name again.
    let meta = match file.metadata() {
        Ok(m) => m,
        Err(e) => {
            out.warnings
                .push(format!("ignoring ./.env: it cannot be read ({e})"));
            return out;
        }
    };
    let refuse = if !meta.is_file() {
        Some("it is not a regular file".to_owned())
    } else if meta.uid() != euid {
        Some(format!(
            "it belongs to user id {}, not to you (id {euid})",
            meta.uid()
        ))
    } else if meta.mode() & 0o022 != 0 {
        Some("others can write it (run: chmod go-w .env)".to_owned())
    } else if meta.len() > MAX_LEN {
        Some(format!("it is larger than {} KiB", MAX_LEN / 1024))
    } else {
        None
    };
    if let Some(why) = refuse {
        out.warnings.push(format!("ignoring ./.env: {why}"));
        return out;
    }
    let mut text = String::new();
    if let Err(e) = file.take(MAX_LEN).read_to_string(&mut text) {
        out.warnings
            .push(format!("ignoring ./.env: it cannot be read ({e})"));
        return out;
    }
    for item in dotenvy::from_read_iter(text.as_bytes()) {
        match item {
            // An empty value counts as unset (a copied `.env.example` leaves them empty).
            Ok((k, v)) if PROGRAM_VARIABLES.contains(&k.as_str()) && !v.trim().is_empty() => out.warnings.push(format!(
                "ignoring {k} in ./.env: a program to run is only taken from the environment itself"
            )),
            Ok(pair) => out.pairs.push(pair),
            Err(_) => {
                // dotenvy's error can quote the line, and a line may hold a token.
                out.warnings.push(
                    "ignoring the rest of ./.env: a line is not KEY=VALUE".to_owned(),
                );
                break;
            }
        }
    }
    out
}

/// Read `./.env` and set what it gives, without overriding the environment; warnings go to
/// stderr. Called first thing in `main`, before any thread exists.
pub fn load() {
    let Ok(dir) = std::env::current_dir() else {
        return;
    };
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    let loaded = read(&dir, euid);
    for w in &loaded.warnings {
        eprintln!("warning: {w}");
    }
    for (k, v) in loaded.pairs {
        if std::env::var_os(&k).is_none() {
            // SAFETY: called at the start of `main`, before any other thread is started, so no
            // one reads the environment concurrently.
            unsafe { std::env::set_var(&k, v) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    fn me() -> u32 {
        unsafe { libc::geteuid() }
    }

    fn dir_with(text: &str, mode: u32) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join(".env");
        std::fs::write(&p, text).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        d
    }

    #[test]
    fn a_private_env_file_is_read() {
        let d = dir_with("CODEX_PROFILER_ADMINS=1\n# c\nOPENCLAW_AGENT=main\n", 0o600);
        let l = read(d.path(), me());
        assert!(l.warnings.is_empty(), "{:?}", l.warnings);
        assert_eq!(l.pairs.len(), 2);
    }

    #[test]
    fn a_file_others_can_write_or_someone_else_owns_is_ignored() {
        let d = dir_with("CODEX_PROFILER_ADMINS=1\n", 0o666);
        let l = read(d.path(), me());
        assert!(l.pairs.is_empty());
        assert!(
            l.warnings[0].contains("others can write"),
            "{:?}",
            l.warnings
        );
        let d = dir_with("CODEX_PROFILER_ADMINS=1\n", 0o620);
        assert!(read(d.path(), me()).pairs.is_empty());
        let d = dir_with("CODEX_PROFILER_ADMINS=1\n", 0o600);
        let l = read(d.path(), me().wrapping_add(1));
        assert!(l.pairs.is_empty());
        assert!(l.warnings[0].contains("not to you"), "{:?}", l.warnings);
    }

    #[test]
    fn program_variables_never_come_from_the_file() {
        let d = dir_with(
            "CODEX_PROFILER_OPENCLAW_BIN=/tmp/evil\nCODEX_PROFILER_GATEWAY_RESTART_CMD='touch /tmp/pwned'\nCODEX_PROFILER_ADMINS=1\n",
            0o600,
        );
        let l = read(d.path(), me());
        assert_eq!(
            l.pairs,
            vec![("CODEX_PROFILER_ADMINS".to_owned(), "1".to_owned())]
        );
        assert_eq!(l.warnings.len(), 2, "{:?}", l.warnings);
    }

    #[test]
    fn a_directory_or_fifo_named_env_is_refused_and_a_bad_line_is_not_quoted() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join(".env")).unwrap();
        let l = read(d.path(), me());
        assert!(l.pairs.is_empty() && !l.warnings.is_empty());
        let d = dir_with("A=1\nthis is sk-SECRETLINE not a pair\nB=2\n", 0o600);
        let l = read(d.path(), me());
        assert_eq!(l.pairs.len(), 1);
        assert!(
            !l.warnings.join(" ").contains("SECRETLINE"),
            "{:?}",
            l.warnings
        );
    }

    #[test]
    fn no_file_no_warning() {
        let d = tempfile::tempdir().unwrap();
        assert_eq!(read(d.path(), me()), Loaded::default());
    }
}
