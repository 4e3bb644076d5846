//! The quota check against the ChatGPT usage endpoint (SPEC section 5), shared by the CLI and
//! the chat adapters.
//!
//! # Design
//! - The caller reads the store and picks profiles with [`profiles_to_check`] (selector +
//!   local health), then hands them in as [`ProfileToCheck`]s; nothing here opens or writes a
//!   store (read-only by construction).
//! - [`UsageChecker`] holds one HTTP client and one gate (a semaphore of `--concurrency`
//!   permits, default 16); [`UsageChecker::check`] starts every profile at once but each
//!   request waits for a permit, so a run of up to that many profiles takes about as long as
//!   its slowest one, and 1,000 profiles never open more than that many connections.
//! - [`UsageChecker::check_with_progress`] reports each finished profile to the caller (the
//!   CLI draws `3/9 checked` on a terminal; the engine knows nothing of terminals).
//! - A profile whose token is missing, expired or fenced is never sent ([`classify::preflight`]).
//! - Results are typed and `Serialize` ([`ProfileResult`]); [`report`] turns a [`UsageRun`] into
//!   the SPEC section 6 JSON document and one-line texts, purely.
//!
//! Files: `options.rs` (defaults, concurrency), `client.rs` (HTTP, gate, timeouts, retries,
//! `Retry-After`, body cap), `parse.rs` (reply → typed) with `window.rs` (windows and value
//! sanity) and `spend.rs` (`spend_control`), `classify.rs` (`remote_error`), `result.rs`
//! (typed results and summary), `report.rs` (JSON and text), `select.rs` (store → inputs).
//!
//! ```no_run
//! # use codex_profiler::engine::{endpoint, selector::Selector, store::Store, usage};
//! # async fn demo(store: &Store) -> Result<(), Box<dyn std::error::Error>> {
//! let url = endpoint::usage_url(std::env::var("CODEX_PROFILER_USAGE_URL").ok().as_deref())?;
//! let snap = store.load()?;
//! let now_ms = chrono::Utc::now().timestamp_millis();
//! let todo = usage::profiles_to_check(&snap, store.codex_provider(), &Selector::All, now_ms)?;
//! let run = usage::UsageChecker::new(usage::UsageOptions::new(url))?.check(todo).await;
//! let lines: Vec<String> = run.profiles.iter().map(usage::report::line).collect();
//! # let _ = lines;
//! # Ok(())
//! # }
//! ```

pub mod classify;
pub mod client;
pub mod options;
pub mod parse;
pub mod report;
pub mod result;
pub mod select;
pub mod spend;
pub mod window;

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::Semaphore;

pub use classify::RemoteError;
pub use client::{ClientError, USER_AGENT};
pub use options::{
    BadConcurrency, CONCURRENCY_VAR, DEFAULT_BACKOFF, DEFAULT_CONCURRENCY, DEFAULT_MAX_BODY_BYTES,
    DEFAULT_RETRIES, DEFAULT_TIMEOUT, MAX_CONCURRENCY, UsageOptions, concurrency_from_env,
};
pub use parse::{AdditionalLimit, RemoteUsage, UsageWindow};
pub use result::{ProfileResult, Summary, UsageRun};
pub use select::profiles_to_check;
pub use spend::{SpendControl, SpendLimit};
pub use window::WindowKind;

use crate::engine::health::LocalHealth;
use crate::engine::profile::CodexProfile;

/// One profile to check, with its local health computed by the caller from the store
/// (`Snapshot::health`), so it is reported whatever the remote side says.
#[derive(Debug, Clone)]
pub struct ProfileToCheck {
    /// The profile (its token is the one sent).
    pub profile: CodexProfile,
    /// Its local health.
    pub local: LocalHealth,
}

/// How far a run has got: `done` of `total` profiles finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Profiles finished.
    pub done: usize,
    /// Profiles in the run.
    pub total: usize,
}

/// Checks usage with one shared HTTP client; cheap to clone, reusable across runs.
#[derive(Debug, Clone)]
pub struct UsageChecker {
    http: reqwest::Client,
    opts: UsageOptions,
    /// One permit per request in flight, shared by every run and clone of this checker.
    gate: Arc<Semaphore>,
}

impl UsageChecker {
    /// Build the client for these options.
    pub fn new(opts: UsageOptions) -> Result<UsageChecker, ClientError> {
        let permits = opts.concurrency.clamp(1, MAX_CONCURRENCY);
        Ok(UsageChecker {
            http: client::build_http()?,
            opts,
            gate: Arc::new(Semaphore::new(permits)),
        })
    }

    /// The options in use.
    pub fn options(&self) -> &UsageOptions {
        &self.opts
    }

    /// Check every profile concurrently, at most `concurrency` requests at a time; results
    /// keep the input order.
    pub async fn check(&self, profiles: Vec<ProfileToCheck>) -> UsageRun {
        self.check_with_progress(profiles, |_| {}).await
    }

