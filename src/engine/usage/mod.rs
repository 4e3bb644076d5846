//! The quota check against the ChatGPT usage endpoint (SPEC section 5), shared by the CLI and
//! the chat adapters.
//!
//! # Design
//! - The caller reads the store and picks profiles with [`profiles_to_check`] (selector +
//!   local health), then hands them in as [`ProfileToCheck`]s; nothing here opens or writes a
//!   store (read-only by construction).
//! - [`UsageChecker`] holds one HTTP client; [`UsageChecker::check`] runs every profile
//!   concurrently, so a run takes about as long as its slowest profile.
//! - A profile whose token is missing, expired or fenced is never sent ([`classify::preflight`]).
//! - Results are typed and `Serialize` ([`ProfileResult`]); [`report`] turns a [`UsageRun`] into
//!   the SPEC section 6 JSON document and one-line texts, purely.
//!
//! Files: `client.rs` (HTTP, timeouts, retries, body cap), `parse.rs` (reply → typed),
//! `classify.rs` (`remote_error`), `report.rs` (JSON and text), `select.rs` (store → inputs).
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
pub mod parse;
pub mod report;
pub mod select;

use std::time::{Duration, Instant};

use serde::Serialize;
use url::Url;

pub use classify::RemoteError;
pub use client::{ClientError, USER_AGENT};
pub use parse::{AdditionalLimit, RemoteUsage, UsageWindow};
pub use select::profiles_to_check;

use crate::engine::health::LocalHealth;
use crate::engine::profile::CodexProfile;

/// Default per-attempt timeout (`--timeout-sec`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(25);
/// Default retries (`--retries`).
pub const DEFAULT_RETRIES: u32 = 1;
/// Default pause before the first retry.
pub const DEFAULT_BACKOFF: Duration = Duration::from_millis(500);
/// Largest reply body read; real replies are a few kB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// How a check is run.
#[derive(Debug, Clone)]
pub struct UsageOptions {
    /// The usage endpoint, already checked by [`crate::engine::endpoint::usage_url`].
    pub url: Url,
    /// Per-profile, per-attempt timeout covering the whole attempt including the body.
    pub timeout: Duration,
    /// Extra attempts after a timeout, connection error or 5xx.
    pub retries: u32,
    /// Pause before the first retry; doubled for each further one.
    pub backoff: Duration,
    /// Largest body read.
    pub max_body_bytes: usize,
}

impl UsageOptions {
    /// Defaults of SPEC section 5 for a checked URL.
    pub fn new(url: Url) -> UsageOptions {
        UsageOptions {
            url,
            timeout: DEFAULT_TIMEOUT,
            retries: DEFAULT_RETRIES,
            backoff: DEFAULT_BACKOFF,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }
}

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
    /// Stored plan, else the plan the endpoint reported.
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
    /// The name users see: the email, else the part of the id after `<provider>:`.
    pub fn label(&self) -> &str {
        self.email.as_deref().unwrap_or_else(|| {
            self.profile
                .split_once(':')
                .map_or(self.profile.as_str(), |(_, n)| n)
        })
    }
}

/// `summary` of SPEC section 6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Profiles in the run.
    pub profiles_checked: usize,
    /// With readable usage.
    pub remote_ok_count: usize,
    /// Without.
    pub remote_failed_count: usize,
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
        Summary {
            profiles_checked: self.profiles.len(),
            remote_ok_count: ok,
            remote_failed_count: self.profiles.len() - ok,
        }
    }
}

/// Checks usage with one shared HTTP client; cheap to clone, reusable across runs.
#[derive(Debug, Clone)]
pub struct UsageChecker {
    http: reqwest::Client,
    opts: UsageOptions,
}

impl UsageChecker {
    /// Build the client for these options.
    pub fn new(opts: UsageOptions) -> Result<UsageChecker, ClientError> {
        Ok(UsageChecker {
            http: client::build_http(&opts.url)?,
            opts,
        })
    }

    /// The options in use.
    pub fn options(&self) -> &UsageOptions {
        &self.opts
    }

    /// Check every profile concurrently; results keep the input order.
    pub async fn check(&self, profiles: Vec<ProfileToCheck>) -> UsageRun {
        let started = Instant::now();
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
                fetched.result.and_then(|body| {
                    parse::parse(&body, chrono::Utc::now().timestamp())
                        .map_err(|_| RemoteError::MalformedResponse)
                })
            }
        };
        match outcome {
            Ok(usage) => {
                if result.plan.is_none() {
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
