//! `order auto [--strategy most-left|drain-first] [--dry-run] [--json]`: one usage check of
//! every Codex profile (as `usage` does, history appended), then
//! [`crate::engine::auto_order::run`] decides and writes the new order through the change
//! pipeline, or says why the order is kept. The strategy defaults to
//! `CODEX_PROFILER_AUTO_ORDER`; with neither, it is a usage error.

use std::io::Write as _;
use std::time::Duration;

use serde_json::{Value, json};

use super::args::{GlobalArgs, OrderAutoArgs, StrategyArg};
use super::change::{opts, text as change_text, unverified_sentence};
use super::output::{CliError, CmdResult, Report};
use super::store_opts::open_store;
use crate::engine::FailureKind;
use crate::engine::auto_order::{
    self, ALERT_AT_VAR, AUTO_ORDER_VAR, Outcome, Strategy, last_threshold, parse_alert_at, render,
};
use crate::engine::endpoint;
use crate::engine::history::{self, Retention};
use crate::engine::selector::Selector;
use crate::engine::usage::{
    CONCURRENCY_VAR, UsageChecker, UsageOptions, UsageRun, concurrency_from_env, profiles_to_check,
};

/// The variable that points the check at another usage endpoint (as `usage` reads it).
const USAGE_URL_VAR: &str = "CODEX_PROFILER_USAGE_URL";

fn strategy(flag: Option<StrategyArg>) -> Result<Strategy, CliError> {
    if let Some(s) = flag {
        return Ok(match s {
            StrategyArg::MostLeft => Strategy::MostLeft,
            StrategyArg::DrainFirst => Strategy::DrainFirst,
        });
    }
    let raw = std::env::var(AUTO_ORDER_VAR).unwrap_or_default();
    Strategy::parse(AUTO_ORDER_VAR, &raw)
        .map_err(|e| CliError::usage(e.to_string()))?
        .ok_or_else(|| {
            CliError::usage(format!(
                "no strategy: pass --strategy most-left|drain-first, or set {AUTO_ORDER_VAR}"
            ))
        })
}

/// Run `order auto`.
pub fn run(g: &GlobalArgs, a: OrderAutoArgs) -> CmdResult {
    let strategy = strategy(a.strategy)?;
    let thresholds = parse_alert_at(&std::env::var(ALERT_AT_VAR).unwrap_or_default())
        .map_err(|e| CliError::usage(e.to_string()))?;
    let threshold = last_threshold(&thresholds);
    let url = endpoint::usage_url(std::env::var(USAGE_URL_VAR).ok().as_deref())?;
    let concurrency = concurrency_from_env(std::env::var(CONCURRENCY_VAR).ok().as_deref())
        .map_err(|e| CliError::usage(e.to_string()))?;
    let store = open_store(g)?;
    let provider = store.codex_provider();
    if a.m
        .provider
        .as_deref()
        .is_some_and(|p| p != provider.as_str())
    {
        return Err(CliError::usage(format!(
            "order auto orders the Codex provider of this store ({}) only",
            provider.as_str()
        )));
    }
    let change_opts = opts(&a.m, auto_order::ACTION)?;
    let snap = store.load()?;
    let now_ms = chrono::Utc::now().timestamp_millis();
    let todo = profiles_to_check(&snap, provider, &Selector::All, now_ms)?;
    let mut u = UsageOptions::new(url);
    u.timeout = Duration::from_secs(a.timeout_sec);
    u.concurrency = concurrency;
    let checker = UsageChecker::new(u)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|_| CliError::runtime("runtime", "the async runtime could not be started"))?;
    let usage = runtime.block_on(checker.check(todo));
    let after = history::after_check(
        store.state_dir(),
        &usage,
        Retention::from_env(),
        chrono::Utc::now().timestamp_millis(),
    );
    for w in &after.warnings {
        let _ = writeln!(std::io::stderr(), "codex-profiler: warning: {w}");
    }
    let outcome = auto_order::run(&store, &usage.profiles, strategy, threshold, &change_opts)?;
    let report = if g.json {
        Report::Json(json_doc(&store, &usage, &outcome, &after.warnings))
    } else {
        Report::Text(text(&outcome))
    };
    Ok(match &outcome.change {
        Some(c) if !c.dry_run && !c.verified => Report::failed(
            report,
            FailureKind::Runtime.exit_code(),
            unverified_sentence(c),
        ),
        _ => report,
    })
}

fn json_doc(
    store: &crate::engine::store::Store,
    usage: &UsageRun,
    o: &Outcome,
    warnings: &[String],
) -> Value {
    let mut doc = serde_json::to_value(&o.decision).unwrap_or(Value::Null);
    if let Some(obj) = doc.as_object_mut() {
        obj.insert("ok".into(), json!(true));
        obj.insert("store".into(), json!(store.info()));
        obj.insert("remote_endpoint".into(), json!(usage.remote_endpoint));
        obj.insert("summary".into(), json!(usage.summary()));
        obj.insert("message".into(), json!(render::sentence(&o.decision)));
        obj.insert(
            "pins_message".into(),
            json!(render::pins_sentence(&o.decision)),
        );
        obj.insert(
            "dry_run".into(),
            json!(o.change.as_ref().is_some_and(|c| c.dry_run)),
        );
        obj.insert("reordered".into(), json!(o.reordered()));
        obj.insert(
            "verified".into(),
            json!(o.change.as_ref().map(|c| c.verified)),
        );
        obj.insert("change".into(), json!(o.change));
        obj.insert("warnings".into(), json!(warnings));
    }
    doc
}

fn text(o: &Outcome) -> String {
    let d = &o.decision;
    let mut out = format!(
        "order auto ({}, last threshold {}%): {}\n",
        d.strategy.as_str(),
        d.last_threshold,
        render::sentence(d)
    );
    for (i, p) in d.profiles.iter().enumerate() {
        let crossed = if p.crossed_threshold {
            format!(" (reached {}%)", d.last_threshold)
        } else {
            String::new()
        };
        out.push_str(&format!(
            "  {}. {}: {}{crossed}\n",
            i + 1,
            p.profile,
            p.reason
        ));
    }
    if let Some(pins) = render::pins_sentence(d) {
        out.push_str(&format!("{pins}\n"));
    }
    if let Some(c) = &o.change {
        out.push_str(&change_text(c, false));
    }
    out
}
