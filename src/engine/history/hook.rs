//! After a usage check: append its rows, prune to the retention, read back what the forecast
//! needs and forecast. Every history fault (corrupt file, another writer holding the lock, a
//! bad `CODEX_PROFILER_HISTORY_DAYS`) becomes a warning: the check's own report never depends
//! on the history, and the gateway's files are never touched here.

use std::path::Path;

use super::{HistoryStore, Retention, RetentionError, Row, SqliteHistory};
use crate::engine::forecast::{self, Forecast, ProfileHistory};
use crate::engine::usage::{UsageRun, report};

/// Extra history read before the oldest window start, so the reset itself is seen.
const LOOKBACK_MARGIN_MS: i64 = 3_600_000;

/// What the hook produced.
#[derive(Debug, Clone, PartialEq)]
pub struct AfterCheck {
    /// The forecast, unless the history could not be read.
    pub forecast: Option<Forecast>,
    /// One sentence per history fault; the caller shows them (CLI: stderr; chat: the log).
    pub warnings: Vec<String>,
}

/// Record a run in `<state>/codex-profiler/history.sqlite` and forecast from it.
pub fn after_check(
    state_dir: &Path,
    run: &UsageRun,
    retention: Result<Retention, RetentionError>,
    now_ms: i64,
) -> AfterCheck {
    let retention = match retention {
        Ok(r) => r,
        Err(e) => return unavailable(format!("history skipped: {e}")),
    };
    match SqliteHistory::open_in(state_dir) {
        Ok(mut h) => record_and_forecast(&mut h, run, retention, now_ms),
        Err(e) => unavailable(format!("history skipped: {e}")),
    }
}

fn unavailable(warning: String) -> AfterCheck {
    AfterCheck {
        forecast: None,
        warnings: vec![warning],
    }
}

/// [`after_check`] over any [`HistoryStore`]. When the append fails (another writer holds the
/// lock) the forecast still uses what can be read, plus this run's rows.
pub fn record_and_forecast(
    store: &mut impl HistoryStore,
    run: &UsageRun,
    retention: Retention,
    now_ms: i64,
) -> AfterCheck {
    let rows: Vec<Row> = run
        .profiles
        .iter()
        .map(|p| Row::from_result(p, now_ms))
        .collect();
    let mut warnings = Vec::new();
    let appended = match store.append(&rows) {
        Ok(()) => true,
        Err(e) => {
            warnings.push(format!("history not recorded: {e}"));
            false
        }
    };
    if appended {
        if let Err(e) = store.prune(retention.cutoff_ms(now_ms)) {
            warnings.push(format!("history not pruned: {e}"));
        }
    }
    let since = lookback_since(&rows, now_ms).max(retention.cutoff_ms(now_ms));
    let targets: Vec<(String, String)> = rows
        .iter()
        .map(|r| r.profile.clone())
        .zip(report::labels(&run.profiles))
        .collect();
    let forecast = match histories(store, &targets, since) {
        Ok(mut inputs) => {
            if !appended {
                for (h, row) in inputs.iter_mut().zip(&rows) {
                    h.rows.push(row.clone());
                }
            }
            Some(forecast::forecast(&inputs, now_ms))
        }
        Err(e) => {
            warnings.push(format!("history not read, no forecast: {e}"));
            None
        }
    };
    AfterCheck { forecast, warnings }
}

/// Each `(profile id, label)`'s rows since `since_ms`, ready for [`forecast::forecast`].
pub fn histories(
    store: &impl HistoryStore,
    targets: &[(String, String)],
    since_ms: i64,
) -> Result<Vec<ProfileHistory>, super::HistoryError> {
    targets
        .iter()
        .map(|(profile, label)| {
            Ok(ProfileHistory {
                profile: profile.clone(),
                label: label.clone(),
                rows: store.rows(profile, since_ms)?,
            })
        })
        .collect()
}

/// How far back a forecast of these rows reads: what its longest window's estimate depends on
/// ([`forecast::window::lookback_seconds`], at most 12 h), plus a margin so the reset that
/// began the window is seen.
pub fn lookback_since(rows: &[Row], now_ms: i64) -> i64 {
    let longest = rows
        .iter()
        .flat_map(|r| r.windows.iter())
        .map(|w| forecast::window::lookback_seconds(w.window_seconds))
        .max()
        .unwrap_or(forecast::window::MEMORY_S);
    now_ms
        .saturating_sub(longest.saturating_mul(1000))
        .saturating_sub(LOOKBACK_MARGIN_MS)
}
