//! The only code that touches the gateway's auth stores: detection of the format (state-db,
//! agent-db, json), the overlay merge the gateway does, and safe writes (SQLite transactions
//! or the json sidecar lock, atomic replace, read-back check). See [`detect`] for the rules
//! confirmed against OpenClaw 2026.9.6's own code.
//!
//! Layout: [`layer`] (what a layer is), [`detect`], [`sqlite`] and [`json`] + [`lock`]
//! (the two storage kinds), [`snapshot`] (the merged view; `order` holds the order and
//! per-key merge rules confirmed in OpenClaw's code; [`effective`] the order the gateway tries
//! now, with why each profile is skipped or moved) and [`parse`] (Codex profiles out of
//! entries), [`config`] (read-only `openclaw.json`), `edit` (changes -> per-layer edits),
//! [`unblock`] (what clearing a stale block removes).

pub mod bounded;
pub mod config;
pub mod detect;
mod edit;
pub mod effective;
mod error;
pub mod json;
pub mod layer;
pub mod leftovers;
pub mod lock;
mod order;
pub mod parse;
pub mod snapshot;
pub mod sqlite;
pub mod unblock;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

pub use config::AuthConfig;
pub use effective::{OrderEntry, OrderReason};
pub use error::StoreError;
pub use layer::{LayerDocs, LayerId, LayerScope};
pub use snapshot::{EffectiveOrder, OrderSource, Skipped, Snapshot};

use crate::engine::profile::{ProfileId, Provider};
use layer::Backend;

/// The three store formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum StoreFormat {
    /// `<state>/state/openclaw.sqlite` cells.
    #[serde(rename = "state-db")]
    StateDb,
    /// `<state>/agents/<agent>/agent/openclaw-agent.sqlite` rows.
    #[serde(rename = "agent-db")]
    AgentDb,
    /// `<state>/agents/<agent>/agent/auth-profiles.json` (+ `auth-state.json`).
    #[serde(rename = "json")]
    Json,
}

impl StoreFormat {
    /// `state-db`, `agent-db` or `json`.
    pub fn as_str(self) -> &'static str {
        match self {
            StoreFormat::StateDb => "state-db",
            StoreFormat::AgentDb => "agent-db",
            StoreFormat::Json => "json",
        }
    }
}

/// Detect the format, or force one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreChoice {
    /// Detect what the gateway uses.
    Auto,
    /// Use this format.
    Force(StoreFormat),
}

impl StoreChoice {
    /// `auto`, `state-db`, `agent-db` or `json` (as `--store` and the chat config spell them).
    pub fn parse(s: &str) -> Result<StoreChoice, StoreError> {
        match s.trim() {
            "auto" | "" => Ok(StoreChoice::Auto),
            "state-db" => Ok(StoreChoice::Force(StoreFormat::StateDb)),
            "agent-db" => Ok(StoreChoice::Force(StoreFormat::AgentDb)),
            "json" => Ok(StoreChoice::Force(StoreFormat::Json)),
            other => Err(StoreError::BadFormat(other.chars().take(20).collect())),
        }
    }
}

/// Where the store is and how to pick it.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// The gateway's state directory.
    pub state_dir: PathBuf,
    /// The agent whose view to use.
    pub agent: String,
    /// Detect or force.
    pub choice: StoreChoice,
    /// A store file or database to use directly (one layer, no overlay).
    pub auth_path: Option<PathBuf>,
}

impl StoreOptions {
    /// Options from what the user gave, the same for every front end: no state directory means
    /// `$HOME/.openclaw` (OpenClaw's default); the agent id must name one folder.
    pub fn resolve(
        state_dir: Option<PathBuf>,
        agent: &str,
        choice: StoreChoice,
        auth_path: Option<PathBuf>,
    ) -> Result<StoreOptions, StoreError> {
        let state_dir = match state_dir {
            Some(d) => d,
            None => std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(|h| PathBuf::from(h).join(".openclaw"))
                .ok_or(StoreError::NoHome)?,
        };
        let agent = agent.trim();
        if agent.is_empty() || agent.contains(['/', '\\']) || agent == "." || agent == ".." {
            return Err(StoreError::BadAgent(agent.chars().take(40).collect()));
        }
        Ok(StoreOptions {
            state_dir,
            agent: agent.to_owned(),
            choice,
            auth_path,
        })
    }
}

/// Which store was used: reported as `store: {format, path}` in every JSON output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoreInfo {
    /// The format.
    pub format: StoreFormat,
    /// The shared layer's file.
    pub path: PathBuf,
}

