//! How a usage check is run: endpoint, timeout, retries, body cap and the concurrency cap
//! (issue 9 §5: 1,000 profiles never open 1,000 connections), with the SPEC defaults.

use std::time::Duration;

use url::Url;

/// Default per-attempt timeout (`--timeout-sec`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(25);
/// Default retries (`--retries`).
pub const DEFAULT_RETRIES: u32 = 1;
/// Default pause before the first retry.
pub const DEFAULT_BACKOFF: Duration = Duration::from_millis(500);
/// Largest reply body read; real replies are a few kB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;
/// Default cap on requests in flight (`--concurrency`, `CODEX_PROFILER_USAGE_CONCURRENCY`).
pub const DEFAULT_CONCURRENCY: usize = 16;
/// The highest cap accepted.
pub const MAX_CONCURRENCY: usize = 4096;
/// The variable behind `--concurrency`.
pub const CONCURRENCY_VAR: &str = "CODEX_PROFILER_USAGE_CONCURRENCY";

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
    /// Most requests in flight at once, across every run of one checker (at least 1).
    pub concurrency: usize,
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
            concurrency: DEFAULT_CONCURRENCY,
        }
    }
}

/// A concurrency value that is not a whole number from 1 to [`MAX_CONCURRENCY`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{CONCURRENCY_VAR} must be a whole number from 1 to {MAX_CONCURRENCY}, not `{0}`")]
pub struct BadConcurrency(pub String);

impl crate::engine::Failure for BadConcurrency {
    fn kind(&self) -> crate::engine::FailureKind {
        crate::engine::FailureKind::Usage
    }
    fn code(&self) -> &'static str {
        "bad_concurrency"
    }
}

/// The cap from `CODEX_PROFILER_USAGE_CONCURRENCY`'s value: blank or missing is the default.
pub fn concurrency_from_env(raw: Option<&str>) -> Result<usize, BadConcurrency> {
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(DEFAULT_CONCURRENCY);
    };
    raw.parse::<usize>()
        .ok()
        .filter(|n| (1..=MAX_CONCURRENCY).contains(n))
        .ok_or_else(|| BadConcurrency(raw.chars().take(20).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrency_comes_from_the_variable_or_the_default() {
        assert_eq!(concurrency_from_env(None), Ok(16));
        assert_eq!(concurrency_from_env(Some("  ")), Ok(16));
        assert_eq!(concurrency_from_env(Some(" 4 ")), Ok(4));
        assert!(concurrency_from_env(Some("0")).is_err());
        assert!(concurrency_from_env(Some("lots")).is_err());
        assert!(concurrency_from_env(Some("5000")).is_err());
    }
}
