//! Import the Codex CLI's own login: `$CODEX_HOME/auth.json` (default `~/.codex/auth.json`)
//! with `auth_mode: "chatgpt"` and `tokens.{access_token, refresh_token, account_id,
//! id_token?}`. The file is only ever read, never written, locked or touched.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{OAuthError, Tokens};
use crate::secret::Secret;

/// Shown after every import: the Codex CLI and the gateway now hold the same single-use
/// refresh token, and whichever refreshes first makes the other's invalid.
pub const SHARED_REFRESH_TOKEN_WARNING: &str = "the Codex CLI and the gateway now hold the same single-use refresh token: whichever refreshes first invalidates the other's copy, so one of them must stop using it (log the Codex CLI out with `codex logout`, or log this profile in again with `codex-profiler auth start` instead of importing)";

/// The Codex CLI's home, as the Codex CLI finds it: `$CODEX_HOME`, else `~/.codex`; `None`
/// when neither is set (never a path relative to the working directory).
pub fn default_codex_home() -> Option<PathBuf> {
    let from_env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    from_env("CODEX_HOME").or_else(|| from_env("HOME").map(|h| h.join(".codex")))
}

/// The `auth.json` path: `<codex_home>/auth.json`, where `codex_home` defaults to
/// [`default_codex_home`].
pub fn auth_json_path(codex_home: Option<&Path>) -> Result<PathBuf, OAuthError> {
    codex_home
        .map(Path::to_path_buf)
        .or_else(default_codex_home)
        .map(|h| h.join("auth.json"))
        .ok_or(OAuthError::CodexAuth {
            path: PathBuf::from("~/.codex/auth.json"),
            reason: "neither CODEX_HOME nor HOME is set: pass --codex-home",
        })
}

/// Read the Codex CLI's tokens from `path`.
pub fn read_auth_json(path: &Path) -> Result<Tokens, OAuthError> {
    let refuse = |reason: &'static str| OAuthError::CodexAuth {
        path: path.to_owned(),
        reason,
    };
    let bytes = std::fs::read(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            refuse("the file does not exist (log in with `codex login` first)")
        } else {
            refuse("the file cannot be read")
        }
    })?;
    let doc: Value = serde_json::from_slice(&bytes).map_err(|_| refuse("it is not JSON"))?;
    if doc.get("auth_mode").and_then(Value::as_str) != Some("chatgpt") {
        return Err(refuse(
            "its auth_mode is not `chatgpt` (an API-key login cannot become an OAuth profile)",
        ));
    }
    let tokens = doc.get("tokens").ok_or(refuse("it has no `tokens`"))?;
    let text = |k: &str| {
        tokens
            .get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let access = text("access_token").ok_or(refuse("it has no tokens.access_token"))?;
    let refresh = text("refresh_token").ok_or(refuse("it has no tokens.refresh_token"))?;
    let account = text("account_id").ok_or(refuse("it has no tokens.account_id"))?;
    Ok(Tokens {
        access: Secret::new(access),
        refresh: Secret::new(refresh),
        id_token: text("id_token").map(Secret::new),
        expires_in_s: None,
        account_id_hint: Some(account),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_chatgpt_logins_only() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("auth.json");
        std::fs::write(
            &p,
            r#"{"auth_mode":"chatgpt","tokens":{"access_token":"a.b.c","refresh_token":"rt_x","account_id":"acc"}}"#,
        )
        .unwrap();
        let t = read_auth_json(&p).unwrap();
        assert_eq!(t.account_id_hint.as_deref(), Some("acc"));
        assert_eq!(t.refresh.expose_secret(), "rt_x");
        std::fs::write(&p, r#"{"auth_mode":"apikey","OPENAI_API_KEY":"sk-x"}"#).unwrap();
        assert!(matches!(
            read_auth_json(&p),
            Err(OAuthError::CodexAuth { .. })
        ));
        assert!(matches!(
            read_auth_json(&dir.path().join("none.json")),
            Err(OAuthError::CodexAuth { .. })
        ));
    }
}
