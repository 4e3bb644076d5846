//! `unblock SEL [--force] [--dry-run]`: clear a stale block. The usage endpoint is checked
//! first (the same endpoint, trust check and options as `usage`), unless `--force`; the work is
//! [`crate::engine::change::unblock`], the report the one every mutation prints.

use std::time::Duration;

use super::args::{GlobalArgs, UnblockArgs};
use super::change::{one_profile, opts, provider, render};
use super::output::{CliError, CmdResult};
use super::store_opts::open_store;
use crate::engine::change::unblock::{UsageGate, unblock};
use crate::engine::endpoint;
use crate::engine::usage::{UsageChecker, UsageOptions};

/// The variable that points the check at another usage endpoint (as `usage` reads it).
const USAGE_URL_VAR: &str = "CODEX_PROFILER_USAGE_URL";

/// Run `unblock`.
pub fn run(g: &GlobalArgs, a: UnblockArgs) -> CmdResult {
    // An untrusted endpoint is refused before the store is read, even with --force.
    let url = endpoint::usage_url(std::env::var(USAGE_URL_VAR).ok().as_deref())?;
    let store = open_store(g)?;
    let snap = store.load()?;
    let id = one_profile(&snap, &provider(&store, &a.m), &a.selector)?;
    let mut o = opts(&a.m, "unblock")?;
    // No `openclaw` command clears a block: only the explicit flag is refused (by the engine);
    // CODEX_PROFILER_VIA_GATEWAY=1, meant for the changes the gateway can make, is not.
    o.via_gateway = a.m.via_gateway;
    let checker = if a.force {
        None
    } else {
        let mut u = UsageOptions::new(url);
        u.timeout = Duration::from_secs(a.timeout_sec);
        Some(UsageChecker::new(u)?)
    };
    let gate = checker.as_ref().map_or(UsageGate::Skip, UsageGate::Check);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|_| CliError::runtime("runtime", "the async runtime could not be started"))?;
    let r = runtime.block_on(unblock(&store, &id, gate, &o))?;
    render(g, &r, false)
}
