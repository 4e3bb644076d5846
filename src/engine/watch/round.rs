//! A watcher round, from the store to a [`Round`] waiting to be committed: read the store,
//! check the profiles (all at once within the usage concurrency cap for `watch --once`;
//! spread over the interval by [`super::schedule`] in the loop), append each check to the
//! history (`history::after_check`, which also forecasts), apply [`super::rules`], and run
//! [`after_round`]. The state is written only by [`Round::commit`], which the caller runs
//! after the change set was delivered or printed: a crash before that repeats the round's
//! checks, never a notification that went out.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::{Duration, Instant};

use tokio::sync::watch as signal;

use super::config::WatchConfig;
use super::event::{ChangeSet, Event};
use super::rules::{Observation, evaluate};
use super::{schedule, state};
use crate::engine::change::ChangeError;
use crate::engine::forecast::ProfileForecast;
use crate::engine::history::{self, Retention};
use crate::engine::selector::{SelectError, Selector};
use crate::engine::store::{Snapshot, Store, StoreError, StoreOptions};
use crate::engine::usage::select::peers;
use crate::engine::usage::{ProfileToCheck, UsageChecker, UsageRun, profiles_to_check, report};

/// A boxed future, for [`Sink`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where the loop delivers each change set (the bot: one message to each admin; the CLI:
/// stdout). `true` when it was delivered, so the state may be committed.
pub trait Sink: Send {
    /// Deliver one non-empty change set.
    fn deliver<'a>(&'a mut self, changes: &'a ChangeSet) -> BoxFuture<'a, bool>;
}

/// Everything a watcher needs; cheap to clone.
#[derive(Debug, Clone)]
pub struct Watcher {
    /// Which store to read.
    pub store: StoreOptions,
    /// The usage checker (its gate is the concurrency cap).
    pub checker: UsageChecker,
    /// Interval and alert settings.
    pub config: WatchConfig,
    /// History retention.
    pub retention: Retention,
}

/// One evaluated round, not yet remembered.
#[derive(Debug, Clone)]
pub struct Round {
    /// What to tell.
    pub changes: ChangeSet,
    /// The state to keep once it was told.
    pub next: state::WatchState,
    /// History and state faults, one sentence each (the check went on).
    pub warnings: Vec<String>,
    state_dir: PathBuf,
}

impl Round {
    /// Remember the round (`<state>/codex-profiler/watch.json`).
    pub fn commit(&self) -> Result<(), ChangeError> {
        state::save(&self.state_dir, &self.next)
    }
}

/// What a round gathered before it is evaluated.
struct Gathered {
    state_dir: PathBuf,
    prev: state::WatchState,
    observed: Vec<Observation>,
    forecasts: Vec<ProfileForecast>,
    warnings: Vec<String>,
}

impl Gathered {
    /// Start a round of the store in `state_dir`: its remembered state (a warning when it
    /// could not be read).
    fn start(state_dir: &Path) -> Gathered {
        let loaded = state::load(state_dir);
        Gathered {
            state_dir: state_dir.to_path_buf(),
            prev: loaded.state,
            observed: Vec::new(),
            forecasts: Vec::new(),
            warnings: loaded.warning.into_iter().collect(),
        }
    }
}

/// The hook after every round, where an automatic reorder runs: given the round's
/// observations and whether this is a dry run, the events it caused. Today it reorders
/// nothing; `engine::auto_order` is wired in here.
pub fn after_round(
    store: &StoreOptions,
    observations: &[Observation],
    dry_run: bool,
) -> Vec<Event> {
    use crate::engine::auto_order::{self, Settings, render};
    let settings = match Settings::from_env(|k| std::env::var(k).ok()) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "auto-order is misconfigured; the order was left alone");
            return Vec::new();
        }
    };
    if settings.strategy.is_none() {
        return Vec::new();
    }
    let results: Vec<_> = observations.iter().map(|o| o.result.clone()).collect();
    let opened = match Store::open(store.clone()) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "auto-order could not open the store");
            return Vec::new();
        }
    };
    match auto_order::after_round(&opened, &results, &settings, dry_run) {
        Ok(Some(o)) if o.reordered() || (dry_run && o.decision.reorders()) => {
            let d = &o.decision;
            vec![Event::Reordered {
                from: d.from.clone(),
                to: d.new_order().map(<[String]>::to_vec).unwrap_or_default(),
                first_before: d.first_before.clone(),
                first_after: d.new_order().and_then(|o| o.first().cloned()),
                why: render::sentence(d),
                pins: render::pins_sentence(d),
                backup: o
                    .change
                    .as_ref()
                    .and_then(|c| c.backups.first().map(|b| b.to_string())),
                dry_run,
            }]
        }
        Ok(_) => Vec::new(),
        Err(e) => {
            tracing::warn!(error = %e, "auto-order could not write the order");
            Vec::new()
        }
    }
}

