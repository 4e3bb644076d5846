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
//! sanity) and `spend.rs` (`spend_control`), `classify.rs` (`remote_error`), `report.rs`
//! (JSON and text), `select.rs` (store → inputs).
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
pub mod select;
pub mod spend;
pub mod window;

use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;
use tokio::sync::Semaphore;

pub use classify::RemoteError;
pub use client::{ClientError, USER_AGENT};
pub use options::{
    BadConcurrency, CONCURRENCY_VAR, DEFAULT_BACKOFF, DEFAULT_CONCURRENCY, DEFAULT_MAX_BODY_BYTES,
    DEFAULT_RETRIES, DEFAULT_TIMEOUT, MAX_CONCURRENCY, UsageOptions, concurrency_from_env,
};
pub use parse::{AdditionalLimit, RemoteUsage, UsageWindow};
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

/// The outcome for one profile; serialises to one entry of SPEC section 6 `profiles[]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProfileResult {
    /// Profile id.
    pub profile: String,
    /// `openai` or `openai-codex`.
    pub provider: &'static str,
    /// Stored email.
    pub email: Option<String>,
    /// Stored ChatGPT account id.
    pub account_id: Option<String>,
    /// The plan the usage endpoint reported (fresher than the token's claim), else the
    /// stored one.
    pub plan: Option<String>,
    /// Local health from the store.
    pub local: LocalHealth,
    /// Whether the endpoint answered with readable usage.
    pub remote_usage_ok: bool,
    /// The usage, when it did.
    pub remote_usage: Option<RemoteUsage>,
    /// Why not, when it did not.
    pub remote_error: Option<RemoteError>,
    /// The last HTTP status received, if any.
    pub remote_status: Option<u16>,
    /// What to do about the error, when there is advice.
    pub remote_hint: Option<String>,
    /// For `rate_limited`: the endpoint's `Retry-After`, in seconds, when it sent one.
    pub retry_after_seconds: Option<u64>,
    /// For `rate_limited`: when to try again (RFC 3339 UTC), when the endpoint said.
    pub retry_at: Option<String>,
    /// Wall time for this profile, retries and backoff included.
    pub elapsed_ms: u64,
    /// Requests made (0 when the profile was not sent). Shown with `--debug`.
    #[serde(skip)]
    pub attempts: u32,
    /// Milliseconds per request. Shown with `--debug`.
    #[serde(skip)]
    pub attempt_ms: Vec<u64>,
}

impl ProfileResult {
    /// The result of `profile` before any request: its stored identity and local health,
    /// nothing answered, no attempt made.
    pub fn unanswered(profile: &CodexProfile, local: LocalHealth) -> ProfileResult {
        ProfileResult {
            profile: profile.id.to_string(),
            provider: profile.provider.as_str(),
            email: profile.email.clone(),
            account_id: profile.account_id.clone(),
            plan: profile.plan.clone(),
            local,
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
        }
    }

    /// What its label is made of (see [`crate::engine::label`]).
    pub fn label_parts(&self) -> crate::engine::label::LabelParts<'_> {
        crate::engine::label::LabelParts {
            id: &self.profile,
            email: self.email.as_deref(),
            account_id: self.account_id.as_deref(),
            plan: self.plan.as_deref(),
        }
    }

    /// The name users see: the email, else the part of the id after `<provider>:`.
    pub fn label(&self) -> &str {
        self.email.as_deref().unwrap_or_else(|| {
            self.profile
                .split_once(':')
                .map_or(self.profile.as_str(), |(_, n)| n)
        })
    }

    /// Answered, and a limit is reached (rate limit, spend limit, workspace out).
    pub fn is_limited(&self) -> bool {
        self.remote_usage.as_ref().is_some_and(|u| u.limited)
    }

    /// Answered, and no limit is reached.
    pub fn is_usable(&self) -> bool {
        self.remote_usage_ok && !self.is_limited()
    }
}

/// `summary` of SPEC section 6, plus the usable/limited split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Profiles in the run.
    pub profiles_checked: usize,
    /// With readable usage (usable or limited).
    pub remote_ok_count: usize,
    /// Without.
    pub remote_failed_count: usize,
    /// With readable usage and no limit reached.
    pub usable_count: usize,
    /// With readable usage and a limit reached.
    pub limited_count: usize,
}

/// The outcome of one check run, profiles in the order given.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UsageRun {
    /// The endpoint asked (no secret: a trusted or loopback URL).
    pub remote_endpoint: String,
    /// One result per profile.
    pub profiles: Vec<ProfileResult>,
    /// Wall time of the whole run.
    pub elapsed_ms: u64,
}

impl UsageRun {
    /// Counts for `summary`.
    pub fn summary(&self) -> Summary {
        let ok = self.profiles.iter().filter(|p| p.remote_usage_ok).count();
        let limited = self.profiles.iter().filter(|p| p.is_limited()).count();
        Summary {
            profiles_checked: self.profiles.len(),
            remote_ok_count: ok,
            remote_failed_count: self.profiles.len() - ok,
            usable_count: ok.saturating_sub(limited),
            limited_count: limited,
        }
    }
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
            http: client::build_http(&opts.url)?,
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
        let mut result = ProfileResult::unanswered(&profile, local);
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
                    let mut usage = parse::parse(&body, chrono::Utc::now().timestamp())
                        .map_err(|_| RemoteError::MalformedResponse)?;
                    usage.scrub_words(token.expose_secret());
                    Ok(usage)
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
