//! The PNG: plotters on an in-memory RGB bitmap (no system font, no system library), text in
//! the DejaVu Sans embedded below, encoded with the `png` crate. Plot on the left, legend on
//! the right; x is time in UTC, y remaining percent 0..100.

use std::sync::OnceLock;

use plotters::prelude::*;
use plotters::style::FontStyle;

use super::{ChartError, Series};

/// DejaVu Sans 2.37 (Bitstream Vera licence, `assets/fonts/LICENSE-DejaVu.txt`).
static FONT: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
/// The family the chart's text asks for.
const FAMILY: &str = "sans-serif";
/// Smallest and largest side, pixels.
const MIN_SIDE: u32 = 200;
const MAX_SIDE: u32 = 4096;
/// The legend column.
const LEGEND_W: u32 = 300;
const LEGEND_ROW: i32 = 16;
/// The forecast may reach this far past `now`, as a fraction of the span shown.
const FUTURE_SHARE: i64 = 4;
/// Distinct colours first, then golden-angle hues.
const PALETTE: [[u8; 3]; 9] = [
    [31, 119, 180],
    [255, 127, 14],
    [44, 160, 44],
    [214, 39, 40],
    [148, 103, 189],
    [140, 86, 75],
    [227, 119, 194],
    [188, 189, 34],
    [23, 190, 207],
];

/// Size and span of a chart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartOptions {
    /// Pixels.
    pub width: u32,
    /// Pixels.
    pub height: u32,
    /// Start of the span, ms.
    pub since_ms: i64,
    /// Now, ms: the history ends here and the forecast begins.
    pub now_ms: i64,
    /// The caption above the plot.
    pub title: String,
}

impl ChartOptions {
    /// A height that fits a legend of `series` entries (at least 600 px).
    pub fn height_for(series: usize) -> u32 {
        let rows = u32::try_from(series).unwrap_or(u32::MAX);
        rows.saturating_mul(LEGEND_ROW as u32)
            .saturating_add(80)
            .clamp(600, MAX_SIDE)
    }
}

/// The colour of series number `i`, as drawn.
pub fn colour(i: usize) -> [u8; 3] {
    if let Some(c) = PALETTE.get(i) {
        return *c;
    }
    let hue = ((i - PALETTE.len()) as f64 * 137.508 + 15.0) % 360.0;
    let c = HSLColor(hue / 360.0, 0.75, 0.4).to_rgba();
    [c.0, c.1, c.2]
}

fn draw_err(e: impl std::fmt::Display) -> ChartError {
    ChartError::Draw(e.to_string())
}

fn register_font() -> Result<(), ChartError> {
    static DONE: OnceLock<bool> = OnceLock::new();
    let ok = *DONE
        .get_or_init(|| plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_ok());
    if ok { Ok(()) } else { Err(ChartError::Font) }
}

/// Draw the series as a PNG: one line per series in [`colour`]`(i)`, gaps where a check did
/// not report the window or none came for a whole window length, a reset as a step back up,
/// the forecast dashed. Nothing to draw is [`ChartError::Empty`].
pub fn png(series: &[Series], opts: &ChartOptions) -> Result<Vec<u8>, ChartError> {
    let (w, h) = (opts.width, opts.height);
    if ![w, h].iter().all(|s| (MIN_SIDE..=MAX_SIDE).contains(s)) {
        return Err(ChartError::Size {
            width: w,
            height: h,
            min: MIN_SIDE,
            max: MAX_SIDE,
        });
    }
    if !series.iter().any(|s| s.latest_remaining().is_some()) {
        return Err(ChartError::Empty);
    }
    register_font()?;
    let mut buf = vec![0u8; w as usize * h as usize * 3];
    render(&mut buf, series, opts)?;
    encode(&buf, w, h)
}

