//! Text sparklines: one fixed-width line per series over `[since, now]`, each cell the last
//! check in its slice of time (▁ empty .. █ full), a blank where no check reported the
//! window, so a reset shows as the line jumping back up and a gap stays a gap.

use super::Series;

/// Eight levels, remaining 0 % to 100 %.
const LEVELS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
/// A cell without a check.
const GAP: char = ' ';

/// What the lines span and how wide the sparkline is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SparkOptions {
    /// Cells per line.
    pub width: usize,
    /// Start of the time span, ms.
    pub since_ms: i64,
    /// End of the time span, ms.
    pub now_ms: i64,
}

/// One line per series: label and window padded to align, the sparkline, the newest
/// remaining percent (`42% left`, or `no data`).
pub fn sparklines(series: &[Series], opts: &SparkOptions) -> Vec<String> {
    let label_w = series.iter().map(|s| s.label.chars().count()).max();
    let names: Vec<String> = series.iter().map(Series::window_name).collect();
    let window_w = names.iter().map(|n| n.chars().count()).max();
    let (label_w, window_w) = (label_w.unwrap_or(0), window_w.unwrap_or(0));
    series
        .iter()
        .zip(&names)
        .map(|(s, name)| {
            let left = match s.latest_remaining() {
                Some(r) => format!("{}% left", r.round() as i64),
                None => "no data".to_owned(),
            };
            format!(
                "{:<label_w$} {:<window_w$} {} {left}",
                s.label,
                name,
                cells(s, opts)
            )
        })
        .collect()
}

fn cells(s: &Series, opts: &SparkOptions) -> String {
    let width = opts.width.max(1);
    let mut out = vec![GAP; width];
    let span = opts.now_ms.saturating_sub(opts.since_ms).max(1) as i128;
    for p in &s.points {
        if p.at_ms < opts.since_ms || p.at_ms > opts.now_ms {
            continue;
        }
        let Some(r) = p.remaining_percent else {
            continue;
        };
        let cell = ((p.at_ms - opts.since_ms) as i128 * width as i128 / span) as usize;
        let level = (r.clamp(0.0, 100.0) / 100.0 * (LEVELS.len() - 1) as f64).round() as usize;
        out[cell.min(width - 1)] = LEVELS[level.min(LEVELS.len() - 1)];
    }
    out.into_iter().collect()
}
