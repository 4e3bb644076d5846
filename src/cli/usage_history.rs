//! `usage history [--profile SEL] [--days N] [--png FILE]`: the recorded usage checks as text
//! sparklines, a PNG chart, or (`--json`) the series as data. Reads the history only: a
//! missing history file is "no history yet" and is not created; the gateway's store is read
//! for the selection and the labels. The PNG is written next to FILE and renamed over it.

use std::io::Write;
use std::path::Path;

use serde_json::json;

use super::args::{GlobalArgs, UsageHistoryArgs};
use super::output::{CliError, CmdResult, Report};
use super::store_opts::open_store;
use crate::engine::chart::{self, Series, Span};
use crate::engine::history::{self, Retention};
use crate::engine::selector::Selector;

/// What to say when there is nothing to show.
const NO_HISTORY: &str =
    "No usage history yet for these profiles: each `codex-profiler usage` check records one.";

/// Run `usage history`.
pub fn run(g: &GlobalArgs, a: UsageHistoryArgs) -> CmdResult {
    let retention = Retention::from_env().map_err(|e| CliError::usage(e.to_string()))?;
    if a.days > retention.days() {
        return Err(CliError::usage(format!(
            "--days {} is more than the history keeps ({} days, {}); ask for {} or fewer",
            a.days,
            retention.days(),
            history::HISTORY_DAYS_VAR,
            retention.days()
        )));
    }
    let selector = Selector::parse(&a.profile)?;
    let store = open_store(g)?;
    let snap = store.load()?;
    let ids = selector.resolve_in(&snap, store.codex_provider().as_str())?;
    let targets = history::targets(&snap, &ids);

    let span = Span::last_days(a.days, chrono::Utc::now().timestamp_millis());
    let err = |e: history::HistoryError| CliError::runtime("history", e.to_string());
    let histories = history::read_span(store.state_dir(), &targets, span.since_ms).map_err(err)?;
    let chart = chart::report(&histories, span, a.png.is_some())
        .map_err(|e| CliError::runtime("chart", e.to_string()))?;
    let has_data = chart.has_data();

    if let Some(file) = &a.png {
        let Some(bytes) = chart.png.as_deref() else {
            return Err(CliError::runtime(
                "no_history",
                format!(
                    "nothing to draw in {}: there is no usage history for these profiles in the last {} days; run `codex-profiler usage` first",
                    file.display(),
                    a.days
                ),
            ));
        };
        write_file(file, bytes)?;
        let profiles = chart.profiles.len();
        return Ok(if g.json {
            Report::Json(document(&chart.series, span, Some(file)))
        } else {
            Report::Text(format!(
                "Chart of {} series ({profiles} profiles, {} days) written to {}",
                chart.series.len(),
                a.days,
                file.display()
            ))
        });
    }
    if g.json {
        return Ok(Report::Json(document(&chart.series, span, None)));
    }
    if !has_data {
        return Ok(Report::Text(NO_HISTORY.to_owned()));
    }
    let mut text = chart.sparklines.join("\n");
    text.push_str(&format!("\n(last {} days, oldest left)", a.days));
    Ok(Report::Text(text))
}

fn document(series: &[Series], span: Span, png: Option<&Path>) -> serde_json::Value {
    let iso = |ms| crate::engine::health::iso_ms(ms);
    json!({
        "ok": true,
        "days": span.days,
        "since": iso(span.since_ms),
        "until": iso(span.now_ms),
        "png": png.map(|p| p.display().to_string()),
        "series": series,
    })
}

/// Write `bytes` to `file` through a temporary file beside it, so a reader never sees half
/// a PNG.
fn write_file(file: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let fail = |e: std::io::Error| {
        CliError::runtime("write", format!("could not write {}: {e}", file.display()))
    };
    let dir = file
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile_in(dir).map_err(fail)?;
    tmp.1.write_all(bytes).map_err(fail)?;
    tmp.1.sync_all().map_err(fail)?;
    std::fs::rename(&tmp.0, file).map_err(|e| {
        let _ = std::fs::remove_file(&tmp.0);
        fail(e)
    })
}

fn tempfile_in(dir: &Path) -> std::io::Result<(std::path::PathBuf, std::fs::File)> {
    let name = format!(".codex-profiler-chart-{}.png.tmp", std::process::id());
    let path = dir.join(name);
    // A leftover of a killed run with the same pid.
    let _ = std::fs::remove_file(&path);
    let f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)?;
    Ok((path, f))
}
