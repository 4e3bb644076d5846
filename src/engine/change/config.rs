//! The gateway's `openclaw.json`, read-only, for the two keys that shape profile choice:
//! `auth.order.<provider>` (second in precedence) and `auth.profiles` (whose ids, when any
//! exist for a provider, silently replace the automatic order). OpenClaw reads the file as
//! JSON5; we accept JSON plus comments and trailing commas, and say so when it is more.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// What `openclaw.json` says about auth.
#[derive(Debug, Clone, Default)]
pub struct GatewayConfig {
    /// The file read (`OPENCLAW_CONFIG_PATH`, else `<state>/openclaw.json`).
    pub path: PathBuf,
    /// Whether it exists.
    pub present: bool,
    /// Why it could not be read, if it exists and could not.
    pub error: Option<String>,
    /// `auth.order`: provider → ids.
    pub auth_order: BTreeMap<String, Vec<String>>,
    /// `auth.profiles`: id → provider.
    pub auth_profiles: BTreeMap<String, String>,
}

impl GatewayConfig {
    /// Read the config of the gateway whose state is `state_dir`. Never fails: an unreadable
    /// file is reported in `error` (doctor and layers show it).
    pub fn read(state_dir: &Path) -> GatewayConfig {
        let path = std::env::var_os("OPENCLAW_CONFIG_PATH")
            .map(PathBuf::from)
            .unwrap_or_else(|| state_dir.join("openclaw.json"));
        Self::read_file(&path)
    }

    /// Read one config file.
    pub fn read_file(path: &Path) -> GatewayConfig {
        let mut cfg = GatewayConfig {
            path: path.to_path_buf(),
            ..GatewayConfig::default()
        };
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return cfg,
            Err(e) => {
                cfg.present = true;
                cfg.error = Some(e.to_string());
                return cfg;
            }
        };
        cfg.present = true;
        let doc: Value = match serde_json::from_str(&text)
            .or_else(|_| serde_json::from_str(&relax_json5(&text)))
        {
            Ok(v) => v,
            Err(e) => {
                cfg.error = Some(format!("not JSON this tool can read ({e})"));
                return cfg;
            }
        };
        let auth = doc.get("auth");
        if let Some(order) = auth.and_then(|a| a.get("order")).and_then(Value::as_object) {
            for (provider, ids) in order {
                let ids = ids
                    .as_array()
                    .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
                    .unwrap_or_default();
                cfg.auth_order.insert(provider.clone(), ids);
            }
        }
        if let Some(profiles) = auth
            .and_then(|a| a.get("profiles"))
            .and_then(Value::as_object)
        {
            for (id, entry) in profiles {
                let provider = entry
                    .get("provider")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .unwrap_or_else(|| id.split(':').next().unwrap_or_default().to_owned());
                cfg.auth_profiles.insert(id.clone(), provider);
            }
        }
        cfg
    }

    /// `auth.order.<provider>`, when set.
    pub fn order_for(&self, provider: &str) -> Option<&[String]> {
        self.auth_order.get(provider).map(Vec::as_slice)
    }

    /// The `auth.profiles` ids of `provider`, sorted.
    pub fn profiles_for(&self, provider: &str) -> Vec<String> {
        self.auth_profiles
            .iter()
            .filter(|(_, p)| p.as_str() == provider)
            .map(|(id, _)| id.clone())
            .collect()
    }
}

/// Drop `//` and `/* */` comments and trailing commas outside strings: the JSON5 that
/// hand-edited configs most often use.
pub fn relax_json5(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut in_str: Option<char> = None;
    while i < chars.len() {
        let c = chars[i];
        if let Some(q) = in_str {
            out.push(c);
            if c == '\\' && i + 1 < chars.len() {
                out.push(chars[i + 1]);
                i += 2;
                continue;
            }
            if c == q {
                in_str = None;
            }
            i += 1;
            continue;
        }
        match (c, chars.get(i + 1)) {
            ('"', _) => {
                in_str = Some('"');
                out.push(c);
            }
            ('/', Some('/')) => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
                continue;
            }
            ('/', Some('*')) => {
                i += 2;
                while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                    i += 1;
                }
                i += 2;
                continue;
            }
            (',', _) => {
                let next = chars[i + 1..].iter().find(|c| !c.is_whitespace());
                if !matches!(next, Some('}') | Some(']')) {
                    out.push(c);
                }
            }
            _ => out.push(c),
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relaxes_comments_and_trailing_commas() {
        let text = "{\n // note\n \"a\": [1, 2,], /* x */ \"b\": \"//not a comment\",\n}";
        let v: Value = serde_json::from_str(&relax_json5(text)).unwrap();
        assert_eq!(v["a"], serde_json::json!([1, 2]));
        assert_eq!(v["b"], "//not a comment");
    }

    #[test]
    fn reads_auth_order_and_profiles() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("openclaw.json");
        std::fs::write(
            &p,
            r#"{"auth":{"order":{"openai":["openai:a"]},"profiles":{"openai:a":{"provider":"openai","mode":"oauth"},"anthropic:x":{}}}}"#,
        )
        .unwrap();
        let cfg = GatewayConfig::read_file(&p);
        assert_eq!(cfg.order_for("openai"), Some(&["openai:a".to_owned()][..]));
        assert_eq!(cfg.profiles_for("openai"), vec!["openai:a".to_owned()]);
        assert_eq!(cfg.profiles_for("anthropic"), vec!["anthropic:x".to_owned()]);
        assert!(cfg.error.is_none());
    }
}
