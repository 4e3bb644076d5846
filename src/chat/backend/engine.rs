//! [`EngineBackend`]: the chat's [`Backend`] over the real engine. The store is opened afresh
//! for every request (the gateway may change it at any time) on a blocking thread, since
//! SQLite and file locks block; the usage check and the OAuth logins run on the async runtime
//! (the engine's login futures are `Send + 'static` once they own their inputs, so a device
//! login simply runs as its own task).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;

use crate::chat::backend::unresolved::unresolved;
use crate::chat::backend::{
    Backend, BackendError, BackendResult, ChangeDone, DeviceLogin, HistoryChart, LoginDone,
    LoginStarted, OrderChange, OrderOutcome, OrderView, ProfileView, UsageReport, order,
};

#[path = "admin.rs"]
pub(super) mod admin;
#[path = "fresh.rs"]
mod fresh;
#[path = "in_flight.rs"]
mod in_flight;
use crate::chat::config::{ChatConfig, ConfigError, StoreOptions};
use crate::chat::transport::{BoxFuture, UserId};
use crate::engine::change::{self, ExecuteOptions};
use crate::engine::clock::{Now, Zone};
use crate::engine::endpoint;
use crate::engine::forecast::render as forecast_render;
use crate::engine::history::{self, Retention};
use crate::engine::label::display_labels;
use crate::engine::oauth::device::{DeviceEvent, DeviceOptions};
use crate::engine::oauth::login::SavedLogin;
use crate::engine::oauth::pending::PendingLogins;
use crate::engine::oauth::{Issuer, Requester, flow};
use crate::engine::profile::ProfileId;
use crate::engine::rotation::{self, Rotation};
use crate::engine::selector::Selector;
use crate::engine::store::{Change, Snapshot, Store};
use crate::engine::usage::select::peers;
use crate::engine::usage::{ProfileToCheck, UsageChecker, UsageOptions, profiles_to_check, report};
use crate::engine::{Failure, store};
use crate::secret::Secret;
use admin::{BackupView, DoctorReport, FixOutcome, LayersReport, Remedy, RestorePreview};

/// The real engine behind the chat.
pub struct EngineBackend {
    /// The configured agent's store.
    store: store::StoreOptions,
    /// The chat's store options, from which another agent's are made.
    chat_store: StoreOptions,
    usage: Arc<UsageChecker>,
    issuer: Issuer,
    via_gateway: bool,
    snapshots: Arc<SnapshotCache>,
    /// The state directory's agents, listed at most once a second ([`fresh::Fresh`]).
    agents: fresh::Fresh<Vec<String>, Option<std::time::SystemTime>>,
    /// Usage checks in flight, shared by every request asking the same ([`in_flight`]).
    checks: in_flight::InFlight<BackendResult<UsageReport>>,
    retention: Retention,
    zone: Zone,
    now: Now,
}

/// How long a store read serves further read-only requests. Many chats tapping at once (a
/// group, or a burst after an outage) then share one read instead of each opening the
/// gateway's large state database before its progress message can go out.
const SNAPSHOT_FRESH: Duration = Duration::from_secs(1);

type Loaded = Arc<(Store, Snapshot)>;

/// The latest store read for read-only requests, one [`fresh::Fresh`] per agent: one read in
/// flight at a time (the others wait for it), reused while fresh, dropped after every change
/// the chat makes so its next view shows that change. Changes themselves always re-read
/// inside the engine's pipeline.
#[derive(Default)]
struct SnapshotCache {
    agents: std::sync::Mutex<std::collections::HashMap<String, Arc<fresh::Fresh<Loaded>>>>,
}

impl SnapshotCache {
    async fn get(&self, opts: &store::StoreOptions) -> BackendResult<Loaded> {
        let slot = {
            let mut agents = self
                .agents
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            Arc::clone(
                agents
                    .entry(opts.agent.clone())
                    .or_insert_with(|| Arc::new(fresh::Fresh::new(SNAPSHOT_FRESH))),
            )
        };
        let opts = opts.clone();
        slot.get((), move || {
            let store = Store::open(opts).map_err(fail)?;
            let snap = store.load().map_err(fail)?;
            Ok(Arc::new((store, snap)))
        })
        .await
    }

    fn invalidate(&self) {
        let agents = self
            .agents
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for slot in agents.values() {
            slot.invalidate();
        }
    }
}

/// Pending logins belong to (profile, requester); a chat user is `chat:<user id>`.
fn requester(user: UserId) -> Requester {
    Requester::chat(format!("chat:{}", user.0))
}

