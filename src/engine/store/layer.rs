//! Layers: one physical place that holds a `{version, profiles}` document and a
//! `{version, order, lastGood, usageStats}` document (two SQLite cells or rows, or one or two
//! JSON files). The effective store is the shared layer with at most one agent overlay on top.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::StoreFormat;

/// Whether a layer is the shared store or an agent's overlay on top of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "scope", rename_all = "snake_case")]
pub enum LayerScope {
    /// The shared store every agent reads.
    Shared,
    /// One agent's own database, whose entries win over the shared store's.
    Overlay {
        /// The agent id.
        agent: String,
    },
}

/// Names one layer: its format, file and scope. `Display` is plain words for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LayerId {
    /// The layer's own format (an agent overlay of a state-db store is an agent database).
    pub format: StoreFormat,
    /// The database or `auth-profiles.json` file.
    pub path: PathBuf,
    /// Shared store or agent overlay.
    #[serde(flatten)]
    pub scope: LayerScope,
}

/// How a layer's documents are kept on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    /// `config_machine_state` cells `authProfiles.store` / `authProfiles.state`.
    StateCells,
    /// `auth_profile_store` / `auth_profile_state` rows keyed `primary`.
    AgentRows,
    /// `auth-profiles.json`, with `auth-state.json` beside it when present.
    JsonFiles,
}

impl LayerId {
    /// The shared layer of a store.
    pub(crate) fn shared(format: StoreFormat, path: &Path) -> LayerId {
        LayerId {
            format,
            path: path.to_owned(),
            scope: LayerScope::Shared,
        }
    }

    /// An agent overlay (always an agent database).
    pub(crate) fn overlay(agent: &str, path: &Path) -> LayerId {
        LayerId {
            format: StoreFormat::AgentDb,
            path: path.to_owned(),
            scope: LayerScope::Overlay {
                agent: agent.to_owned(),
            },
        }
    }

    /// Whether this is an agent overlay.
    pub fn is_overlay(&self) -> bool {
        matches!(self.scope, LayerScope::Overlay { .. })
    }

    pub(crate) fn backend(&self) -> Backend {
        match self.format {
            StoreFormat::StateDb => Backend::StateCells,
            StoreFormat::AgentDb => Backend::AgentRows,
            StoreFormat::Json => Backend::JsonFiles,
        }
    }
}

impl fmt::Display for LayerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.scope {
            LayerScope::Shared => write!(
                f,
                "the shared {} store ({})",
                self.format.as_str(),
                self.path.display()
            ),
            LayerScope::Overlay { agent } => {
                write!(f, "agent {agent}'s overlay ({})", self.path.display())
            }
        }
    }
}

/// The two documents of one layer. Missing rows or files read as the empty documents
/// `{"version":1,"profiles":{}}` and `{"version":1}`.
#[derive(Clone, PartialEq)]
pub struct LayerDocs {
    /// `{version, profiles}` (a single-file json store keeps its other top-level fields here).
    pub store: Value,
    /// `{version, order, lastGood, usageStats}`.
    pub state: Value,
}

impl fmt::Debug for LayerDocs {
    // The documents hold tokens: show only which profiles and state keys are there.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<&String> = self
            .store
            .get("profiles")
            .and_then(Value::as_object)
            .map(|m| m.keys().collect())
            .unwrap_or_default();
        let keys: Vec<&String> = self
            .state
            .as_object()
            .map(|m| m.keys().collect())
            .unwrap_or_default();
        f.debug_struct("LayerDocs")
            .field("profiles", &ids)
            .field("state_keys", &keys)
            .finish()
    }
}

/// The state keys a single-file json store keeps at its top level.
pub(crate) const STATE_KEYS: [&str; 3] = ["order", "lastGood", "usageStats"];

impl LayerDocs {
    /// The empty documents of a layer that holds nothing yet.
    pub fn empty() -> LayerDocs {
        LayerDocs {
            store: json!({"version": 1, "profiles": {}}),
            state: json!({"version": 1}),
        }
    }

    /// `profiles`, if it is an object.
    pub fn profiles(&self) -> Option<&Map<String, Value>> {
        self.store.get("profiles").and_then(Value::as_object)
    }

    /// `state[key]` (`order`, `lastGood`, `usageStats`), if it is an object.
    pub fn state_map(&self, key: &str) -> Option<&Map<String, Value>> {
        self.state.get(key).and_then(Value::as_object)
    }

    /// Check the shape the rest of the engine relies on: `profiles`, `order`, `lastGood` and
    /// `usageStats`, when present, are objects. (Individual entries may still be malformed:
    /// those are skipped, not fatal.)
    pub(crate) fn validate(self, path: &std::path::Path) -> Result<LayerDocs, super::StoreError> {
        let bad = |field: &str| super::StoreError::BadField {
            path: path.to_owned(),
            field: field.to_owned(),
            expected: "a JSON object",
        };
        if self.store.get("profiles").is_some_and(|v| !v.is_object()) {
            return Err(bad("profiles"));
        }
        for k in STATE_KEYS {
            if self.state.get(k).is_some_and(|v| !v.is_object()) {
                return Err(bad(k));
            }
        }
        Ok(self)
    }

    /// Split a single-file json document: the state keys move to `state`.
    pub(crate) fn from_single_file(mut doc: Value) -> LayerDocs {
        let version = doc.get("version").cloned().unwrap_or(json!(1));
        let mut state = Map::new();
        state.insert("version".into(), version);
        if let Some(obj) = doc.as_object_mut() {
            for k in STATE_KEYS {
                if let Some(v) = obj.shift_remove(k) {
                    state.insert(k.into(), v);
                }
            }
        }
        LayerDocs {
            store: doc,
            state: Value::Object(state),
        }
    }

    /// Join into one single-file json document (state keys after the store's own keys).
    pub(crate) fn to_single_file(&self) -> Value {
        let mut doc = self.store.clone();
        if let (Some(obj), Some(state)) = (doc.as_object_mut(), self.state.as_object()) {
            for k in STATE_KEYS {
                if let Some(v) = state.get(k) {
                    obj.insert(k.into(), v.clone());
                }
            }
        }
        doc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_file_round_trip_keeps_values() {
        let doc = json!({"version": 1, "profiles": {"a:b": {"x": 1}}, "order": {"a": ["a:b"]}, "extra": true});
        let docs = LayerDocs::from_single_file(doc.clone());
        assert_eq!(docs.state["order"], json!({"a": ["a:b"]}));
        assert!(docs.store.get("order").is_none());
        assert_eq!(docs.to_single_file(), doc);
    }

    #[test]
    fn debug_hides_tokens() {
        let docs = LayerDocs {
            store: json!({"profiles": {"openai:a": {"access": "SECRET-TOKEN"}}}),
            state: json!({"version": 1}),
        };
        let s = format!("{docs:?}");
        assert!(s.contains("openai:a"));
        assert!(!s.contains("SECRET-TOKEN"));
    }
}
