//! Charts of the usage history: the PNG decoded by a real decoder (size, one colour per
//! profile and window, the forecast), sparklines on scripted histories (steady, reset, gap),
//! and `usage history` end to end on a seeded history (text, JSON, PNG, no history, --days).

use std::path::Path;

use codex_profiler::engine::chart::{self, ChartError, ChartOptions, Series, SparkOptions};
use codex_profiler::engine::forecast::ProfileHistory;
use codex_profiler::engine::history::{HistoryStore, Row, SqliteHistory, WindowSample};

use crate::support::cli;

const MIN: i64 = 60_000;
const HOUR: i64 = 3_600_000;
const DAY: i64 = 86_400_000;
const NOW: i64 = 1_800_000_000_000;

/// A row with one 5h window `used` percent used, resetting at `reset_s`.
fn row(profile: &str, at_ms: i64, used: Option<f64>, reset_s: i64) -> Row {
    Row {
        at_ms,
        profile: profile.into(),
        account_id: None,
        plan: Some("plus".into()),
        windows: used
            .map(|u| {
                vec![
                    WindowSample {
                        limit: None,
                        label: "5h".into(),
                        window_seconds: Some(18_000),
                        used_percent: Some(u),
                        reset_at: Some(reset_s),
                    },
                    WindowSample {
                        limit: None,
                        label: "week".into(),
                        window_seconds: Some(604_800),
                        used_percent: Some(u / 4.0),
                        reset_at: Some(NOW / 1000 + 3 * 86_400),
                    },
                ]
            })
            .unwrap_or_default(),
        credits_balance: None,
        spend_remaining: None,
        limit_reached: Some(false),
        remote_error: used.is_none().then(|| "timeout".into()),
        local_status: "ok".into(),
    }
}

/// Checks every 10 minutes for `hours` up to 20 minutes ago, burning `pace` points each, the
/// 5h window resetting every 5 hours (used back to 0; `NOW` is on a 5h boundary).
fn burning(profile: &str, hours: i64, pace: f64) -> Vec<Row> {
    let start = NOW - hours * HOUR - 20 * MIN;
    (0..=hours * 6)
        .map(|i| {
            let at = start + i * 10 * MIN;
            let window_start = at - at.rem_euclid(5 * HOUR);
            let used = ((at - window_start) as f64 / (10 * MIN) as f64 * pace).min(100.0);
            row(profile, at, Some(used), (window_start + 5 * HOUR) / 1000)
        })
        .collect()
}

fn history(profile: &str, label: &str, rows: Vec<Row>) -> ProfileHistory {
    ProfileHistory {
        profile: profile.into(),
        label: label.into(),
        rows,
    }
}

fn decode(bytes: &[u8]) -> (u32, u32, Vec<[u8; 3]>) {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb);
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    let px = buf[..info.buffer_size()]
        .chunks_exact(3)
        .map(|c| [c[0], c[1], c[2]])
        .collect();
    (info.width, info.height, px)
}

fn opts(since: i64, w: u32, h: u32) -> ChartOptions {
    ChartOptions {
        width: w,
        height: h,
        since_ms: since,
        now_ms: NOW,
        title: "test".into(),
    }
}

#[test]
fn png_decodes_at_its_size_with_one_colour_per_profile_and_window() {
    let hs = vec![
        history(
            "openai:alice@example.com",
            "alice@example.com",
            burning("a", 24, 3.0),
        ),
        history(
            "openai:bob@example.com",
            "bob@example.com",
            burning("b", 24, 1.5),
        ),
        history(
            "openai:carol@example.com",
            "carol@example.com",
            burning("c", 24, 0.5),
        ),
    ];
    let since = NOW - DAY;
    let series = chart::series::build(&hs, since, NOW);
    assert_eq!(series.len(), 6, "one series per profile and window");
    let bytes = chart::png(&series, &opts(since, 1000, 640)).unwrap();
    let (w, h, px) = decode(&bytes);
    assert_eq!((w, h), (1000, 640));
    for i in 0..series.len() {
        let c = chart::colour(i);
        let n = px.iter().filter(|p| **p == c).count();
        // The legend swatch alone is 25x5 px: more means the line itself is drawn.
        assert!(n > 400, "series {i} ({c:?}) has {n} pixels");
    }
    let unused = chart::colour(series.len());
    assert_eq!(px.iter().filter(|p| **p == unused).count(), 0);
}

