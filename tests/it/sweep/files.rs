//! The files a run left under its home (the state dir, the tool's folder, `TMPDIR`): every
//! one is scanned except the places that hold tokens by design, which are named here.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Why a file is not scanned, or `None` when it is.
pub fn exempt(rel: &Path) -> Option<&'static str> {
    let s = rel.to_string_lossy();
    let name = rel
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    if s.starts_with(".openclaw/codex-profiler/backups/") {
        return Some("a backup of a store layer");
    }
    if s == ".openclaw/codex-profiler/pending.json" {
        return Some("the pending logins (state and PKCE verifier until the finish)");
    }
    let store_db = ["openclaw.sqlite", "openclaw-agent.sqlite"]
        .iter()
        .any(|db| name == *db || name == format!("{db}-wal") || name == format!("{db}-shm"));
    if s.starts_with(".openclaw/") && store_db {
        return Some("a store layer");
    }
    if s.starts_with(".openclaw/agents/")
        && (name == "auth-profiles.json" || name == "auth-state.json")
    {
        return Some("a store layer");
    }
    if s == ".env" {
        return Some("the operator's configuration (holds the bot token), an input");
    }
    if s.starts_with(".codex/") && name == "auth.json" {
        return Some("the Codex CLI's login, an input");
    }
    None
}

/// Every regular file under `root`, relative, with its mode.
pub fn walk(root: &Path) -> Vec<(PathBuf, u32)> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(d) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let Ok(meta) = std::fs::symlink_metadata(e.path()) else {
                continue;
            };
            if meta.is_dir() {
                dirs.push(e.path());
            } else if meta.is_file() {
                let rel = e.path().strip_prefix(root).map(Path::to_path_buf);
                if let Ok(rel) = rel {
                    out.push((rel, meta.permissions().mode() & 0o777));
                }
            }
        }
    }
    out.sort();
    out
}
