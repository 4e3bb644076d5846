//! The read-only part of `openclaw.json` the effective order depends on: `auth.order` and the
//! ids listed in `auth.profiles`. We never write this file. It may be JSON5 for OpenClaw; a
//! file we cannot parse as JSON is treated as having no auth section (and logged).

use std::path::Path;

use serde_json::Value;

/// The auth section of `openclaw.json`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuthConfig {
    /// `auth.order`: provider -> ids.
    pub order: Vec<(String, Vec<String>)>,
    /// `auth.profiles`: (id, provider) in file order.
    pub profiles: Vec<(String, Option<String>)>,
}

impl AuthConfig {
    /// Read `<state>/openclaw.json`.
    pub fn read(state_dir: &Path) -> AuthConfig {
        let path = state_dir.join("openclaw.json");
        let Ok(text) = std::fs::read_to_string(&path) else {
            return AuthConfig::default();
        };
        match serde_json::from_str::<Value>(&text) {
            Ok(v) => AuthConfig::from_value(&v),
            Err(_) => {
                tracing::warn!(path = %path.display(), "openclaw.json is not plain JSON; ignoring its auth section");
                AuthConfig::default()
            }
        }
    }

    /// Pick the auth section out of a parsed config.
    pub fn from_value(v: &Value) -> AuthConfig {
        let auth = v.get("auth");
        let order = auth
            .and_then(|a| a.get("order"))
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(p, ids)| Some((p.clone(), string_list(ids)?)))
                    .collect()
            })
            .unwrap_or_default();
        let profiles = auth
            .and_then(|a| a.get("profiles"))
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(id, e)| {
                        let provider = e.get("provider").and_then(Value::as_str).map(str::to_owned);
                        (id.clone(), provider)
                    })
                    .collect()
            })
            .unwrap_or_default();
        AuthConfig { order, profiles }
    }

    /// `auth.order[provider]` (provider ids compare lower-cased and trimmed, as OpenClaw's
    /// `findNormalizedProviderValue` does).
    pub fn order_for(&self, provider: &str) -> Option<&[String]> {
        let key = provider.trim().to_lowercase();
        self.order
            .iter()
            .find(|(p, _)| p.trim().to_lowercase() == key)
            .map(|(_, ids)| ids.as_slice())
    }

    /// Ids in `auth.profiles` for `provider` (by their `provider` field, else the id prefix).
    pub fn profile_ids_for(&self, provider: &str) -> Vec<String> {
        self.profiles
            .iter()
            .filter(|(id, p)| match p {
                Some(p) => p == provider,
                None => id.split_once(':').is_some_and(|(pp, _)| pp == provider),
            })
            .map(|(id, _)| id.clone())
            .collect()
    }
}

/// A JSON array of strings.
pub(crate) fn string_list(v: &Value) -> Option<Vec<String>> {
    v.as_array()?
        .iter()
        .map(|x| x.as_str().map(str::to_owned))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_order_and_profiles() {
        let c = AuthConfig::from_value(&serde_json::json!({"auth": {
            "order": {"openai": ["openai:b", "openai:a"]},
            "profiles": {"openai:a": {"provider": "openai", "mode": "oauth"}, "anthropic:x": {}}
        }}));
        assert_eq!(c.order_for("openai").unwrap(), ["openai:b", "openai:a"]);
        assert_eq!(c.order_for(" OpenAI").unwrap(), ["openai:b", "openai:a"]);
        assert_eq!(c.profile_ids_for("openai"), ["openai:a"]);
        assert!(
            c.profile_ids_for("anthropic")
                .contains(&"anthropic:x".to_owned())
        );
    }
}
