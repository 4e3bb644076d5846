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
use crate::engine::chart::{self, ChartOptions, Series, SparkOptions};
use crate::engine::forecast::ProfileHistory;
use crate::engine::history::{self, Retention, SqliteHistory, history_path};
use crate::engine::label::{LabelParts, display_labels};
use crate::engine::selector::Selector;

const DAY_MS: i64 = 86_400_000;
/// Sparkline cells.
const SPARK_WIDTH: usize = 28;
/// PNG width.
const PNG_WIDTH: u32 = 1200;
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
    let parts: Vec<LabelParts<'_>> = snap.codex.iter().map(LabelParts::of).collect();
    let labels = display_labels(&parts);
    let targets: Vec<(String, String)> = ids
        .iter()
        .map(|id| {
            let label = parts
                .iter()
                .zip(&labels)
                .find(|(p, _)| p.id == id.as_str())
                .map_or_else(|| id.as_str().to_owned(), |(_, l)| l.clone());
            (id.as_str().to_owned(), label)
        })
        .collect();

    let now_ms = chrono::Utc::now().timestamp_millis();
    let since_ms = now_ms.saturating_sub(i64::from(a.days).saturating_mul(DAY_MS));
    let histories = read(store.state_dir(), &targets, since_ms)?;
    let series = chart::series::build(&histories, since_ms, now_ms);
    let has_data = series.iter().any(|s| s.latest_remaining().is_some());

    if let Some(file) = &a.png {
        if !has_data {
            return Err(CliError::runtime(
                "no_history",
                format!(
                    "nothing to draw in {}: there is no usage history for these profiles in the last {} days; run `codex-profiler usage` first",
                    file.display(),
                    a.days
                ),
            ));
        }
        let opts = ChartOptions {
            width: PNG_WIDTH,
            height: ChartOptions::height_for(series.len()),
            since_ms,
            now_ms,
            title: format!("Remaining quota, last {} days (UTC)", a.days),
        };
        let bytes =
            chart::png(&series, &opts).map_err(|e| CliError::runtime("chart", e.to_string()))?;
        write_file(file, &bytes)?;
        let profiles = histories.iter().filter(|h| !h.rows.is_empty()).count();
        return Ok(if g.json {
            Report::Json(document(&series, a.days, since_ms, now_ms, Some(file)))
        } else {
            Report::Text(format!(
                "Chart of {} series ({profiles} profiles, {} days) written to {}",
                series.len(),
                a.days,
                file.display()
            ))
        });
    }
    if g.json {
        return Ok(Report::Json(document(
            &series, a.days, since_ms, now_ms, None,
        )));
    }
    if !has_data {
        return Ok(Report::Text(NO_HISTORY.to_owned()));
    }
    let opts = SparkOptions {
        width: SPARK_WIDTH,
        since_ms,
        now_ms,
    };
    let mut text = chart::sparklines(&series, &opts).join("\n");
    text.push_str(&format!("\n(last {} days, oldest left)", a.days));
    Ok(Report::Text(text))
}

/// The selected profiles' rows of the span. No history file: no rows (the file is not made).
fn read(
    state_dir: &Path,
    targets: &[(String, String)],
    since_ms: i64,
) -> Result<Vec<ProfileHistory>, CliError> {
    if !history_path(state_dir).exists() {
        return Ok(Vec::new());
    }
    let err = |e: history::HistoryError| CliError::runtime("history", e.to_string());
    let store = SqliteHistory::open_in(state_dir).map_err(err)?;
    history::histories(&store, targets, since_ms).map_err(err)
}

fn document(
    series: &[Series],
    days: u32,
    since_ms: i64,
    now_ms: i64,
    png: Option<&Path>,
) -> serde_json::Value {
    let iso = |ms| crate::engine::health::iso_ms(ms);
    json!({
        "ok": true,
        "days": days,
        "since": iso(since_ms),
        "until": iso(now_ms),
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