#[test]
fn resets_are_kept_and_the_forecast_is_a_line_to_run_out() {
    let since = NOW - 12 * HOUR;
    let hs = vec![history("p", "p", burning("p", 12, 3.0))];
    // A quarter of an hour before the 5h window's next reset.
    let series = chart::series::build(&hs, since, NOW - 15 * MIN);
    let five = series.iter().find(|s| s.window == "5h").unwrap();
    let resets = five.points.iter().filter(|p| p.reset).count();
    assert_eq!(resets, 2, "12 h of a 5h window resets twice");
    let f = five
        .forecast
        .as_ref()
        .expect("a burning window has a forecast");
    assert!(
        f.to_ms > f.from_ms && f.to_percent < f.from_percent,
        "{f:?}"
    );
}

#[test]
fn nothing_to_draw_and_bad_sizes_are_errors() {
    let empty = chart::png(&[], &opts(NOW - DAY, 800, 600));
    assert!(matches!(empty, Err(ChartError::Empty)), "{empty:?}");
    let only_failures = vec![history("p", "p", vec![row("p", NOW - HOUR, None, 0)])];
    let series = chart::series::build(&only_failures, NOW - DAY, NOW);
    assert!(matches!(
        chart::png(&series, &opts(NOW - DAY, 800, 600)),
        Err(ChartError::Empty)
    ));
    let hs = vec![history("p", "p", burning("p", 2, 1.0))];
    let series = chart::series::build(&hs, NOW - DAY, NOW);
    let big = chart::png(&series, &opts(NOW - DAY, 100_000, 600));
    assert!(matches!(big, Err(ChartError::Size { .. })), "{big:?}");
}

fn spark(series: &[Series], since: i64, width: usize) -> Vec<String> {
    chart::sparklines(
        series,
        &SparkOptions {
            width,
            since_ms: since,
            now_ms: NOW,
        },
    )
}

/// The cells of a line: what stands between the window name and the percentage.
fn cells(line: &str, width: usize) -> Vec<char> {
    let chars: Vec<char> = line.chars().collect();
    let end = line
        .rfind(" left")
        .or_else(|| line.rfind(" no data"))
        .unwrap();
    let end_chars = line[..end].chars().count();
    let pct_start = line[..end]
        .rfind(' ')
        .map(|i| line[..i].chars().count())
        .unwrap();
    assert!(end_chars > pct_start);
    chars[pct_start - width..pct_start].to_vec()
}

#[test]
fn sparkline_steady_burn_goes_down_and_says_what_is_left() {
    // One check an hour for 8 hours, 10 points each: 100 % down to 20 % left.
    let rows = (0..8)
        .map(|i| {
            row(
                "p",
                NOW - (7 - i) * HOUR - MIN,
                Some(10.0 * i as f64 + 10.0),
                NOW / 1000 + 3600,
            )
        })
        .collect();
    let series = chart::series::build(
        &[history("p", "alice@example.com", rows)],
        NOW - 8 * HOUR,
        NOW,
    );
    let lines = spark(&series[..1], NOW - 8 * HOUR, 8);
    assert_eq!(lines.len(), 1);
    assert!(lines[0].starts_with("alice@example.com 5h "), "{lines:?}");
    assert!(lines[0].ends_with(" 20% left"), "{lines:?}");
    let c = cells(&lines[0], 8);
    assert_eq!(c.iter().collect::<String>(), "▇▇▆▅▅▄▃▂", "{lines:?}");
}