    /// [`UsageChecker::check`], calling `progress` once before the first profile finishes
    /// (`done: 0`) and once after each.
    pub async fn check_with_progress(
        &self,
        profiles: Vec<ProfileToCheck>,
        mut progress: impl FnMut(Progress),
    ) -> UsageRun {
        let started = Instant::now();
        let total = profiles.len();
        progress(Progress { done: 0, total });
        let mut tasks = tokio::task::JoinSet::new();
        for (i, p) in profiles.into_iter().enumerate() {
            let me = self.clone();
            tasks.spawn(async move { (i, me.check_one(p).await) });
        }
        let mut results = Vec::with_capacity(tasks.len());
        while let Some(joined) = tasks.join_next().await {
            // A task only fails if it panicked, which `check_one` does not do; a lost result
            // would silently shrink the report, so it is logged.
            match joined {
                Ok(r) => results.push(r),
                Err(e) => tracing::error!(error = %e, "a usage check task failed"),
            }
            progress(Progress {
                done: total - tasks.len(),
                total,
            });
        }
        results.sort_by_key(|(i, _)| *i);
        let run = UsageRun {
            remote_endpoint: self.opts.url.to_string(),
            profiles: results.into_iter().map(|(_, r)| r).collect(),
            elapsed_ms: started.elapsed().as_millis() as u64,
        };
        let s = run.summary();
        tracing::debug!(
            checked = s.profiles_checked,
            ok = s.remote_ok_count,
            failed = s.remote_failed_count,
            limited = s.limited_count,
            ms = run.elapsed_ms,
            "usage check finished"
        );
        run
    }

    /// Check one profile: local preflight, then the request with retries, then parsing.
    pub async fn check_one(&self, p: ProfileToCheck) -> ProfileResult {
        let started = Instant::now();
        let ProfileToCheck { profile, local } = p;
        let mut result = ProfileResult {
            profile: profile.id.to_string(),
            provider: profile.provider.as_str(),
            email: profile.email.clone(),
            account_id: profile.account_id.clone(),
            plan: profile.plan.clone(),
            remote_usage_ok: false,
            remote_usage: None,
            remote_error: None,
            remote_status: None,
            remote_hint: None,
            retry_after_seconds: None,
            retry_at: None,
            elapsed_ms: 0,
            attempts: 0,
            attempt_ms: Vec::new(),
            local,
        };
        let outcome = match (classify::preflight(result.local.status), &profile.access) {
            (Some(skip), _) => Err(skip),
            (None, None) => Err(RemoteError::MissingAccessToken),
            (None, Some(token)) => {
                let policy = client::AttemptPolicy {
                    timeout: self.opts.timeout,
                    retries: self.opts.retries,
                    backoff: self.opts.backoff,
                    max_body_bytes: self.opts.max_body_bytes,
                    gate: self.gate.clone(),
                };
                let fetched = client::fetch(
                    &self.http,
                    &self.opts.url,
                    token,
                    profile.account_id.as_deref(),
                    &policy,
                    profile.id.as_str(),
                )
                .await;
                result.remote_status = fetched.status;
                result.attempts = fetched.attempt_ms.len() as u32;
                result.attempt_ms = fetched.attempt_ms;
                if let Some(wait) = fetched.retry_after {
                    result.retry_after_seconds = Some(wait.as_secs());
                    result.retry_at = chrono::TimeDelta::from_std(wait)
                        .ok()
                        .and_then(|d| chrono::Utc::now().checked_add_signed(d))
                        .map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
                }
                fetched.result.and_then(|body| {
                    parse::parse(&body, chrono::Utc::now().timestamp())
                        .map_err(|_| RemoteError::MalformedResponse)
                })
            }
        };
        match outcome {
            Ok(usage) => {
                // The reply's plan is fresher than the token's claim (an upgrade shows here
                // first).
                if usage.plan.is_some() {
                    result.plan.clone_from(&usage.plan);
                }
                result.remote_usage_ok = true;
                result.remote_usage = Some(usage);
            }
            Err(e) => {
                result.remote_error = Some(e);
                // Hints name the profile to log in again, not a placeholder.
                let name = result
                    .profile
                    .split_once(':')
                    .map_or(result.profile.as_str(), |(_, n)| n);
                result.remote_hint = e
                    .hint()
                    .map(|h| h.replace("--profile NAME", &format!("--profile {name}")));
            }
        }
        result.elapsed_ms = started.elapsed().as_millis() as u64;
        result
    }
}

/// Build a checker and run it once: the one-call entry point.
pub async fn check(
    profiles: Vec<ProfileToCheck>,
    opts: &UsageOptions,
) -> Result<UsageRun, ClientError> {
    Ok(UsageChecker::new(opts.clone())?.check(profiles).await)
}