/// One change to the store. `Debug` shows the field names of an upsert, never its values
/// (they are usually tokens).
#[derive(Clone, PartialEq)]
pub enum Change {
    /// Merge into the entry (listed fields replaced, others kept; created if absent), in the
    /// layer holding it (else the shared one). Refused over a pending refresh fence.
    UpsertProfile {
        /// Profile id.
        id: ProfileId,
        /// Fields to set.
        fields: serde_json::Map<String, serde_json::Value>,
    },
    /// Store an order, in the layer that holds this provider's order (else the shared one).
    SetOrder {
        /// Provider id.
        provider: String,
        /// Ids, first preferred.
        ids: Vec<ProfileId>,
    },
    /// Remove the provider's stored order from the layer the effective order comes from
    /// (the overlay first), as the gateway's `order clear` does; an order stored in another
    /// layer then takes effect.
    ClearOrder {
        /// Provider id.
        provider: String,
    },
    /// Remove from every order, repoint `lastGood` (next in order, else removed), keep the
    /// credential.
    Retire {
        /// Profile id.
        id: ProfileId,
    },
    /// Remove the credential and its order/lastGood/usageStats entries, in every layer.
    Delete {
        /// Profile id.
        id: ProfileId,
    },
    /// Clear the profile's `blockedUntil`/`cooldownUntil`/`disabledUntil` windows (with the
    /// fields OpenClaw clears with them, see [`unblock`]) in the layer whose `usageStats`
    /// entry the gateway reads; nothing else.
    Unblock {
        /// Profile id.
        id: ProfileId,
    },
}

impl std::fmt::Debug for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Change::UpsertProfile { id, fields } => f
                .debug_struct("UpsertProfile")
                .field("id", id)
                .field("fields", &fields.keys().collect::<Vec<_>>())
                .finish(),
            Change::SetOrder { provider, ids } => f
                .debug_struct("SetOrder")
                .field("provider", provider)
                .field("ids", ids)
                .finish(),
            Change::ClearOrder { provider } => f
                .debug_struct("ClearOrder")
                .field("provider", provider)
                .finish(),
            Change::Retire { id } => f.debug_struct("Retire").field("id", id).finish(),
            Change::Delete { id } => f.debug_struct("Delete").field("id", id).finish(),
            Change::Unblock { id } => f.debug_struct("Unblock").field("id", id).finish(),
        }
    }
}

/// What a change did.
#[derive(Debug, Clone)]
pub struct Applied {
    /// The layers written (empty: nothing needed changing).
    pub written: Vec<LayerId>,
    /// The effective view before.
    pub before: Snapshot,
    /// The effective view after, read back.
    pub after: Snapshot,
}

