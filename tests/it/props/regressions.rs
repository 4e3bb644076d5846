//! Plain regression tests for what the properties found, one per defect, each failing on the
//! code as it was found.

use codex_profiler::engine::profile::ProfileId;
use codex_profiler::engine::store::Change;
use codex_profiler::engine::usage::parse::parse;
use codex_profiler::engine::usage::report::render_text;
use rusqlite::Connection;
use serde_json::json;

use crate::support::fixtures::{Fixture, oauth_profile};

/// An unknown float field must survive a write digit for digit: serde_json's default float
/// parser may be off by one unit in the last place, and a retire then wrote
/// `918065.9863966376` back into `usageStats` where the gateway had stored
/// `918065.9863966377`.
#[test]
fn a_write_keeps_unknown_floats_to_the_last_digit() {
    let fx = Fixture::new();
    let alice = oauth_profile(
        "openai",
        "a@example.com",
        "acc-1",
        "plus",
        1_796_170_000_000,
    );
    let bob = oauth_profile(
        "openai",
        "b@example.com",
        "acc-2",
        "plus",
        1_796_170_000_000,
    );
    let store = json!({"version": 1, "profiles": {"openai:a@example.com": alice, "openai:b@example.com": bob}});
    let state = json!({"version": 1,
        "order": {"openai": ["openai:a@example.com", "openai:b@example.com"]},
        "usageStats": {"openai:a@example.com": {"x": [{"": 918_065.986_396_637_7}]}}});
    fx.state_db(&store, Some(&state));
    let s = crate::store::open_auto(&fx.state_dir());
    let id = ProfileId::parse("openai:b@example.com").unwrap();
    s.apply(&Change::Retire { id }).unwrap();
    let conn = Connection::open(fx.state_db_path()).unwrap();
    let cell: String = conn
        .query_row(
            "SELECT value_json FROM config_machine_state WHERE state_key = 'authProfiles.state'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(cell.contains("918065.9863966377"), "{cell}");
}

/// Words of a usage reply (the plan, limit names) went into the report lines raw: a plan of
/// `plus\e[2J\n9 checked: 9 usable` cleared a terminal reading the JSON's
/// `suggested_user_message` and forged a summary line in a chat.
#[test]
fn usage_words_cannot_colour_or_split_a_report_line() {
    let body = json!({
        "plan_type": "plus\u{1b}[2J\n9 checked: 9 usable\u{7f}",
        "additional_rate_limits": [{"limit_name": "gpt\u{202e}x", "rate_limit": {"primary_window": {"used_percent": 5}}}],
    });
    let u = parse(body.to_string().as_bytes(), 1_800_000_000).unwrap();
    let text = render_text(&super::answered(u), false);
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(
        !text
            .chars()
            .any(|c| c.is_control() && c != '\n' || c == '\u{202e}'),
        "{text:?}"
    );
    assert!(text.contains("plus\\u{1b}[2J\\n9 checked"), "{text}");
}

/// A window length under a second (`0.5`) counted as given and positive, and was reported as
/// `limit_window_seconds: 0` with the label `1h`.
#[test]
fn a_sub_second_window_length_is_unknown_not_zero() {
    let body =
        json!({"rate_limit": {"primary_window": {"used_percent": 5, "limit_window_seconds": 0.5}}});
    let u = parse(body.to_string().as_bytes(), 1_800_000_000).unwrap();
    let w = &u.windows[0];
    assert_eq!(w.limit_window_seconds, None);
    assert_eq!(w.label, "limit");
}

/// Found by `props::plugin_lines`: a message of 4096 control characters (each escaped to six
/// bytes) with a full keyboard made a host line of over 50 KiB, past the 32 KiB the protocol
/// promises both ways. Such a line is now an `oversize` error for its event, and the send fails.
#[test]
fn a_host_line_never_exceeds_the_protocol_bound() {
    use super::plugin_lines::Sink;
    use codex_profiler::adapters::plugin_host::protocol::{MAX_LINE_BYTES, Outbound};
    use codex_profiler::adapters::plugin_host::transport::{MAX_MESSAGE_LEN, Output};
    use codex_profiler::chat::transport::Button;

    let sink = Sink::default();
    let out = Output::new(Box::new(sink.clone()));
    let text = "\u{1}".repeat(MAX_MESSAGE_LEN);
    let button = Button {
        label: "\u{1}".repeat(64),
        data: "d".repeat(64),
    };
    let keyboard = vec![vec![button; 8]; 8];
    let sent = out.line(&Outbound::Send {
        event: "e1",
        reference: -1,
        text: &text,
        buttons: Some(&keyboard),
    });
    let written = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
    assert!(
        written.len() <= MAX_LINE_BYTES + 1,
        "{} bytes",
        written.len()
    );
    let v: serde_json::Value = serde_json::from_str(written.trim_end()).unwrap();
    assert_eq!(
        (v["type"].as_str(), v["code"].as_str()),
        (Some("error"), Some("oversize"))
    );
    assert_eq!(v["event"], "e1");
    assert!(sent.is_err());
    // A line within the bound goes out as it is.
    sink.0.lock().unwrap().clear();
    let ok = out.line(&Outbound::Done { event: "e1" });
    assert!(ok.is_ok());
    assert_eq!(
        String::from_utf8(sink.0.lock().unwrap().clone()).unwrap(),
        "{\"type\":\"done\",\"event\":\"e1\"}\n"
    );
}

/// What [`scaled_cases_probe`] prints once, with the number of cases it ran.
const PROBE_MARK: &str = "scaled_cases_probe ran";

/// Found by the long round of `props::plugin_stream`: `PROPTEST_CASES=20000` was meant to run
/// 312 real-host streams (`config_scaled(64)`) and ran 20,000 (hours; it looked stalled),
/// because the `proptest!` macro re-reads `PROPTEST_CASES` into the config it is given
/// (proptest's `contextualize_config`), undoing the division; the store properties ran N, not
/// N / 4, the same way. Runs the probe in a child of this test binary under
/// `PROPTEST_CASES=640` and counts what it ran: 10 cases.
#[test]
fn a_scaled_property_runs_its_share_of_proptest_cases() {
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe)
        .args([
            "props::regressions::scaled_cases_probe",
            "--exact",
            "--nocapture",
        ])
        .env("PROPTEST_CASES", "640")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ran: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with(PROBE_MARK))
        .collect();
    assert_eq!(ran, [format!("{PROBE_MARK} 10 cases")], "{stdout}");
}

/// Cases [`scaled_cases_probe`] ran.
static PROBE_RAN: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// A property scaled by 64 that counts its cases, for the test above (in the suite it just
/// runs its short round).
#[test]
fn scaled_cases_probe() {
    super::check_scaled(64, proptest::prelude::any::<u8>(), |_| {
        PROBE_RAN.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    });
    let ran = PROBE_RAN.load(std::sync::atomic::Ordering::SeqCst);
    println!("{PROBE_MARK} {ran} cases");
}