#[test]
fn sparkline_shows_the_reset_jump_and_the_gap() {
    let reset1 = NOW / 1000 - 4 * 3600;
    let reset2 = NOW / 1000 + 3600;
    let rows = vec![
        row("p", NOW - 8 * HOUR + MIN, Some(60.0), reset1),
        row("p", NOW - 7 * HOUR + MIN, Some(90.0), reset1),
        // 6h..5h ago: the check failed; 5h..4h ago: no check at all.
        row("p", NOW - 6 * HOUR + MIN, None, 0),
        row("p", NOW - 4 * HOUR + MIN, Some(0.0), reset2),
        row("p", NOW - 3 * HOUR + MIN, Some(30.0), reset2),
        row("p", NOW - 2 * HOUR + MIN, Some(50.0), reset2),
        row("p", NOW - HOUR + MIN, Some(60.0), reset2),
    ];
    let series = chart::series::build(&[history("p", "p", rows)], NOW - 8 * HOUR, NOW);
    let five = &series[0];
    assert!(five.points[3].reset, "{:?}", five.points);
    assert_eq!(five.points[2].remaining_percent, None);
    let lines = spark(std::slice::from_ref(five), NOW - 8 * HOUR, 8);
    let c: String = cells(&lines[0], 8).into_iter().collect();
    assert_eq!(c, "▄▂  █▆▅▄", "{lines:?}");
    assert!(lines[0].ends_with(" 40% left"));
    // Fixed width whatever the history.
    let other = spark(&series, NOW - 8 * HOUR, 8);
    let widths: Vec<usize> = other.iter().map(|l| l.chars().count()).collect();
    assert!(widths.windows(2).all(|w| w[0] == w[1]), "{other:?}");
}

// --- the binary end to end ---

const ALICE: &str = "openai:alice@example.com";
const BOB: &str = "openai:bob@example.com";

fn seeded() -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join("state-dir");
    super::cli::state_db(&state);
    let now = chrono::Utc::now().timestamp_millis();
    let mut h = SqliteHistory::open_in(&state).unwrap();
    let mut rows = Vec::new();
    for (p, pace) in [(ALICE, 2.0), (BOB, 0.5)] {
        for i in 0..36 {
            let at = now - (36 - i) * 10 * MIN;
            rows.push(row(p, at, Some(pace * i as f64), now / 1000 + 3600));
        }
    }
    // Old enough for --days 1 to leave it out.
    rows.push(row(
        ALICE,
        now - 3 * DAY,
        Some(5.0),
        now / 1000 - 3 * 86_400,
    ));
    h.append(&rows).unwrap();
    home
}

fn history_cmd(home: &Path, env: &[(&str, &str)], args: &[&str]) -> cli::Run {
    let st = home.join("state-dir");
    let mut all = vec!["--state-dir", st.to_str().unwrap(), "usage", "history"];
    all.extend_from_slice(args);
    let r = cli::run(home, env, &all);
    let s = super::cli::secrets();
    r.assert_no_secret(&s.iter().map(String::as_str).collect::<Vec<_>>());
    r
}

