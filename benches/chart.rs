//! Chart of the usage history (plain binary, `harness = false`).
//!
//! 20 profiles, 30 days, one check every 5 minutes (8,640 checks a profile, two windows
//! each: 40 series, 345,600 points), resets every 5 hours and every week. Times, each the
//! median of several rounds in the same run:
//!
//! - **baseline**: PNG-encoding a blank bitmap of the same size with the same settings (the
//!   floor any chart of that size pays);
//! - **frame**: the same chart with one check per series (axes, grid, legend, text, encode:
//!   everything but the lines);
//! - **png**: [`chart::png`] over the built series (draw and encode);
//! - **build + png**: [`chart::series::build`] (with the forecast) and then the PNG, what
//!   `usage history --png` does after reading the rows;
//! - **sparklines**: [`chart::sparklines`] over the same series;
//! - **read rows**: [`history::histories`] of the same rows from a real `history.sqlite`
//!   (what `usage history` reads before building anything), for the end-to-end picture.
//!
//! Run: `cargo bench --bench chart`. Under `cargo test` (no `--bench` argument) it runs a
//! small smoke round (2 profiles, 1 day).

use std::hint::black_box;
use std::time::{Duration, Instant};

use codex_profiler::engine::chart::{self, ChartOptions, SparkOptions};
use codex_profiler::engine::forecast::ProfileHistory;
use codex_profiler::engine::history::{self, HistoryStore, Row, SqliteHistory};

#[path = "support/history_rows.rs"]
mod history_rows;
use history_rows::row;

const DAY_MS: i64 = 86_400_000;
/// Two hours into a 5h window.
const NOW: i64 = 1_800_007_200_000;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time<T>(rounds: usize, mut f: impl FnMut() -> T) -> Duration {
    median(
        (0..rounds)
            .map(|_| {
                let t = Instant::now();
                black_box(f());
                t.elapsed()
            })
            .collect(),
    )
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let (profiles, days, rounds) = if bench { (20, 30, 11) } else { (2, 1, 1) };
    let since = NOW - days * DAY_MS;
    let histories: Vec<ProfileHistory> = (0..profiles)
        .map(|p| ProfileHistory {
            profile: format!("openai:bench{p}@example.com"),
            label: format!("bench{p}@example.com"),
            rows: (0..days * 288)
                .map(|i| row(p, since + i * 300_000))
                .collect(),
        })
        .collect();
    let series = chart::series::build(&histories, since, NOW);
    let opts = ChartOptions {
        width: 1200,
        height: ChartOptions::height_for(series.len()),
        since_ms: since,
        now_ms: NOW,
        title: "bench".into(),
    };
    let blank = vec![255u8; opts.width as usize * opts.height as usize * 3];
    let encode_blank = || {
        let mut out = Vec::new();
        let mut enc = png::Encoder::new(&mut out, opts.width, opts.height);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::Fast);
        let mut w = enc.write_header().expect("header");
        w.write_image_data(&blank).expect("data");
        w.finish().expect("finish");
        out
    };
    let base = time(rounds, encode_blank);
    let frame_series: Vec<_> = series
        .iter()
        .cloned()
        .map(|mut s| {
            s.points.truncate(1);
            s.forecast = None;
            s
        })
        .collect();
    let frame = time(rounds, || chart::png(&frame_series, &opts).expect("frame"));
    let draw = time(rounds, || chart::png(&series, &opts).expect("png"));
    let full = time(rounds, || {
        let s = chart::series::build(&histories, since, NOW);
        chart::png(&s, &opts).expect("png")
    });
    let spark_opts = SparkOptions {
        width: 28,
        since_ms: since,
        now_ms: NOW,
    };
    let spark = time(rounds, || chart::sparklines(&series, &spark_opts));
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = SqliteHistory::open_in(dir.path()).expect("history");
    let mut all: Vec<Row> = histories.iter().flat_map(|h| h.rows.clone()).collect();
    all.sort_by_key(|r| r.at_ms);
    store.append(&all).expect("append");
    let targets: Vec<(String, String)> = histories
        .iter()
        .map(|h| (h.profile.clone(), h.label.clone()))
        .collect();
    let read_rounds = rounds.min(3);
    let read = time(read_rounds, || {
        history::histories(&store, &targets, since).expect("read")
    });
    let points: usize = series.iter().map(|s| s.points.len()).sum();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let ratio = |d: Duration| d.as_secs_f64() / base.as_secs_f64().max(1e-9);
    println!(
        "chart benchmark: {profiles} profiles, {days} days every 5 min, {} series, {points} points, {}x{} px, median of {rounds}",
        series.len(),
        opts.width,
        opts.height
    );
    println!("baseline (encode a blank bitmap): {:8.2} ms", ms(base));
    println!(
        "frame (no lines):                 {:8.2} ms  {:6.1}x baseline",
        ms(frame),
        ratio(frame)
    );
    println!(
        "png (draw + encode):              {:8.2} ms  {:6.1}x baseline  {:4.2}x frame",
        ms(draw),
        ratio(draw),
        draw.as_secs_f64() / frame.as_secs_f64().max(1e-9)
    );
    println!(
        "build + png:                      {:8.2} ms  {:6.1}x baseline  {:4.2}x frame",
        ms(full),
        ratio(full),
        full.as_secs_f64() / frame.as_secs_f64().max(1e-9)
    );
    println!(
        "sparklines:                       {:8.2} ms  {:6.1}x baseline",
        ms(spark),
        ratio(spark)
    );
    println!(
        "read rows (history.sqlite, median of {read_rounds}): {:8.2} ms",
        ms(read)
    );
}
