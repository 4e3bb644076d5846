//! `/codex_usage history`: the engine's chart of the usage history over the chat's span (the
//! CLI's default days, at most the retention), drawn by the same [`chart::report`] as
//! `codex-profiler usage history`. Read-only: a missing history file is "no history yet" and
//! is not created.

use std::path::Path;

use crate::chat::backend::{BackendError, BackendResult};
use crate::engine::chart::{self, Span};
use crate::engine::history::{self, Retention};
use crate::engine::profile::ProfileId;
use crate::engine::store::Snapshot;

/// A usage-history chart, ready to show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryChart {
    /// Days it spans.
    pub days: u32,
    /// Whether any profile has a check in the span (else say so, draw nothing).
    pub has_data: bool,
    /// Labels of the profiles with history in the span.
    pub profiles: Vec<String>,
    /// How many lines (profile × window) it has.
    pub series: usize,
    /// The PNG, when asked for and there is data.
    pub png: Option<Vec<u8>>,
    /// One text sparkline per profile and window, for transports without photos.
    pub sparklines: Vec<String>,
    /// The pool's forecast line, when anything could be forecast.
    pub pool: Option<String>,
}

/// Chart `ids`' history from `state_dir` (blocking: reads SQLite).
pub(super) fn chart(
    snap: &Snapshot,
    state_dir: &Path,
    retention: Retention,
    ids: &[ProfileId],
    png: bool,
    now_ms: i64,
) -> BackendResult<HistoryChart> {
    let span = Span::last_days(chart::DEFAULT_DAYS.min(retention.days()), now_ms);
    let targets = history::targets(snap, ids);
    let histories = history::read_span(state_dir, &targets, span.since_ms)
        .map_err(|e| BackendError::runtime("history", e.to_string()))?;
    let r = chart::report(&histories, span, png)
        .map_err(|e| BackendError::runtime("chart", e.to_string()))?;
    Ok(HistoryChart {
        days: span.days,
        has_data: r.has_data(),
        profiles: r.profiles,
        series: r.series.len(),
        png: r.png,
        sparklines: r.sparklines,
        pool: r.pool_line,
    })
}
