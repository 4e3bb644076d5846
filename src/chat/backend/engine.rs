//! [`EngineBackend`]: the chat's [`Backend`] over the real engine. The store is opened afresh
//! for every request (the gateway may change it at any time) on a blocking thread, since
//! SQLite and file locks block; the usage check runs on the async runtime.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;

use crate::chat::backend::{
    Backend, BackendError, BackendResult, ChangeDone, DeviceLogin, LoginDone, LoginStarted,
    ProfileView, UsageReport,
};
use crate::chat::config::{ChatConfig, ConfigError, StoreOptions};
use crate::chat::transport::{BoxFuture, UserId};
use crate::engine::change::{self, ExecuteOptions};
use crate::engine::endpoint;
use crate::engine::oauth::device::{DeviceEvent, DeviceOptions};
use crate::engine::oauth::login::SavedLogin;
use crate::engine::oauth::pending::PendingLogins;
use crate::engine::oauth::{Issuer, Requester, flow};
use crate::engine::profile::ProfileId;
use crate::engine::selector::Selector;
use crate::engine::store::{Change, Snapshot, Store};
use crate::engine::usage::{ProfileToCheck, UsageChecker, UsageOptions, profiles_to_check, report};
use crate::engine::{Failure, store};
use crate::secret::Secret;

/// The real engine behind the chat.
pub struct EngineBackend {
    store: store::StoreOptions,
    usage: Arc<UsageChecker>,
    issuer: Issuer,
    via_gateway: bool,
}

/// Pending logins belong to (profile, requester); a chat user is `chat:<user id>`.
fn requester(user: UserId) -> Requester {
    Requester::chat(format!("chat:{}", user.0))
}

fn done(s: SavedLogin) -> LoginDone {
    LoginDone {
        profile: s.profile,
        email: s.email,
        plan: s.plan,
        updated: !s.new_profile,
    }
}

fn cancelled() -> BackendError {
    BackendError::runtime("cancelled", "the device login was cancelled")
}