fn render(buf: &mut [u8], series: &[Series], opts: &ChartOptions) -> Result<(), ChartError> {
    let (w, h) = (opts.width, opts.height);
    let root = BitMapBackend::with_buffer(buf, (w, h)).into_drawing_area();
    root.fill(&WHITE).map_err(draw_err)?;
    let legend_w = LEGEND_W.min(w / 2);
    let (plot, legend) = root.split_horizontally(w - legend_w);
    let since = opts.since_ms;
    let now = opts.now_ms.max(since + 1);
    let horizon = now + (now - since) / FUTURE_SHARE;
    let until = series
        .iter()
        .filter_map(|s| s.forecast.as_ref().map(|f| f.to_ms))
        .fold(now, i64::max)
        .min(horizon);
    let mut chart = ChartBuilder::on(&plot)
        .caption(&opts.title, (FAMILY, 18))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(48)
        .build_cartesian_2d(since..until, 0f64..100f64)
        .map_err(draw_err)?;
    // Date and time on every label: the ticks of a multi-day span fall at any hour.
    let fmt = "%m-%d %H:%M";
    let x_fmt = |ms: &i64| {
        chrono::DateTime::from_timestamp_millis(*ms)
            .map(|t| t.format(fmt).to_string())
            .unwrap_or_default()
    };
    chart
        .configure_mesh()
        .x_labels(7)
        .y_labels(6)
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&|v: &f64| format!("{v:.0}%"))
        .x_desc("UTC")
        .y_desc("remaining")
        .label_style((FAMILY, 12))
        .draw()
        .map_err(draw_err)?;
    // Now, as a thin grey line: history to its left, forecast to its right.
    chart
        .draw_series(LineSeries::new([(now, 0.0), (now, 100.0)], BLACK.mix(0.3)))
        .map_err(draw_err)?;
    for (i, s) in series.iter().enumerate() {
        let [r, g, b] = colour(i);
        let style = RGBColor(r, g, b).stroke_width(2);
        for run in runs(s, since, now) {
            chart
                .draw_series(LineSeries::new(run, style))
                .map_err(draw_err)?;
        }
        if let Some(f) = &s.forecast {
            let end = if f.to_ms > until {
                let share = (until - f.from_ms) as f64 / (f.to_ms - f.from_ms) as f64;
                (
                    until,
                    f.from_percent + (f.to_percent - f.from_percent) * share,
                )
            } else {
                (f.to_ms, f.to_percent)
            };
            if f.from_ms >= since && end.0 > f.from_ms {
                chart
                    .draw_series(DashedLineSeries::new(
                        [(f.from_ms, f.from_percent), end],
                        6,
                        4,
                        style,
                    ))
                    .map_err(draw_err)?;
            }
        }
    }
    draw_legend(&legend, series)?;
    root.present().map_err(draw_err)
}

/// The drawable runs of a series: broken at a gap (a check without the window, or no check
/// for longer than the window), with a step at the reset time where a reset is known.
fn runs(s: &Series, since: i64, now: i64) -> Vec<Vec<(i64, f64)>> {
    let max_gap = s.window_seconds.map(|w| w.saturating_mul(1000));
    let mut out: Vec<Vec<(i64, f64)>> = Vec::new();
    let mut cur: Vec<(i64, f64)> = Vec::new();
    let mut prev: Option<&super::Point> = None;
    for p in s
        .points
        .iter()
        .filter(|p| p.at_ms >= since && p.at_ms <= now)
    {
        let Some(v) = p.remaining_percent else {
            out.push(std::mem::take(&mut cur));
            prev = None;
            continue;
        };
        if let Some(q) = prev {
            if max_gap.is_some_and(|g| p.at_ms - q.at_ms > g) {
                out.push(std::mem::take(&mut cur));
            } else if p.reset {
                let at = q.reset_at_ms.filter(|r| *r > q.at_ms && *r <= p.at_ms);
                if let (Some(at), Some(before)) = (at, q.remaining_percent) {
                    cur.push((at, before));
                    cur.push((at, 100.0));
                }
            }
        }
        cur.push((p.at_ms, v));
        prev = Some(p);
    }
    out.push(cur);
    // A lone check still shows, as a short flat tick.
    out.into_iter()
        .filter(|r| !r.is_empty())
        .map(|r| match r.as_slice() {
            [(t, v)] => vec![(*t, *v), (t + (now - since) / 400 + 1, *v)],
            _ => r,
        })
        .collect()
}

fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    series: &[Series],
) -> Result<(), ChartError> {
    let text = (FAMILY, 12).into_font().color(&BLACK);
    let (_, h) = area.dim_in_pixel();
    let fit = ((h as i32 - 60) / LEGEND_ROW).max(1) as usize;
    let shown = if series.len() > fit {
        fit - 1
    } else {
        series.len()
    };
    let mut y = 40;
    for (i, s) in series.iter().enumerate().take(shown) {
        let [r, g, b] = colour(i);
        area.draw(&Rectangle::new(
            [(8, y - 2), (32, y + 2)],
            RGBColor(r, g, b).filled(),
        ))
        .map_err(draw_err)?;
        let name = format!("{} {}", s.label, s.window_name());
        area.draw(&Text::new(name, (38, y - 7), text.clone()))
            .map_err(draw_err)?;
        y += LEGEND_ROW;
    }
    if shown < series.len() {
        let more = format!("… and {} more", series.len() - shown);
        area.draw(&Text::new(more, (38, y - 7), text.clone()))
            .map_err(draw_err)?;
        y += LEGEND_ROW;
    }
    let note = "dashed: forecast";
    area.draw(&Text::new(note, (8, y + 4), text))
        .map_err(draw_err)?;
    Ok(())
}

fn encode(rgb: &[u8], w: u32, h: u32) -> Result<Vec<u8>, ChartError> {
    let mut out = Vec::new();
    let enc_err = |e: png::EncodingError| ChartError::Encode(e.to_string());
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::Fast);
        let mut writer = enc.write_header().map_err(enc_err)?;
        writer.write_image_data(rgb).map_err(enc_err)?;
        writer.finish().map_err(enc_err)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::chart::Point;

    fn point(at_ms: i64, remaining: Option<f64>, reset_at_ms: Option<i64>, reset: bool) -> Point {
        Point {
            at_ms,
            remaining_percent: remaining,
            reset_at_ms,
            reset,
        }
    }

    fn series(points: Vec<Point>) -> Series {
        Series {
            profile: "p".into(),
            label: "p".into(),
            limit: None,
            window: "5h".into(),
            window_seconds: Some(18_000),
            points,
            forecast: None,
        }
    }

    #[test]
    fn a_known_reset_is_a_step_up_at_its_time() {
        let s = series(vec![
            point(0, Some(30.0), Some(600_000), false),
            point(1_000_000, Some(90.0), Some(18_600_000), true),
        ]);
        let r = runs(&s, 0, 2_000_000);
        assert_eq!(
            r,
            vec![vec![
                (0, 30.0),
                (600_000, 30.0),
                (600_000, 100.0),
                (1_000_000, 90.0)
            ]]
        );
    }

    #[test]
    fn a_failed_check_or_a_silence_longer_than_the_window_breaks_the_line() {
        let h = 3_600_000;
        let s = series(vec![
            point(0, Some(90.0), None, false),
            point(h, Some(80.0), None, false),
            point(2 * h, None, None, false),
            point(3 * h, Some(70.0), None, false),
            point(4 * h, Some(60.0), None, false),
            // Six hours without a check: longer than the 5h window.
            point(10 * h, Some(50.0), None, false),
            point(11 * h, Some(40.0), None, false),
        ]);
        let r = runs(&s, 0, 12 * h);
        let lens: Vec<usize> = r.iter().map(Vec::len).collect();
        assert_eq!(lens, vec![2, 2, 2], "{r:?}");
    }

    #[test]
    fn colours_are_distinct_and_never_the_axes_or_the_background() {
        let all: Vec<[u8; 3]> = (0..60).map(colour).collect();
        for (i, c) in all.iter().enumerate() {
            assert!(!all[..i].contains(c), "colour {i} {c:?} repeats");
            assert_ne!(*c, [255, 255, 255]);
            assert_ne!(*c, [0, 0, 0]);
            assert!(c[0] != c[1] || c[1] != c[2], "colour {i} {c:?} is a grey");
        }
    }
}
