//! The read-only part of `openclaw.json` the effective order depends on: `auth.order` and the
//! ids listed in `auth.profiles`; and, for rotation guidance, the model fallbacks
//! (`agents.defaults.model.fallbacks`, an agent's own `model` in `agents.entries`/`agents.list`)
//! and the Codex harness home scope (`plugins.entries.codex.config.appServer.homeScope`). We never write this file. It may be JSON5 for OpenClaw; a
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
    /// `agents.defaults.model` (raw: a string or `{primary, fallbacks}`).
    pub default_model: Option<Value>,
    /// `(agent id, model)` of every agent entry that has a `model`.
    pub agent_models: Vec<(String, Value)>,
    /// `plugins.entries.codex.config.appServer.homeScope`.
    pub codex_home_scope: Option<String>,
}

/// Where the model fallbacks of an agent come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FallbackSource {
    /// The agent's own `model`.
    Agent,
    /// `agents.defaults.model.fallbacks`.
    Defaults,
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
        let default_model = v.pointer("/agents/defaults/model").cloned();
        let codex_home_scope = v
            .pointer("/plugins/entries/codex/config/appServer/homeScope")
            .and_then(Value::as_str)
            .map(str::to_owned);
        AuthConfig {
            order,
            profiles,
            default_model,
            agent_models: agent_models(v),
            codex_home_scope,
        }
    }

    /// The model fallbacks the gateway uses for `agent`, as OpenClaw 2026.9.6 resolves them
    /// (`resolveModelFallbackAvailability` -> `resolveAgentModelFallbacksOverride` ->
    /// `resolveSelectedModelFallbacksOverride`, else `resolveAgentModelFallbackValues` of
    /// `agents.defaults.model`): an agent `model` that is a string, or an object with a
    /// `primary` and no `fallbacks`, means *no* fallbacks; an object with a `fallbacks` array
    /// means that list; otherwise the defaults' `fallbacks` array. Non-string entries dropped.
    pub fn fallbacks_for(&self, agent: &str) -> (Vec<String>, FallbackSource) {
        let key = agent.trim().to_lowercase();
        let own = self
            .agent_models
            .iter()
            .find(|(id, _)| id.trim().to_lowercase() == key)
            .and_then(|(_, m)| agent_override(m));
        if let Some(list) = own {
            return (list, FallbackSource::Agent);
        }
        let defaults = self
            .default_model
            .as_ref()
            .and_then(|m| m.get("fallbacks"))
            .map(strings)
            .unwrap_or_default();
        (defaults, FallbackSource::Defaults)
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

/// `agents.entries` (an object keyed by id) wins over `agents.list` (an array of `{id}`), as
/// OpenClaw's `readAgentRosterProperty` decides.
fn agent_models(v: &Value) -> Vec<(String, Value)> {
    let agents = v.get("agents");
    if let Some(entries) = agents
        .and_then(|a| a.get("entries"))
        .and_then(Value::as_object)
    {
        return entries
            .iter()
            .filter_map(|(id, e)| Some((id.clone(), e.get("model")?.clone())))
            .collect();
    }
    agents
        .and_then(|a| a.get("list"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|e| {
            let id = e.get("id")?.as_str()?.to_owned();
            Some((id, e.get("model")?.clone()))
        })
        .collect()
}

/// `resolveSelectedModelFallbacksOverride`: `Some` when the agent's model decides.
fn agent_override(m: &Value) -> Option<Vec<String>> {
    match m {
        Value::String(s) => (!s.trim().is_empty()).then(Vec::new),
        Value::Object(o) => match o.get("fallbacks") {
            Some(f) => f.is_array().then(|| strings(f)),
            None => o
                .get("primary")
                .and_then(Value::as_str)
                .is_some_and(|p| !p.trim().is_empty())
                .then(Vec::new),
        },
        _ => None,
    }
}

/// The string items of a JSON array (trimmed, empty ones dropped).
fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
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

    #[test]
    fn fallbacks_from_defaults_and_agents() {
        let c = AuthConfig::from_value(&serde_json::json!({
            "agents": {
                "defaults": {"model": {"primary": "openai/gpt-5.5", "fallbacks": ["anthropic/claude", 3]}},
                "list": [
                    {"id": "main"},
                    {"id": "Str", "model": "openai/gpt-5.5"},
                    {"id": "own", "model": {"fallbacks": ["google/gemini"]}},
                    {"id": "prim", "model": {"primary": "openai/gpt-5.5"}}
                ]
            },
            "plugins": {"entries": {"codex": {"config": {"appServer": {"homeScope": "user"}}}}}
        }));
        assert_eq!(
            c.fallbacks_for("main"),
            (
                vec!["anthropic/claude".to_owned()],
                FallbackSource::Defaults
            )
        );
        assert_eq!(c.fallbacks_for("str"), (vec![], FallbackSource::Agent));
        assert_eq!(c.fallbacks_for("own").0, ["google/gemini"]);
        assert_eq!(c.fallbacks_for("prim"), (vec![], FallbackSource::Agent));
        assert_eq!(c.codex_home_scope.as_deref(), Some("user"));
        assert_eq!(
            AuthConfig::default().fallbacks_for("main").0,
            Vec::<String>::new()
        );
    }
}