/// Run an engine future that is not `Send` (the OAuth token exchange borrows its HTTP client
/// in a way the compiler cannot prove `Send` for every lifetime) to completion on its own
/// thread and single-threaded runtime, and wait for it from any runtime.
fn on_own_runtime<T, F>(
    make: impl FnOnce() -> F + Send + 'static,
) -> impl Future<Output = BackendResult<T>> + Send + 'static
where
    T: Send + 'static,
    F: Future<Output = BackendResult<T>>,
{
    let (tx, rx) = oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name("codex-profiler-oauth".into())
        .spawn(move || {
            let result = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt.block_on(make()),
                Err(_) => Err(BackendError::runtime(
                    "runtime",
                    "the login could not start its runtime",
                )),
            };
            let _ = tx.send(result);
        });
    async move {
        if spawned.is_err() {
            return Err(BackendError::runtime(
                "runtime",
                "the login could not start a thread",
            ));
        }
        rx.await.unwrap_or_else(|_| {
            Err(BackendError::runtime(
                "internal",
                "the login stopped unexpectedly",
            ))
        })
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn fail(e: impl Failure) -> BackendError {
    BackendError::from_failure(&e)
}

/// The engine's store options from the chat's, resolved the way the CLI resolves them.
fn engine_store_options(o: &StoreOptions) -> Result<store::StoreOptions, ConfigError> {
    let choice = store::StoreChoice::parse(o.format.as_deref().unwrap_or("auto"))
        .map_err(|e| ConfigError::Store(e.to_string()))?;
    store::StoreOptions::resolve(o.state_dir.clone(), &o.agent, choice, o.auth_path.clone())
        .map_err(|e| ConfigError::Store(e.to_string()))
}

impl EngineBackend {
    /// Check the configuration's endpoints before anything is sent, and remember the store.
    pub fn new(config: &ChatConfig) -> Result<EngineBackend, ConfigError> {
        let endpoint_err = |e: endpoint::EndpointError| ConfigError::Endpoint(e.to_string());
        let issuer = Issuer::from_override(config.auth_issuer.as_deref()).map_err(endpoint_err)?;
        let url = endpoint::usage_url(config.usage_url.as_deref()).map_err(endpoint_err)?;
        let mut opts = UsageOptions::new(url);
        opts.timeout = config.usage_timeout;
        opts.retries = config.usage_retries;
        let usage = UsageChecker::new(opts).map_err(|e| ConfigError::Endpoint(e.to_string()))?;
        Ok(EngineBackend {
            store: engine_store_options(&config.store)?,
            usage: Arc::new(usage),
            issuer,
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
            // The same selection step as the CLI's `usage --profile SEL`.
            let picked = profiles_to_check(&snap, store.codex_provider(), &sel, now_ms());
            Ok(picked
                .map_err(fail)?
                .into_iter()
                .map(|p| p.profile.id)
                .collect())
        })
    }

    fn usage(&self, ids: Vec<ProfileId>) -> BoxFuture<'_, BackendResult<UsageReport>> {
        Box::pin(async move {
            let (store, snap) = self.snapshot().await?;
            let now = now_ms();
            // Re-read at run time: a profile that went away since the menu is an error, not
            // a silent gap.
            let mut profiles: Vec<ProfileToCheck> = Vec::new();
            for id in ids {
                let exact = Selector::Exact(id);
                let picked = profiles_to_check(&snap, store.codex_provider(), &exact, now);
                profiles.extend(picked.map_err(fail)?);
            }
            let run = self.usage.check(profiles).await;
            let summary = run.summary();
            Ok(UsageReport {
                lines: report::lines(&run),
                ok_count: summary.remote_ok_count,
                failed_count: summary.remote_failed_count,
            })
        })
    }

    fn login_start(
        &self,
        name: String,
        user: UserId,
    ) -> BoxFuture<'_, BackendResult<LoginStarted>> {
        let (opts, issuer) = (self.store.clone(), self.issuer.clone());
        Box::pin(blocking(move || {
            let store = Store::open(opts).map_err(fail)?;
            let s = flow::start_login(&store, &issuer, &name, &requester(user)).map_err(fail)?;
            let left_ms = (s.expires_at_ms - now_ms()).max(0) as u64;
            Ok(LoginStarted {
                profile: s.profile,
                authorize_url: s.authorize_url.to_string(),
                expires_in: Duration::from_millis(left_ms),
            })
        }))
    }

    fn pending_login(&self, user: UserId) -> BoxFuture<'_, BackendResult<Option<String>>> {
        let state_dir = self.store.state_dir.clone();
        Box::pin(blocking(move || {
            let who = requester(user);
            let pending = PendingLogins::at(&state_dir).list(now_ms()).map_err(fail)?;
            Ok(pending
                .into_iter()
                .rev()
                .find(|p| p.requester == who.as_str())
                .map(|p| p.profile))
        }))
    }

    fn login_finish(
        &self,
        name: Option<String>,
        user: UserId,
        callback_url: Secret<String>,
    ) -> BoxFuture<'_, BackendResult<LoginDone>> {
        let (opts, issuer) = (self.store.clone(), self.issuer.clone());
        Box::pin(on_own_runtime(move || async move {
            let store = Store::open(opts).map_err(fail)?;
            let who = requester(user);
            let saved =
                flow::finish_login(&store, &issuer, name.as_deref(), &who, &callback_url).await;
            saved.map(done).map_err(fail)
        }))
    }

    fn device_start(
        &self,
        name: String,
        _user: UserId,
    ) -> BoxFuture<'_, BackendResult<DeviceLogin>> {
        let (opts, issuer) = (self.store.clone(), self.issuer.clone());
        Box::pin(async move {
            let (code_tx, code_rx) = oneshot::channel::<(String, String, i64)>();
            let (cancel_tx, cancel_rx) = oneshot::channel::<()>();
            let result = on_own_runtime(move || async move {
                let store = Store::open(opts).map_err(fail)?;
                let mut code_tx = Some(code_tx);
                // The code comes back through the progress callback while the flow polls.
                let mut on_event = move |e: DeviceEvent| {
                    if let DeviceEvent::Code {
                        user_code,
                        verification_url,
                        expires_at_ms,
                    } = e
                    {
                        if let Some(tx) = code_tx.take() {
                            let _ = tx.send((user_code, verification_url, expires_at_ms));
                        }
                    }
                };
                let login = flow::device_and_save(
                    &store,
                    &issuer,
                    &name,
                    DeviceOptions::default(),
                    &mut on_event,
                );
                tokio::select! {
                    r = login => r.map(done).map_err(fail),
                    // The chat dropped `done`: stop polling, write nothing.
                    _ = cancel_rx => Err(cancelled()),
                }
            });
            match code_rx.await {
                Ok((user_code, verification_url, expires_at_ms)) => Ok(DeviceLogin {
                    verification_url,
                    user_code,
                    expires_in: Duration::from_millis((expires_at_ms - now_ms()).max(0) as u64),
                    done: Box::pin(async move {
                        let _cancel_on_drop = cancel_tx;
                        result.await
                    }),
                }),
                // The flow ended before it had a code: its own error says why.
                Err(_) => result.await.and(Err(cancelled())),
            }
        })
    }

    fn retire(&self, id: ProfileId) -> BoxFuture<'_, BackendResult<ChangeDone>> {
        self.change(id, "retire")
    }

    fn delete(&self, id: ProfileId) -> BoxFuture<'_, BackendResult<ChangeDone>> {
        self.change(id, "delete")
    }
}