fn done(s: SavedLogin) -> LoginDone {
    LoginDone {
        requested: (s.requested_profile != s.profile).then(|| s.requested_profile.clone()),
        account: Some(s.account.clone()),
        profile: s.profile,
        email: s.email,
        plan: s.plan,
        updated: !s.new_profile,
    }
}

fn cancelled() -> BackendError {
    BackendError::runtime("cancelled", "the device login was cancelled")
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

pub(super) fn fail(e: impl Failure) -> BackendError {
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
        opts.concurrency = config.usage_concurrency;
        let usage = UsageChecker::new(opts).map_err(|e| ConfigError::Endpoint(e.to_string()))?;
        Ok(EngineBackend {
            store: engine_store_options(&config.store)?,
            chat_store: config.store.clone(),
            usage: Arc::new(usage),
            issuer,
            via_gateway: config.via_gateway,
            snapshots: Arc::default(),
            agents: fresh::Fresh::new(SNAPSHOT_FRESH),
            checks: in_flight::InFlight::default(),
            retention: Retention::parse(config.history_days.as_deref())
                .map_err(|e| ConfigError::History(e.to_string()))?,
            zone: config.zone,
            now: config.now,
        })
    }

    /// The store options of the agent the running request uses
    /// ([`crate::chat::agents::current_agent`]), else the configured one's.
    fn store_opts(&self) -> BackendResult<store::StoreOptions> {
        match crate::chat::agents::current_agent() {
            Some(agent) if agent != self.chat_store.agent => {
                let o = StoreOptions {
                    agent,
                    ..self.chat_store.clone()
                };
                engine_store_options(&o)
                    .map_err(|e| BackendError::runtime("bad_agent", e.to_string()))
            }
            _ => Ok(self.store.clone()),
        }
    }

    /// The store and its effective view for a read-only request (see [`SnapshotCache`]).
    async fn snapshot(&self) -> BackendResult<Loaded> {
        self.snapshots.get(&self.store_opts()?).await
    }

    /// One usage check of `ids`, recorded in the history, with its forecast.
    async fn check_usage(&self, ids: Vec<ProfileId>) -> BackendResult<UsageReport> {
        let loaded = self.snapshot().await?;
        let (store, snap) = (&loaded.0, &loaded.1);
        let now = now_ms();
        // Re-read at run time: a profile that went away since the menu is an error, not
        // a silent gap.
        let mut profiles: Vec<ProfileToCheck> = Vec::new();
        for id in ids {
            let exact = Selector::Exact(id);
            let picked = profiles_to_check(snap, store.codex_provider(), &exact, now);
            profiles.extend(picked.map_err(fail)?);
        }
        let run = self.usage.check(profiles).await;
        let summary = run.summary();
        // People read these: each reset time in the operator's zone too.
        let shown = report::ShownAt {
            zone: self.zone,
            now_ms: self.now.ms(),
        };
        let lines = report::lines_shown(&run, &peers(snap), &shown);
        // Record the check and forecast from the history; a history fault is logged and
        // leaves the report without a forecast.
        let (state_dir, retention, zone) =
            (self.store.state_dir.clone(), self.retention, self.zone);
        let forecast = blocking(move || {
            let after = history::after_check(&state_dir, &run, Ok(retention), now_ms());
            for w in &after.warnings {
                tracing::warn!(warning = %w, "usage history");
            }
            Ok(after
                .forecast
                .map(|f| forecast_render::shown_lines(&f, &zone)))
        })
        .await?
        .unwrap_or_default();
        Ok(UsageReport {
            lines,
            ok_count: summary.remote_ok_count,
            failed_count: summary.remote_failed_count,
            usable_count: summary.usable_count,
            limited_count: summary.limited_count,
            forecast,
        })
    }

    /// Run one change through the engine's preflight, backup, apply, verify pipeline.
    fn change(
        &self,
        id: ProfileId,
        action: &'static str,
    ) -> BoxFuture<'_, BackendResult<ChangeDone>> {
        let opts = self.store_opts();
        let via_gateway = self.via_gateway;
        let snapshots = self.snapshots.clone();
        Box::pin(invalidating(
            snapshots,
            blocking(move || {
                let store = Store::open(opts?).map_err(fail)?;
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
                Ok(ChangeDone::from_report(profile, &r))
            }),
        ))
    }
}

