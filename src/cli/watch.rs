//! `watch [--once] [--dry-run] [--json]`: the watcher from the command line. `--once` checks
//! every profile now (within the usage concurrency cap), prints the change set and remembers
//! it (not with `--dry-run`); without it the watcher loops, one round per
//! `CODEX_PROFILER_WATCH_INTERVAL`, printing each change set as it happens (`--json`: one
//! document per line), until Ctrl-C or SIGTERM. The work is [`crate::engine::watch`].

use std::io::Write;

use tokio::sync::watch as signal;

use super::args::{GlobalArgs, WatchArgs};
use super::output::{CliError, CmdResult, Report};
use super::store_opts::store_options;
use crate::engine::clock::Zone;
use crate::engine::endpoint;
use crate::engine::history::Retention;
use crate::engine::usage::{CONCURRENCY_VAR, UsageChecker, UsageOptions, concurrency_from_env};
use crate::engine::watch::round::BoxFuture;
use crate::engine::watch::{ChangeSet, Round, Sink, WatchConfig, Watcher};

/// The variable that points the check at another usage endpoint (as `usage` reads it).
const USAGE_URL_VAR: &str = "CODEX_PROFILER_USAGE_URL";

/// The watcher the environment and the global flags describe (the endpoint is checked for
/// trust before anything is read).
pub(crate) fn watcher(g: &GlobalArgs) -> Result<Watcher, CliError> {
    let url = endpoint::usage_url(std::env::var(USAGE_URL_VAR).ok().as_deref())?;
    let mut usage = UsageOptions::new(url);
    usage.concurrency = concurrency_from_env(std::env::var(CONCURRENCY_VAR).ok().as_deref())
        .map_err(|e| CliError::usage(e.to_string()))?;
    Ok(Watcher {
        store: store_options(g)?,
        checker: UsageChecker::new(usage)?,
        config: WatchConfig::from_env().map_err(|e| CliError::usage(e.to_string()))?,
        retention: Retention::from_env().map_err(|e| CliError::usage(e.to_string()))?,
    })
}

/// The `--json` document of one change set: the set itself plus `dry_run` and `warnings`.
pub fn json(round: &Round, dry_run: bool) -> serde_json::Value {
    let mut doc = serde_json::to_value(&round.changes).unwrap_or_default();
    if let Some(obj) = doc.as_object_mut() {
        obj.insert("dry_run".into(), dry_run.into());
        obj.insert("warnings".into(), round.warnings.clone().into());
    }
    doc
}

/// Run `watch`.
pub fn run(g: &GlobalArgs, a: WatchArgs) -> CmdResult {
    let watcher = watcher(g)?;
    // The sentences name times in the zone (`--utc`: UTC); JSON keeps RFC 3339 UTC.
    let zone = if g.json {
        Zone::utc()
    } else {
        super::present::zone(g)?
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|_| CliError::runtime("runtime", "the async runtime could not be started"))?;
    if !a.once {
        runtime.block_on(forever(watcher, g.json, zone, a.dry_run));
        // With --json every line is one document, this last one included.
        return Ok(Report::Text(if g.json {
            r#"{"ok":true,"stopped":true}"#.to_owned()
        } else {
            "Watcher stopped.".to_owned()
        }));
    }
    let round = runtime.block_on(watcher.once(a.dry_run))?;
    for w in &round.warnings {
        let w = crate::escape::for_terminal(w);
        let _ = writeln!(std::io::stderr(), "codex-profiler: warning: {w}");
    }
    // Printed first, remembered after: a crash in between repeats the news, never loses it.
    let report = if g.json {
        Report::Json(json(&round, a.dry_run))
    } else {
        Report::Text(round.changes.text_in(&zone))
    };
    if !a.dry_run {
        round.commit()?;
    }
    Ok(report)
}

/// Prints each change set on stdout.
struct Stdout {
    json: bool,
    zone: Zone,
}

/// What the loop prints for one change set: one JSON document a line, or the sentences with
/// every control character from a label shown as an escape.
fn shown(changes: &ChangeSet, json: bool, zone: &Zone) -> String {
    if json {
        serde_json::to_string(changes)
            .map(|s| s + "\n")
            .unwrap_or_default()
    } else {
        // Labels come from the store: never raw control characters on a terminal.
        crate::escape::for_terminal(&changes.text_in(zone)).into_owned()
    }
}

impl Sink for Stdout {
    fn deliver<'a>(&'a mut self, changes: &'a ChangeSet) -> BoxFuture<'a, bool> {
        let text = shown(changes, self.json, &self.zone);
        Box::pin(async move {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|()| out.flush())
                .is_ok()
        })
    }
}

/// The loop until SIGINT or SIGTERM. With `--dry-run` nothing is remembered, so every round
/// compares with the state as it was when the loop started.
async fn forever(watcher: Watcher, json: bool, zone: Zone, dry_run: bool) {
    let (stop, stopped) = signal::channel(false);
    let shutdown = crate::adapters::telegram::shutdown_signal();
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop.send(true);
    });
    let mut sink = Stdout { json, zone };
    if dry_run {
        watcher.run_dry(&mut sink, stopped).await;
    } else {
        watcher.run(&mut sink, stopped).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::watch::{Event, Who};

    #[test]
    fn the_loop_never_prints_a_control_character_from_a_label() {
        let who = Who {
            profile: "openai:evil".into(),
            label: "evil\u{1b}]52;c;aGk=\u{7}@example.com".into(),
        };
        let changes = ChangeSet {
            now_ms: 0,
            profiles_checked: 1,
            baseline: false,
            events: vec![Event::UsableAgain { who }],
        };
        let text = shown(&changes, false, &Zone::utc());
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}'),
            "{text:?}"
        );
        assert!(text.contains("is usable again"), "{text}");
        let line = shown(&changes, true, &Zone::utc());
        assert!(
            !line.contains('\u{1b}') && line.ends_with("}\n"),
            "{line:?}"
        );
    }
}
