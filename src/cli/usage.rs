//! `usage`: check each selected profile's quota on the ChatGPT usage endpoint (SPEC sections 5
//! and 6). The endpoint is checked before anything else (untrusted: exit 5, nothing sent); the
//! store is only read; the check itself and all rendering live in [`crate::engine::usage`].
//! While it waits, text mode on a terminal shows `3/9 checked` on stderr; `--json` and a
//! stderr that is not a terminal get nothing.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use super::args::{GlobalArgs, UsageArgs, UsageFormat};
use super::output::{CliError, CmdResult, Report};
use super::store_opts::open_store;
use crate::engine::clock::Zone;
use crate::engine::endpoint;
use crate::engine::forecast::render as forecast_render;
use crate::engine::history::{self, Retention};
use crate::engine::selector::Selector;
use crate::engine::usage::select::peers;
use crate::engine::usage::{
    CONCURRENCY_VAR, Progress, UsageChecker, UsageOptions, concurrency_from_env, profiles_to_check,
    report,
};

/// The variable that points the check at another usage endpoint (tests: loopback).
const USAGE_URL_VAR: &str = "CODEX_PROFILER_USAGE_URL";

/// Run `usage`.
pub fn run(g: &GlobalArgs, a: UsageArgs) -> CmdResult {
    let url = endpoint::usage_url(std::env::var(USAGE_URL_VAR).ok().as_deref())?;
    let concurrency = match a.concurrency {
        Some(n) => usize::try_from(n).unwrap_or(usize::MAX),
        None => concurrency_from_env(std::env::var(CONCURRENCY_VAR).ok().as_deref())
            .map_err(|e| CliError::usage(e.to_string()))?,
    };
    let selector = Selector::parse(&a.profile)?;
    let store = open_store(g)?;
    let snap = store.load()?;
    let now_ms = chrono::Utc::now().timestamp_millis();
    let profiles = profiles_to_check(&snap, store.codex_provider(), &selector, now_ms)?;

    let mut opts = UsageOptions::new(url);
    opts.timeout = Duration::from_secs(a.timeout_sec);
    opts.retries = a.retries;
    opts.concurrency = concurrency;
    let checker = UsageChecker::new(opts)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|_| CliError::runtime("runtime", "the async runtime could not be started"))?;
    let json = g.json || a.format == Some(UsageFormat::Json);
    // Before any request: a bad CODEX_PROFILER_TZ stops here, not after the check.
    let zone = if json {
        Zone::utc()
    } else {
        super::present::zone(g)?
    };
    let show_progress = !json && std::io::stderr().is_terminal();
    let run = runtime.block_on(checker.check_with_progress(profiles, |p| {
        if show_progress {
            draw_progress(p);
        }
    }));
    // History and forecast never change the check's outcome: a fault is a warning.
    let now_ms = chrono::Utc::now().timestamp_millis();
    let after = history::after_check(store.state_dir(), &run, Retention::from_env(), now_ms);
    for w in &after.warnings {
        let w = crate::escape::for_terminal(w);
        let _ = writeln!(std::io::stderr(), "codex-profiler: warning: {w}");
    }

    Ok(if json {
        let mut doc = report::render_json_among(&run, &snap.info, a.debug, &peers(&snap));
        if let Some(obj) = doc.as_object_mut() {
            let forecast = forecast_render::json(after.forecast.as_ref(), &after.warnings);
            obj.insert("forecast".into(), forecast);
        }
        Report::Json(doc)
    } else {
        let shown = report::ShownAt { zone, now_ms };
        let mut text = report::render_text_shown(&run, a.debug, &peers(&snap), &shown);
        text.push_str(&forecast_render::text(after.forecast.as_ref(), &zone));
        Report::Text(text)
    })
}

/// `\r3/9 checked` on stderr, and the line wiped once every profile is done, so the result
/// printed next starts clean. A failed write (a closed terminal) is not worth stopping for.
fn draw_progress(p: Progress) {
    let mut err = std::io::stderr().lock();
    let _ = if p.done >= p.total {
        write!(err, "\r\x1b[2K")
    } else {
        write!(err, "\r{}/{} checked", p.done, p.total)
    };
    let _ = err.flush();
}