/// Run a request that may change the store, then drop the cached view, whatever the outcome
/// (a failed change may still have written part of its work, e.g. through the gateway).
async fn invalidating<T>(
    snapshots: Arc<SnapshotCache>,
    work: impl Future<Output = BackendResult<T>>,
) -> BackendResult<T> {
    let result = work.await;
    snapshots.invalidate();
    result
}

/// The agent folders of `state_dir` (`agents/*/` with a plausible name), sorted; none when
/// there is no `agents` folder.
fn list_agents(state_dir: &std::path::Path) -> BackendResult<Vec<String>> {
    let Ok(dir) = std::fs::read_dir(state_dir.join("agents")) else {
        return Ok(Vec::new());
    };
    let mut agents: Vec<String> = dir
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| e.file_name().to_str().map(str::to_owned))
        .filter(|n| crate::chat::agents::plausible(n))
        .collect();
    agents.sort();
    Ok(agents)
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
            let loaded = self.snapshot().await?;
            let snap = &loaded.1;
            let now = now_ms();
            let labels = display_labels(&peers(snap));
            Ok(snap
                .codex
                .iter()
                .zip(labels)
                .map(|(p, label)| {
                    let h = snap.health(p, now);
                    let stats = snap.usage_stats(p.id.as_str());
                    ProfileView {
                        id: p.id.clone(),
                        label,
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
            let sel = Selector::parse(selector).map_err(unresolved)?;
            let loaded = self.snapshot().await?;
            let (store, snap) = (&loaded.0, &loaded.1);
            // The same selection step as the CLI's `usage --profile SEL`, ids only: every
            // chat of a burst resolves before its progress message, and building each
            // profile's check (a copy of its credential and its health) here cost as much
            // as the rest of that path at 50 profiles (`benches/chat`). The check itself
            // re-reads the profiles it runs on.
            let ids = sel
                .resolve_in(snap, store.codex_provider().as_str())
                .map_err(unresolved)?;
            Ok(ids
                .into_iter()
                .filter(|id| snap.profile(id).is_some())
                .collect())
        })
    }

    fn usage(&self, ids: Vec<ProfileId>) -> BoxFuture<'_, BackendResult<UsageReport>> {
        Box::pin(async move {
            // The same profiles of the same agent asked at the same time: one check.
            let agent = self.store_opts()?.agent;
            let names: Vec<&str> = ids.iter().map(ProfileId::as_str).collect();
            let key = format!("{agent}\n{}", names.join("\n"));
            self.checks.run(key, || self.check_usage(ids)).await
        })
    }

    fn login_start(
        &self,
        name: String,
        user: UserId,
    ) -> BoxFuture<'_, BackendResult<LoginStarted>> {
        let (opts, issuer) = (self.store_opts(), self.issuer.clone());
        Box::pin(blocking(move || {
            let store = Store::open(opts?).map_err(fail)?;
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
        let (opts, issuer) = (self.store_opts(), self.issuer.clone());
        let snapshots = self.snapshots.clone();
        Box::pin(invalidating(snapshots, async move {
            let store = blocking(move || Store::open(opts?).map_err(fail)).await?;
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
        let (opts, issuer) = (self.store_opts(), self.issuer.clone());
        let snapshots = self.snapshots.clone();
        Box::pin(async move {
            let (code_tx, code_rx) = oneshot::channel::<(String, String, i64)>();
            let (cancel_tx, cancel_rx) = oneshot::channel::<()>();
            let store = blocking(move || Store::open(opts?).map_err(fail)).await?;
            // Its own task: it keeps polling after this call returns the code.
            let task = tokio::spawn(async move {
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
            let result = async move {
                task.await.unwrap_or_else(|_| {
                    Err(BackendError::runtime(
                        "internal",
                        "the device login stopped unexpectedly",
                    ))
                })
            };
            match code_rx.await {
                Ok((user_code, verification_url, expires_at_ms)) => Ok(DeviceLogin {
                    verification_url,
                    user_code,
                    expires_in: Duration::from_millis((expires_at_ms - now_ms()).max(0) as u64),
                    done: Box::pin(invalidating(snapshots, async move {
                        let _cancel_on_drop = cancel_tx;
                        result.await
                    })),
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

    fn unblock(&self, id: ProfileId) -> BoxFuture<'_, BackendResult<ChangeDone>> {
        // The agent the tap's chat shows, as for every other change.
        let (opts, snapshots) = (self.store_opts(), self.snapshots.clone());
        Box::pin(invalidating(snapshots, async move {
            super::unblock::unblock(opts?, &self.usage, id).await
        }))
    }

    fn agents(&self) -> BoxFuture<'_, BackendResult<Vec<String>>> {
        let (state_dir, forced) = (self.store.state_dir.clone(), self.store.auth_path.is_some());
        Box::pin(async move {
            if forced {
                return Ok(Vec::new());
            }
            // An agent added or removed changes the folder's time: read again at once.
            let stamp = std::fs::metadata(state_dir.join("agents"))
                .and_then(|m| m.modified())
                .ok();
            self.agents
                .get(stamp, move || list_agents(&state_dir))
                .await
        })
    }

    fn saved_agents(&self) -> Vec<crate::chat::agents::Saved> {
        super::agent_memory::load(&self.store.state_dir)
    }

    fn save_agent(
        &self,
        user: UserId,
        chat: crate::chat::transport::ChatId,
        agent: Option<String>,
    ) -> BoxFuture<'_, BackendResult<()>> {
        let state_dir = self.store.state_dir.clone();
        Box::pin(blocking(move || {
            super::agent_memory::save(&state_dir, user, chat, agent)
        }))
    }

    fn rotation(&self) -> BoxFuture<'_, BackendResult<Rotation>> {
        Box::pin(async move {
            let loaded = self.snapshot().await?;
            // The session pins are read from the agent database: off the async threads.
            blocking(move || {
                let (store, snap) = (&loaded.0, &loaded.1);
                let pins = rotation::pins(store);
                let provider = store.codex_provider();
                Ok(rotation::analyse(
                    snap,
                    provider.as_str(),
                    store.agent(),
                    &pins,
                ))
            })
            .await
        })
    }

    fn usage_history(
        &self,
        ids: Vec<ProfileId>,
        png: bool,
    ) -> BoxFuture<'_, BackendResult<HistoryChart>> {
        Box::pin(async move {
            let loaded = self.snapshot().await?;
            let (state_dir, retention, zone) =
                (self.store.state_dir.clone(), self.retention, self.zone);
            // SQLite and the PNG encoder block: off the async threads.
            blocking(move || {
                super::history::chart(&loaded.1, &state_dir, retention, &ids, png, now_ms(), &zone)
            })
            .await
        })
    }

    fn order(&self) -> BoxFuture<'_, BackendResult<OrderView>> {
        Box::pin(async move {
            let loaded = self.snapshot().await?;
            let (store, snap) = (&loaded.0, &loaded.1);
            let target = store
                .layers()
                .first()
                .map(ToString::to_string)
                .unwrap_or_default();
            Ok(order::view(snap, store.codex_provider().as_str(), target))
        })
    }

    fn order_members(
        &self,
        selectors: Vec<String>,
    ) -> BoxFuture<'_, BackendResult<Vec<Option<ProfileId>>>> {
        Box::pin(async move {
            let loaded = self.snapshot().await?;
            let (store, snap) = (&loaded.0, &loaded.1);
            order::members(snap, store.codex_provider().as_str(), &selectors).map_err(unresolved)
        })
    }

    fn order_change(
        &self,
        change: OrderChange,
        apply: bool,
    ) -> BoxFuture<'_, BackendResult<OrderOutcome>> {
        let (opts, via_gateway) = (self.store.clone(), self.via_gateway);
        let work = blocking(move || {
            let store = Store::open(opts).map_err(fail)?;
            order::run(&store, &change, apply, via_gateway).map_err(fail)
        });
        if apply {
            Box::pin(invalidating(self.snapshots.clone(), work))
        } else {
            Box::pin(work)
        }
    }

    fn backups(&self) -> BoxFuture<'_, BackendResult<Vec<BackupView>>> {
        self.backups_list()
    }

    fn restore_preview(&self, name: String) -> BoxFuture<'_, BackendResult<RestorePreview>> {
        self.restore_plan(name)
    }

    fn restore(&self, name: String) -> BoxFuture<'_, BackendResult<ChangeDone>> {
        self.restore_run(name)
    }

    fn layers(&self) -> BoxFuture<'_, BackendResult<LayersReport>> {
        self.layers_view()
    }

    fn doctor(&self) -> BoxFuture<'_, BackendResult<DoctorReport>> {
        self.doctor_view()
    }

    fn fix(&self, remedy: Remedy, confirmed: bool) -> BoxFuture<'_, BackendResult<FixOutcome>> {
        self.apply_fix(remedy, confirmed)
    }
}
