//! [`EngineBackend`]: the chat's [`Backend`] over the real engine. The store is opened afresh
//! for every request (the gateway may change it at any time) on a blocking thread, since
//! SQLite and file locks block; the usage check runs on the async runtime.

use std::path::PathBuf;
use std::sync::Arc;

use crate::chat::backend::{
    Backend, BackendError, BackendResult, ChangeDone, DeviceLogin, LoginDone, LoginStarted,
    ProfileView, UsageReport,
};
use crate::chat::config::{ChatConfig, ConfigError, StoreOptions};
use crate::chat::transport::{BoxFuture, UserId};
use crate::engine::change::{self, ExecuteOptions};
use crate::engine::endpoint;
use crate::engine::profile::ProfileId;
use crate::engine::selector::Selector;
use crate::engine::store::{Change, Snapshot, Store, StoreChoice, StoreFormat};
use crate::engine::usage::{ProfileToCheck, UsageChecker, UsageOptions, report};
use crate::engine::{Failure, store};
use crate::secret::Secret;

/// The real engine behind the chat.
pub struct EngineBackend {
    store: store::StoreOptions,
    usage: Arc<UsageChecker>,
    via_gateway: bool,
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn fail(e: impl Failure) -> BackendError {
    BackendError::from_failure(&e)
}

/// The engine's store options from the chat's: the state directory defaults to
/// `$HOME/.openclaw`, like the CLI's.
fn engine_store_options(o: &StoreOptions) -> Result<store::StoreOptions, ConfigError> {
    let state_dir = match &o.state_dir {
        Some(d) => d.clone(),
        None => std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(|h| PathBuf::from(h).join(".openclaw"))
            .ok_or(ConfigError::NoStateDir)?,
    };
    let choice = match o.format.as_deref() {
        None | Some("auto") => StoreChoice::Auto,
        Some("state-db") => StoreChoice::Force(StoreFormat::StateDb),
        Some("agent-db") => StoreChoice::Force(StoreFormat::AgentDb),
        Some("json") => StoreChoice::Force(StoreFormat::Json),
        Some(other) => {
            return Err(ConfigError::BadStoreFormat(
                other.chars().take(20).collect(),
            ));
        }
    };
    Ok(store::StoreOptions {
        state_dir,
        agent: o.agent.clone(),
        choice,
        auth_path: o.auth_path.clone(),
    })
}

impl EngineBackend {
    /// Check the configuration's endpoints before anything is sent, and remember the store.
    pub fn new(config: &ChatConfig) -> Result<EngineBackend, ConfigError> {
        let endpoint_err = |e: endpoint::EndpointError| ConfigError::Endpoint(e.to_string());
        endpoint::auth_issuer(config.auth_issuer.as_deref()).map_err(endpoint_err)?;
        let url = endpoint::usage_url(config.usage_url.as_deref()).map_err(endpoint_err)?;
        let mut opts = UsageOptions::new(url);
        opts.timeout = config.usage_timeout;
        opts.retries = config.usage_retries;
        let usage = UsageChecker::new(opts).map_err(|e| ConfigError::Endpoint(e.to_string()))?;
        Ok(EngineBackend {
            store: engine_store_options(&config.store)?,
            usage: Arc::new(usage),
            via_gateway: config.via_gateway,
        })
    }

    /// Open the store and read it, on a blocking thread.
    async fn snapshot(&self) -> BackendResult<(Store, Snapshot)> {
        let opts = self.store.clone();
        blocking(move || {
            let store = Store::open(opts).map_err(fail)?;
            let snap = store.load().map_err(fail)?;
            Ok((store, snap))
        })
        .await
    }

    fn not_wired<T: Send + 'static>(what: &'static str) -> BoxFuture<'static, BackendResult<T>> {
        Box::pin(async move {
            Err(BackendError::runtime(
                "not_built",
                format!("{what} is not available yet in this build"),
            ))
        })
    }

    /// Run one change through the engine's preflight, backup, apply, verify pipeline.
    fn change(
        &self,
        id: ProfileId,
        action: &'static str,
    ) -> BoxFuture<'_, BackendResult<ChangeDone>> {
        let opts = self.store.clone();
        let via_gateway = self.via_gateway;
        Box::pin(blocking(move || {
            let store = Store::open(opts).map_err(fail)?;
            let profile = id.to_string();
            let change = match action {
                "delete" => Change::Delete { id },
                _ => Change::Retire { id },
            };
            let exec = ExecuteOptions {
                dry_run: false,
                action,
                via_gateway,
                queue_apply: false,
                before_apply: None,
            };
            let r = change::execute(&store, change, &exec).map_err(fail)?;
            let layers: Vec<String> = r.written.iter().map(ToString::to_string).collect();
            Ok(ChangeDone {
                profile,
                layer: if layers.is_empty() {
                    "no layer (nothing to change)".to_owned()
                } else {
                    layers.join(", ")
                },
                verified: r.verified,
                backup: r.backups.first().cloned(),
            })
        }))
    }
}

