//! The history of a span of days, for charts: the selected profiles' rows since a time, read
//! without creating the database (no file yet is "no history", not an error).

use std::path::Path;

use super::{HistoryError, SqliteHistory, histories, history_path};
use crate::engine::forecast::ProfileHistory;
use crate::engine::label::{LabelParts, display_labels};
use crate::engine::profile::ProfileId;
use crate::engine::store::Snapshot;

/// One day in milliseconds.
pub const DAY_MS: i64 = 86_400_000;

/// The start of a span of `days` ending at `now_ms`.
pub fn span_start(days: u32, now_ms: i64) -> i64 {
    now_ms.saturating_sub(i64::from(days).saturating_mul(DAY_MS))
}

/// Each `(profile id, label)`'s rows taken at or after `since_ms`. No history file: no rows,
/// and the file is not made.
pub fn read_span(
    state_dir: &Path,
    targets: &[(String, String)],
    since_ms: i64,
) -> Result<Vec<ProfileHistory>, HistoryError> {
    if !history_path(state_dir).exists() {
        return Ok(Vec::new());
    }
    let store = SqliteHistory::open_in(state_dir)?;
    histories(&store, targets, since_ms)
}

/// `(profile id, label)` of each of `ids`, labelled among the store's Codex profiles as
/// everywhere else (an id the store no longer has keeps its id as label).
pub fn targets(snap: &Snapshot, ids: &[ProfileId]) -> Vec<(String, String)> {
    let parts: Vec<LabelParts<'_>> = snap.codex.iter().map(LabelParts::of).collect();
    let labels = display_labels(&parts);
    ids.iter()
        .map(|id| {
            let label = parts
                .iter()
                .zip(&labels)
                .find(|(p, _)| p.id == id.as_str())
                .map_or_else(|| id.as_str().to_owned(), |(_, l)| l.clone());
            (id.as_str().to_owned(), label)
        })
        .collect()
}
