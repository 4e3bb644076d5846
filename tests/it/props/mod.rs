//! Property-based tests of every parser that takes outside input (issue 13, "Prove" 1): each
//! file attacks one parser with generated input and checks what it promises for all of it.
//! A short round by default ([`config`]: 64 cases a property); `PROPTEST_CASES=N` selects a
//! long one (docs/TESTING.md). Generators shared by all of them live in [`strategies`].

mod callback_data;
mod callback_url;
mod chat_command;
mod escape;
mod inputs;
mod jwt;
pub mod plugin_lines;
mod plugin_stream;
mod regressions;
mod store_read;
mod store_write;
pub mod strategies;
mod usage;

use codex_profiler::engine::health::{LocalHealth, TokenStatus};
use codex_profiler::engine::usage::parse::RemoteUsage;
use codex_profiler::engine::usage::{ProfileResult, UsageRun};
use proptest::strategy::Strategy;
use proptest::test_runner::{Config, TestCaseResult, TestRunner};

/// Cases per property in the short round, when `PROPTEST_CASES` is not set.
pub const SHORT_ROUND: u32 = 64;

/// The runner configuration every property uses: [`SHORT_ROUND`] cases unless
/// `PROPTEST_CASES` says otherwise, and no regression files written into the tree (a failure
/// found becomes a plain regression test instead).
pub fn config() -> Config {
    config_scaled(1)
}

/// [`config`] with a case count divided by `divisor`, for properties that build real stores
/// on disk (a SQLite file per case): at least 8 cases. Run them with [`check_scaled`]: the
/// `proptest!` macro re-reads `PROPTEST_CASES` into the config it is given, undoing the
/// division.
pub fn config_scaled(divisor: u32) -> Config {
    let base = Config::default();
    let cases = if std::env::var_os("PROPTEST_CASES").is_some() {
        base.cases
    } else {
        SHORT_ROUND
    };
    Config {
        cases: (cases / divisor.max(1)).max(8),
        failure_persistence: None,
        ..base
    }
}

/// Run `test` on the [`config_scaled`]`(divisor)` cases of `strategy`; a failure panics with
/// the minimal failing input, as `proptest!` does. Not that macro: it passes its config
/// through proptest's `contextualize_config`, which sets `cases` from `PROPTEST_CASES` again,
/// so under `PROPTEST_CASES=20000` a property scaled by 64 ran 20,000 cases, not 312
/// (`regressions::a_scaled_property_runs_its_share_of_proptest_cases`).
#[track_caller]
pub fn check_scaled<S>(divisor: u32, strategy: S, test: impl Fn(S::Value) -> TestCaseResult)
where
    S: Strategy,
    S::Value: std::fmt::Debug,
{
    let mut runner = TestRunner::new(config_scaled(divisor));
    if let Err(e) = runner.run(&strategy, test) {
        panic!("{e}\n{runner}");
    }
}

/// A run of one profile that answered `u`.
pub fn answered(u: RemoteUsage) -> UsageRun {
    let local = LocalHealth {
        token_expires_at: None,
        status: TokenStatus::Ok,
        cooldown_until: None,
        blocked_until: None,
        disabled_until: None,
        last_used: None,
        error_count: 0,
        in_order: true,
        last_good: false,
        fence: "none",
    };
    let r = ProfileResult {
        profile: "openai:alice@example.com".into(),
        provider: "openai",
        email: Some("alice@example.com".into()),
        account_id: None,
        plan: None,
        local,
        remote_usage_ok: true,
        remote_usage: Some(u),
        remote_error: None,
        remote_status: Some(200),
        remote_hint: None,
        retry_after_seconds: None,
        retry_at: None,
        elapsed_ms: 1,
        attempts: 1,
        attempt_ms: vec![1],
    };
    UsageRun {
        remote_endpoint: "http://127.0.0.1:9/usage".into(),
        profiles: vec![r],
        elapsed_ms: 1,
    }
}