/// Store work off the async threads.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    tokio::task::spawn_blocking(f).await.ok()
}

fn read(opts: &StoreOptions) -> Result<(Store, Snapshot), StoreError> {
    let store = Store::open(opts.clone())?;
    let snap = store.load()?;
    Ok((store, snap))
}

/// A store read whose task died (it panicked): said as an I/O failure of the state directory.
fn stopped(opts: &StoreOptions) -> StoreError {
    StoreError::Io {
        action: "read",
        path: opts.state_dir.clone(),
        detail: "the store read stopped unexpectedly".to_owned(),
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The profiles to check: every Codex profile (none is not an error for a watcher).
fn all(store: &Store, snap: &Snapshot, now: i64) -> Vec<ProfileToCheck> {
    match profiles_to_check(snap, store.codex_provider(), &Selector::All, now) {
        Ok(p) => p,
        Err(SelectError::NoProfiles) => Vec::new(),
        Err(e) => {
            tracing::warn!(error = %e, "watcher: no profiles to check");
            Vec::new()
        }
    }
}

/// Turn a run into observations, with the store's view of each profile.
fn observations(run: &UsageRun, snap: &Snapshot, now: i64) -> Vec<Observation> {
    let labels = report::labels_among(&run.profiles, &peers(snap));
    run.profiles
        .iter()
        .zip(labels)
        .map(|(r, label)| Observation {
            token_expires_at_ms: r
                .local
                .token_expires_at
                .as_deref()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.timestamp_millis()),
            unusable_until_ms: snap.usage_stats(&r.profile).unusable_until(now),
            result: r.clone(),
            label,
        })
        .collect()
}

/// The longest a 429 holds a profile back: a hold further away than this is taken to come
/// from a clock that went backwards since, not from the endpoint.
const MAX_HOLD_MS: i64 = 3_600_000;

/// Whether a 429's `Retry-After` still holds the profile back.
fn held_back(prev: &state::WatchState, id: &str, now: i64) -> bool {
    prev.profiles
        .get(id)
        .and_then(|p| p.retry_not_before_ms)
        .is_some_and(|t| t > now && t - now <= MAX_HOLD_MS)
}

impl Watcher {
    /// `watch --once`: check every profile now (those a 429 holds back excepted), record the
    /// checks in the history and evaluate. Nothing is remembered until [`Round::commit`].
    pub async fn once(&self, dry_run: bool) -> Result<Round, StoreError> {
        let opts = self.store.clone();
        let (store, snap) = blocking(move || read(&opts))
            .await
            .unwrap_or_else(|| Err(stopped(&self.store)))?;
        let mut g = Gathered::start(store.state_dir());
        let now = now_ms();
        let todo: Vec<ProfileToCheck> = all(&store, &snap, now)
            .into_iter()
            .filter(|p| !held_back(&g.prev, p.profile.id.as_str(), now))
            .collect();
        let run = self.checker.check(todo).await;
        self.record(&mut g, &run, &snap).await;
        Ok(self.finish(g, &snap, dry_run))
    }

    /// Append a run to the history, keeping its forecasts, warnings and observations.
    async fn record(&self, g: &mut Gathered, run: &UsageRun, snap: &Snapshot) {
        let (dir, checked, retention) = (g.state_dir.clone(), run.clone(), self.retention);
        let after =
            blocking(move || history::after_check(&dir, &checked, Ok(retention), now_ms())).await;
        match after {
            Some(a) => {
                g.forecasts
                    .extend(a.forecast.map(|f| f.profiles).unwrap_or_default());
                g.warnings.extend(a.warnings);
            }
            None => g
                .warnings
                .push("history skipped: the history task stopped".to_owned()),
        }
        g.observed.extend(observations(run, snap, now_ms()));
    }

    fn finish(&self, g: Gathered, snap: &Snapshot, dry_run: bool) -> Round {
        let (mut changes, mut next) =
            evaluate(&g.prev, &g.observed, &g.forecasts, &self.config, now_ms());
        // Profiles that left the store are forgotten.
        next.profiles
            .retain(|id, _| snap.codex.iter().any(|p| p.id.as_str() == id));
        changes
            .events
            .extend(after_round(&self.store, &g.observed, dry_run));
        Round {
            changes,
            next,
            warnings: g.warnings,
            state_dir: g.state_dir,
        }
    }

    /// One round of the loop: each profile checked at its offset from `start` (re-reading
    /// the store just before, so the token sent and the block seen are current), each check
    /// recorded in the history as it happens. `None` when `shutdown` came first.
    pub async fn spread_round(
        &self,
        start: tokio::time::Instant,
        shutdown: &mut signal::Receiver<bool>,
        dry_run: bool,
    ) -> Option<Result<Round, StoreError>> {
        let opts = self.store.clone();
        let first = blocking(move || read(&opts)).await?;
        let (store, snap) = match first {
            Ok(r) => r,
            Err(e) => return Some(Err(e)),
        };
        let mut g = Gathered::start(store.state_dir());
        let ids: Vec<_> = all(&store, &snap, now_ms())
            .into_iter()
            .map(|p| p.profile.id)
            .collect();
        let offsets = schedule::offsets(ids.len(), self.config.interval, schedule::seed());
        let mut latest = snap;
        for (id, offset) in ids.into_iter().zip(offsets) {
            if !sleep_until(start + offset, shutdown).await {
                return None;
            }
            if held_back(&g.prev, id.as_str(), now_ms()) {
                continue;
            }
            let opts = self.store.clone();
            let Some(Ok((_, snap))) = blocking(move || read(&opts)).await else {
                continue;
            };
            let Some(p) = snap.profile(&id) else { continue };
            let todo = ProfileToCheck {
                profile: p.clone(),
                local: snap.health(p, now_ms()),
            };
            let run = self.checker.check(vec![todo]).await;
            self.record(&mut g, &run, &snap).await;
            latest = snap;
        }
        Some(Ok(self.finish(g, &latest, dry_run)))
    }

    /// The loop: a round every `config.interval`, each non-empty change set handed to `sink`
    /// and the state committed once it was delivered (a baseline or empty round is committed
    /// at once). Returns when `shutdown` turns true; a round cut short is not committed.
    pub async fn run(&self, sink: &mut dyn Sink, shutdown: signal::Receiver<bool>) {
        self.rounds(sink, shutdown, true).await;
    }

    /// [`Watcher::run`] remembering nothing (`watch --dry-run`): every round compares with the
    /// state as it was when the loop started.
    pub async fn run_dry(&self, sink: &mut dyn Sink, shutdown: signal::Receiver<bool>) {
        self.rounds(sink, shutdown, false).await;
    }

    async fn rounds(
        &self,
        sink: &mut dyn Sink,
        mut shutdown: signal::Receiver<bool>,
        remember: bool,
    ) {
        let interval = self.config.interval.max(Duration::from_secs(1));
        loop {
            let start = tokio::time::Instant::now();
            let began = Instant::now();
            match self.spread_round(start, &mut shutdown, !remember).await {
                None => return,
                Some(Err(e)) => tracing::warn!(error = %e, "watcher: the store could not be read"),
                Some(Ok(round)) => {
                    for w in &round.warnings {
                        tracing::warn!(warning = %w, "watcher");
                    }
                    let tell = !round.changes.baseline && !round.changes.is_empty();
                    let delivered = !tell || sink.deliver(&round.changes).await;
                    if delivered && remember {
                        if let Err(e) = round.commit() {
                            tracing::warn!(error = %e, "watcher: state not saved");
                        }
                    }
                    tracing::info!(
                        checked = round.changes.profiles_checked,
                        events = round.changes.events.len(),
                        delivered,
                        ms = began.elapsed().as_millis() as u64,
                        "watcher round"
                    );
                }
            }
            if !sleep_until(start + interval, &mut shutdown).await {
                return;
            }
        }
    }
}

/// Sleep until `at`; `false` when shutdown came first (or its sender is gone).
async fn sleep_until(at: tokio::time::Instant, shutdown: &mut signal::Receiver<bool>) -> bool {
    if *shutdown.borrow() {
        return false;
    }
    tokio::select! {
        _ = tokio::time::sleep_until(at) => true,
        _ = shutdown.wait_for(|stop| *stop) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hold_lasts_its_retry_after_but_not_past_a_clock_jump() {
        let mut s = state::WatchState::fresh();
        let p = state::ProfileState {
            retry_not_before_ms: Some(10_000),
            ..Default::default()
        };
        s.profiles.insert("a".into(), p);
        assert!(held_back(&s, "a", 9_000));
        assert!(!held_back(&s, "a", 10_000));
        assert!(!held_back(&s, "b", 0));
        // The clock went back two hours after the 429: the hold no longer counts.
        assert!(!held_back(&s, "a", 10_000 - 2 * MAX_HOLD_MS));
    }
}
