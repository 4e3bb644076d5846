//! One chart request, pure: the histories of a span in; the series, the PNG (when asked), the
//! sparklines and the pool's forecast line out. The CLI's `usage history` and the chat's
//! `/codex_usage history` both draw through [`report`], so they show the same thing.

use super::{ChartError, ChartOptions, Series, SparkOptions, png, series, sparklines};
use crate::engine::forecast::{self, ProfileHistory, render};

/// Days a chart spans when none are asked for (`usage history` without `--days`, and chat).
pub const DEFAULT_DAYS: u32 = 7;
/// PNG width in pixels.
pub const PNG_WIDTH: u32 = 1200;
/// Sparkline cells.
pub const SPARK_WIDTH: usize = 28;

/// The time a chart spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// How many days back.
    pub days: u32,
    /// Its start, ms.
    pub since_ms: i64,
    /// Now, ms: the history ends and the forecast begins.
    pub now_ms: i64,
}

impl Span {
    /// The last `days` days up to `now_ms`.
    pub fn last_days(days: u32, now_ms: i64) -> Span {
        Span {
            days,
            since_ms: crate::engine::history::span_start(days, now_ms),
            now_ms,
        }
    }

    /// The PNG's options for `series` lines over this span.
    pub fn chart_options(&self, series: usize) -> ChartOptions {
        ChartOptions {
            width: PNG_WIDTH,
            height: ChartOptions::height_for(series),
            since_ms: self.since_ms,
            now_ms: self.now_ms,
            title: format!("Remaining quota, last {} days (UTC)", self.days),
        }
    }
}

/// What a chart request produced.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartReport {
    /// One per (profile, window).
    pub series: Vec<Series>,
    /// The labels of the profiles with at least one check in the span, in the order given.
    pub profiles: Vec<String>,
    /// The PNG, when asked for and there is something to draw.
    pub png: Option<Vec<u8>>,
    /// One text line per series.
    pub sparklines: Vec<String>,
    /// The pool's forecast line, when anything could be forecast.
    pub pool_line: Option<String>,
}

impl ChartReport {
    /// Whether any series has a check to show.
    pub fn has_data(&self) -> bool {
        self.series.iter().any(|s| s.latest_remaining().is_some())
    }
}

/// Build the chart of `histories` over `span`; the PNG only when `want_png` and there is data.
pub fn report(
    histories: &[ProfileHistory],
    span: Span,
    want_png: bool,
) -> Result<ChartReport, ChartError> {
    let series = series::build(histories, span.since_ms, span.now_ms);
    let profiles = histories
        .iter()
        .filter(|h| h.rows.iter().any(|r| r.at_ms >= span.since_ms))
        .map(|h| h.label.clone())
        .collect();
    let lines = render::shown_lines(&forecast::forecast(histories, span.now_ms));
    // One line alone is "not enough history yet": there is no pool line to show.
    let pool_line = (lines.len() > 1).then(|| lines.last().cloned()).flatten();
    let spark = SparkOptions {
        width: SPARK_WIDTH,
        since_ms: span.since_ms,
        now_ms: span.now_ms,
    };
    let mut out = ChartReport {
        sparklines: sparklines(&series, &spark),
        series,
        profiles,
        png: None,
        pool_line,
    };
    if want_png && out.has_data() {
        out.png = Some(png(&out.series, &span.chart_options(out.series.len()))?);
    }
    Ok(out)
}