/// An opened store: its format and layers. Opening detects; it never writes.
#[derive(Debug, Clone)]
pub struct Store {
    opts: StoreOptions,
    info: StoreInfo,
    layers: Vec<LayerId>,
    lock_wait: Duration,
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Store {
    /// Detect the store (or check the forced one). Writes nothing.
    pub fn open(opts: StoreOptions) -> Result<Store, StoreError> {
        let d = detect::detect(&opts)?;
        let path = d
            .layers
            .first()
            .map(|l| l.path.clone())
            .unwrap_or_else(|| opts.state_dir.clone());
        Ok(Store {
            info: StoreInfo {
                format: d.format,
                path,
            },
            layers: d.layers,
            opts,
            lock_wait: lock::DEFAULT_WAIT,
        })
    }

    /// How long a json write waits for another process's live lock (default 10 s).
    pub fn with_lock_wait(mut self, wait: Duration) -> Store {
        self.lock_wait = wait;
        self
    }

    /// Which store this is.
    pub fn info(&self) -> &StoreInfo {
        &self.info
    }

    /// The state directory.
    pub fn state_dir(&self) -> &Path {
        &self.opts.state_dir
    }

    /// The agent.
    pub fn agent(&self) -> &str {
        &self.opts.agent
    }

    /// The Codex provider id new profiles get: `openai` for databases, `openai-codex` for json.
    pub fn codex_provider(&self) -> Provider {
        match self.info.format {
            StoreFormat::Json => Provider::OpenAiCodex,
            _ => Provider::OpenAi,
        }
    }

    /// The layers, shared first, then the overlay.
    pub fn layers(&self) -> Vec<LayerId> {
        self.layers.clone()
    }

    fn check_layer(&self, layer: &LayerId) -> Result<(), StoreError> {
        if self.layers.contains(layer) {
            Ok(())
        } else {
            Err(StoreError::UnknownLayer(layer.to_string()))
        }
    }

    /// Read one layer's documents.
    pub fn read_layer(&self, layer: &LayerId) -> Result<LayerDocs, StoreError> {
        self.check_layer(layer)?;
        match layer.backend() {
            Backend::JsonFiles => json::read_layer(&layer.path),
            b => sqlite::read_layer(&layer.path, b),
        }?
        .validate(&layer.path)
    }

    /// The effective merged view.
    pub fn load(&self) -> Result<Snapshot, StoreError> {
        let mut docs = Vec::with_capacity(self.layers.len());
        for l in &self.layers {
            docs.push((l.clone(), self.read_layer(l)?));
        }
        Ok(Snapshot::build(
            self.info.clone(),
            docs,
            AuthConfig::read(&self.opts.state_dir),
            now_ms(),
        ))
    }

    /// Run `edit` on the layer's fresh documents under its lock or transaction.
    fn edit_layer<F>(&self, layer: &LayerId, edit: F) -> Result<bool, StoreError>
    where
        F: FnOnce(LayerDocs) -> Result<Option<LayerDocs>, StoreError>,
    {
        match layer.backend() {
            // Only a forced json store may create its file (detection refused it beside a
            // database store).
            Backend::JsonFiles => json::write_layer(&layer.path, self.lock_wait, true, edit),
            b => sqlite::write_layer(&layer.path, b, edit),
        }
    }

    /// Replace a layer's documents (restore): locked, atomic, read back and compared.
    pub fn write_layer(&self, layer: &LayerId, docs: &LayerDocs) -> Result<(), StoreError> {
        self.check_layer(layer)?;
        self.edit_layer(layer, |_| Ok(Some(docs.clone())))?;
        let back = self.read_layer(layer)?;
        if back.store != docs.store || back.state != docs.state {
            return Err(StoreError::VerifyFailed {
                layer: layer.to_string(),
                what: "the documents read back differ from those written".into(),
            });
        }
        Ok(())
    }

    /// Replace a layer's documents with what `make` builds from its fresh copy, under the
    /// lock or transaction (restore: the fresh copy's live credentials must survive a refresh
    /// made after preflight). Read back and compared; returns the documents written.
    pub fn replace_layer_with<F>(&self, layer: &LayerId, make: F) -> Result<LayerDocs, StoreError>
    where
        F: FnOnce(&LayerDocs) -> LayerDocs,
    {
        self.check_layer(layer)?;
        let mut written = None;
        self.edit_layer(layer, |fresh| {
            let new = make(&fresh);
            written = Some(new.clone());
            Ok(Some(new))
        })?;
        let docs = written.unwrap_or_else(LayerDocs::empty);
        let back = self.read_layer(layer)?;
        if back.store != docs.store || back.state != docs.state {
            return Err(StoreError::VerifyFailed {
                layer: layer.to_string(),
                what: "the documents read back differ from those written".into(),
            });
        }
        Ok(docs)
    }

    /// Apply a change: plan from the effective view, then per layer re-read under the lock or
    /// transaction and edit the fresh copy, then read back and check.
    pub fn apply(&self, change: &Change) -> Result<Applied, StoreError> {
        let before = self.load()?;
        let edits = edit::plan(change, &before)?;
        let mut written = Vec::new();
        for (layer, e) in &edits {
            let wrote = self.edit_layer(layer, |fresh| {
                let new = edit::apply_edit(e, fresh.clone())?;
                Ok((new != fresh).then_some(new))
            })?;
            if wrote {
                written.push(layer.clone());
            }
        }
        let after = self.load()?;
        if let Err(what) = edit::verify(change, &before, &after) {
            return Err(StoreError::VerifyFailed {
                layer: written
                    .first()
                    .or(edits.first().map(|(l, _)| l))
                    .map_or_else(|| "the store".to_owned(), ToString::to_string),
                what,
            });
        }
        Ok(Applied {
            written,
            before,
            after,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn debug_of_changes_and_snapshots_holds_no_token() {
        let mut fields = serde_json::Map::new();
        fields.insert("access".into(), json!("TOKEN-VALUE-123"));
        let change = Change::UpsertProfile {
            id: ProfileId::parse("openai:a").unwrap(),
            fields,
        };
        let text = format!("{change:?}");
        assert!(text.contains("access") && !text.contains("TOKEN-VALUE-123"));

        let layer = LayerId::shared(StoreFormat::StateDb, Path::new("/x"));
        let docs = LayerDocs {
            store: json!({"version": 1, "profiles": {"openai:a": {"type": "oauth", "access": "TOKEN-VALUE-123", "refresh": "TOKEN-VALUE-456"}}}),
            state: json!({"version": 1}),
        };
        let info = StoreInfo {
            format: StoreFormat::StateDb,
            path: "/x".into(),
        };
        let snap = Snapshot::build(info, vec![(layer, docs)], AuthConfig::default(), 0);
        let text = format!("{snap:?}");
        assert!(text.contains("openai:a"));
        assert!(!text.contains("TOKEN-VALUE"), "{text}");
    }
}
