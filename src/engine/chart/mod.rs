//! Charts of the usage history: remaining quota per profile and window over time, as a PNG
//! (plotters on an in-memory bitmap, text in an embedded DejaVu Sans, encoded with `png`) or
//! as fixed-width text sparklines. Pure rendering: series in, bytes or lines out; no I/O.
//!
//! # Design
//! - [`series::build`] turns each profile's history rows and its forecast into one
//!   [`Series`] per (profile, window): a point per check (a failed check or a check without
//!   that window is a gap), resets flagged, the forecast as a straight continuation from the
//!   newest check to its run-out or its reset.
//! - [`png`] draws every series in its own colour ([`colour`]), a reset as the line jumping
//!   back up (a step at the reset time when it is known), the forecast dashed, a legend with
//!   the label and window, the time axis in UTC and y = remaining percent 0..100.
//! - [`sparklines`] gives one line per series, e.g. `alice@example.com 5h ▇▇▆▅▃▂▁ █▇ 42% left`.
//!
//! - [`report`] is one request (series, PNG, sparklines, pool forecast line), shared by the
//!   CLI and the chat.
//!
//! Files: `series.rs` (rows to series), `draw.rs` (the PNG), `spark.rs` (text), `report.rs`
//! (one request).

mod draw;
mod report;
pub mod series;
mod spark;

use serde::Serialize;

pub use draw::{ChartOptions, colour, png};
pub use report::{ChartReport, DEFAULT_DAYS, PNG_WIDTH, SPARK_WIDTH, Span, report};
pub use spark::{SparkOptions, sparklines};

/// One check of one window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Point {
    /// When the check ran, ms since the epoch.
    #[serde(rename = "at", serialize_with = "crate::engine::forecast::ser_iso")]
    pub at_ms: i64,
    /// Remaining percent (100 - used), `None` when this check did not report the window (a
    /// failed check): a gap.
    pub remaining_percent: Option<f64>,
    /// The window's reset time this check reported, ms.
    #[serde(skip)]
    pub reset_at_ms: Option<i64>,
    /// The window reset between the previous point and this one.
    pub reset: bool,
}

/// The forecast of a window as a straight line from the newest check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForecastLine {
    /// The newest check's time.
    #[serde(rename = "from", serialize_with = "crate::engine::forecast::ser_iso")]
    pub from_ms: i64,
    /// Remaining percent then.
    pub from_percent: f64,
    /// The run-out (remaining 0) or the reset, whichever comes first.
    #[serde(rename = "to", serialize_with = "crate::engine::forecast::ser_iso")]
    pub to_ms: i64,
    /// Remaining percent then.
    pub to_percent: f64,
    /// `runs_out` or `lasts_until_reset`.
    pub status: crate::engine::forecast::Status,
}

/// One line of the chart: one profile's window over time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    /// Profile id.
    pub profile: String,
    /// The name shown.
    pub label: String,
    /// `None` for the main rate limit, else the additional limit's name.
    pub limit: Option<String>,
    /// `5h`, `week`, ...
    pub window: String,
    /// The window's length in seconds, if known.
    pub window_seconds: Option<i64>,
    /// One point per check, oldest first.
    pub points: Vec<Point>,
    /// The dashed continuation, when the forecast has a pace.
    pub forecast: Option<ForecastLine>,
}

impl Series {
    /// The window as shown: `5h`, or `code_review 5h` for an additional limit.
    pub fn window_name(&self) -> String {
        match &self.limit {
            Some(l) => format!("{l} {}", self.window),
            None => self.window.clone(),
        }
    }

    /// The newest known remaining percent.
    pub fn latest_remaining(&self) -> Option<f64> {
        self.points.iter().rev().find_map(|p| p.remaining_percent)
    }
}

/// Why a chart could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    /// No series has a single check to draw.
    #[error("there is no usage history to draw yet")]
    Empty,
    /// The image size is outside what can be drawn.
    #[error("a chart must be between {min}x{min} and {max}x{max} pixels, not {width}x{height}")]
    Size {
        /// Asked width.
        width: u32,
        /// Asked height.
        height: u32,
        /// Smallest side.
        min: u32,
        /// Largest side.
        max: u32,
    },
    /// The embedded font could not be loaded.
    #[error("the embedded chart font could not be loaded")]
    Font,
    /// Plotters failed while drawing.
    #[error("the chart could not be drawn: {0}")]
    Draw(String),
    /// The PNG encoder failed.
    #[error("the chart could not be encoded as PNG: {0}")]
    Encode(String),
}