#[test]
fn cli_history_text_json_png_and_errors() {
    let home = seeded();
    let st = home.path().join("state-dir");
    let before = super::cli::tree(&st);

    let r = history_cmd(home.path(), &[], &[]);
    r.expect_code(0);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("alice@example.com 5h ") && l.ends_with("30% left")),
        "{}",
        r.stdout
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("bob@example.com ") && l.contains("week")),
        "{}",
        r.stdout
    );

    let r = history_cmd(
        home.path(),
        &[],
        &["--profile", "bob@example.com", "--days", "1"],
    );
    r.expect_code(0);
    assert!(!r.stdout.contains("alice"), "{}", r.stdout);

    let r = history_cmd(
        home.path(),
        &[],
        &["--profile", "alice@example.com", "--days", "1", "--json"],
    );
    r.expect_code(0);
    let doc = r.json();
    let series = doc["series"].as_array().unwrap();
    assert_eq!(series.len(), 2, "{doc:#}");
    assert_eq!(series[0]["profile"], ALICE);
    assert_eq!(series[0]["window"], "5h");
    assert_eq!(
        series[0]["points"].as_array().unwrap().len(),
        36,
        "the 3-day-old row is out"
    );
    assert!(
        series[0]["points"][0]["at"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    assert!(series[0]["forecast"]["to"].is_string(), "{doc:#}");

    let file = home.path().join("chart.png");
    let r = history_cmd(home.path(), &[], &["--png", file.to_str().unwrap()]);
    r.expect_code(0);
    assert!(r.stdout.contains("written to"), "{}", r.stdout);
    let (w, h, _) = decode(&std::fs::read(&file).unwrap());
    assert_eq!((w, h), (1200, 600));
    let nowhere = home.path().join("missing-dir").join("chart.png");
    let r = history_cmd(home.path(), &[], &["--png", nowhere.to_str().unwrap()]);
    r.expect_code(1);
    assert!(r.stderr.contains("could not write"), "{}", r.stderr);

    let r = history_cmd(home.path(), &[], &["--days", "31"]);
    r.expect_code(2);
    assert!(r.stderr.contains("30 days"), "{}", r.stderr);
    let r = history_cmd(
        home.path(),
        &[("CODEX_PROFILER_HISTORY_DAYS", "40")],
        &["--days", "31"],
    );
    r.expect_code(0);
    history_cmd(home.path(), &[], &["--profile", "nobody"]).expect_code(3);

    // The plain `usage` still parses its own flags, and not together with `history`.
    let r = cli::run(
        home.path(),
        &[],
        &["usage", "--profile", "alice@example.com", "history"],
    );
    r.expect_code(2);
    assert_eq!(
        super::cli::tree(&st),
        before,
        "the gateway's files are untouched"
    );
}

#[test]
fn cli_history_without_history_is_a_sentence_or_a_png_error() {
    let home = tempfile::tempdir().unwrap();
    let st = home.path().join("state-dir");
    super::cli::state_db(&st);
    let r = history_cmd(home.path(), &[], &[]);
    r.expect_code(0);
    assert!(r.stdout.starts_with("No usage history yet"), "{}", r.stdout);
    let file = home.path().join("none.png");
    let r = history_cmd(home.path(), &[], &["--png", file.to_str().unwrap()]);
    r.expect_code(1);
    assert!(r.stderr.contains("nothing to draw"), "{}", r.stderr);
    assert!(!file.exists());
    assert!(
        !st.join("codex-profiler").join("history.sqlite").exists(),
        "not created by a read"
    );
}

#[test]
fn the_forecast_is_drawn_past_the_history() {
    let since = NOW - 12 * HOUR;
    let now = NOW - 15 * MIN;
    let hs = vec![history("p", "p", burning("p", 12, 3.0))];
    let with = chart::series::build(&hs, since, now);
    assert!(with.iter().all(|s| s.forecast.is_some()), "{with:#?}");
    // The same time axis (it reaches the forecast's end), the dashed line left out: a
    // forecast starting before the span is not drawn.
    let without: Vec<Series> = with
        .iter()
        .cloned()
        .map(|mut s| {
            if let Some(f) = s.forecast.as_mut() {
                f.from_ms = since - 1;
            }
            s
        })
        .collect();
    let mut o = opts(since, 900, 500);
    o.now_ms = now;
    let count = |series: &[Series], i: usize| {
        let (_, _, px) = decode(&chart::png(series, &o).unwrap());
        px.iter().filter(|p| **p == chart::colour(i)).count()
    };
    for i in 0..with.len() {
        let (a, b) = (count(&with, i), count(&without, i));
        assert!(
            a > b,
            "series {i}: {a} pixels with the forecast, {b} without"
        );
    }
}

#[test]
fn a_legend_too_long_for_the_image_still_draws() {
    let hs: Vec<ProfileHistory> = (0..40)
        .map(|p| {
            let id = format!("openai:p{p}@example.com");
            history(&id, &format!("p{p}@example.com"), burning(&id, 6, 1.0))
        })
        .collect();
    let series = chart::series::build(&hs, NOW - DAY, NOW);
    assert_eq!(series.len(), 80);
    let bytes = chart::png(&series, &opts(NOW - DAY, 800, 300)).unwrap();
    assert_eq!(decode(&bytes).0, 800);
    assert_eq!(ChartOptions::height_for(80), 80 * 16 + 80);
}