/// Run blocking store work off the async runtime.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> BackendResult<T> + Send + 'static,
) -> BackendResult<T> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|_| {
        Err(BackendError::runtime(
            "internal",
            "reading the store failed unexpectedly",
        ))
    })
}

fn order_of(store: &Store, snap: &Snapshot) -> Vec<ProfileId> {
    snap.effective_order(store.codex_provider().as_str())
        .ids
        .iter()
        .filter_map(|id| ProfileId::parse(id).ok())
        .collect()
}

impl Backend for EngineBackend {
    fn profiles(&self) -> BoxFuture<'_, BackendResult<Vec<ProfileView>>> {
        Box::pin(async move {
            let (_, snap) = self.snapshot().await?;
            let now = now_ms();
            Ok(snap
                .codex
                .iter()
                .map(|p| {
                    let h = snap.health(p, now);
                    let stats = snap.usage_stats(p.id.as_str());
                    ProfileView {
                        id: p.id.clone(),
                        label: p.label().to_owned(),
                        plan: p.plan.clone(),
                        status: h.status.as_str().to_owned(),
                        expires_at: h.token_expires_at,
                        in_order: h.in_order,
                        last_good: h.last_good,
                        unusable_until: stats
                            .unusable_until(now)
                            .and_then(crate::engine::health::iso_ms),
                        error_count: h.error_count,
                    }
                })
                .collect())
        })
    }

    fn resolve<'a>(&'a self, selector: &'a str) -> BoxFuture<'a, BackendResult<Vec<ProfileId>>> {
        Box::pin(async move {
            let sel = Selector::parse(selector).map_err(fail)?;
            let (store, snap) = self.snapshot().await?;
            sel.resolve(&snap.codex_ids(), &order_of(&store, &snap))
                .map_err(fail)
        })
    }

    fn usage(&self, ids: Vec<ProfileId>) -> BoxFuture<'_, BackendResult<UsageReport>> {
        Box::pin(async move {
            let (_, snap) = self.snapshot().await?;
            let now = now_ms();
            let profiles: Vec<ProfileToCheck> = ids
                .iter()
                .filter_map(|id| snap.profile(id))
                .map(|p| ProfileToCheck {
                    profile: p.clone(),
                    local: snap.health(p, now),
                })
                .collect();
            let run = self.usage.check(profiles).await;
            let summary = run.summary();
            Ok(UsageReport {
                lines: run.profiles.iter().map(report::line).collect(),
                ok_count: summary.remote_ok_count,
                failed_count: summary.remote_failed_count,
            })
        })
    }

    fn login_start(
        &self,
        _name: String,
        _requester: UserId,
    ) -> BoxFuture<'_, BackendResult<LoginStarted>> {
        Self::not_wired("login")
    }

    fn pending_login(&self, _requester: UserId) -> BoxFuture<'_, BackendResult<Option<String>>> {
        Self::not_wired("login")
    }

    fn login_finish(
        &self,
        _name: Option<String>,
        _requester: UserId,
        _callback_url: Secret<String>,
    ) -> BoxFuture<'_, BackendResult<LoginDone>> {
        Self::not_wired("login")
    }

    fn device_start(
        &self,
        _name: String,
        _requester: UserId,
    ) -> BoxFuture<'_, BackendResult<DeviceLogin>> {
        Self::not_wired("device login")
    }

    fn retire(&self, id: ProfileId) -> BoxFuture<'_, BackendResult<ChangeDone>> {
        self.change(id, "retire")
    }

    fn delete(&self, id: ProfileId) -> BoxFuture<'_, BackendResult<ChangeDone>> {
        self.change(id, "delete")
    }
}
