//! The Codex CLI's own login (`$CODEX_HOME/auth.json`, else `~/.codex/auth.json`), read-only:
//! OpenClaw can pick up external CLI credentials, so `layers` shows which account that file
//! holds and which stored profile (if any) is the same account. Tokens are only decoded for
//! their claims, never kept.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The Codex CLI's own login (`$CODEX_HOME/auth.json`), as far as layers needs it.
#[derive(Debug, Clone, Default)]
pub struct ExternalLogin {
    /// The file read.
    pub path: PathBuf,
    /// Its account id.
    pub account_id: Option<String>,
    /// Its email (id token claim).
    pub email: Option<String>,
}

/// Read `<codex_home>/auth.json` if there is one (never written).
pub fn read_external(codex_home: &Path) -> Option<ExternalLogin> {
    let path = codex_home.join("auth.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).ok()?).ok()?;
    let tokens = doc.get("tokens")?;
    let claims = ["id_token", "access_token"]
        .iter()
        .filter_map(|k| tokens.get(*k).and_then(Value::as_str))
        .find_map(|t| crate::engine::jwt::claims(t).ok())
        .unwrap_or_default();
    Some(ExternalLogin {
        account_id: tokens
            .get("account_id")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or(claims.account_id),
        email: claims.email,
        path,
    })
}

/// The Codex CLI home: one definition, shared with the import.
pub use crate::engine::oauth::codex_cli::default_codex_home;
