//! Usage lines for people name each reset in the operator's zone as well as relative
//! (issue 11 item 8), in a fixed zone and at a fixed instant; the JSON lines stay relative.

use serde_json::json;

use super::tests::answered_at;
use super::*;

/// 2027-01-15T08:00:00Z: 13:30 IST, 03:00 EST.
const NOW_S: i64 = 1_800_000_000;

fn zone(name: &str) -> Zone {
    Zone::named(name).unwrap()
}

fn shown(name: &str, now_s: i64) -> ShownAt {
    ShownAt {
        zone: zone(name),
        now_ms: now_s * 1000,
    }
}

fn two_windows(now_s: i64) -> ProfileResult {
    answered_at(
        json!({"plan_type": "plus", "rate_limit": {
            "primary_window": {"used_percent": 58, "limit_window_seconds": 18000, "reset_after_seconds": 7980},
            "secondary_window": {"used_percent": 12, "limit_window_seconds": 604800, "reset_after_seconds": 399_600}}}),
        now_s,
    )
}

#[test]
fn resets_are_absolute_in_the_zone_and_relative() {
    let r = two_windows(NOW_S);
    assert_eq!(
        line_shown(&r, "alice", &shown("Asia/Kolkata", NOW_S)),
        "alice · plus · 5h 42% left (resets 15:43 IST, in 2h 13m) · \
         week 88% left (resets Jan 20 04:30 IST, in 4d 15h)"
    );
    assert_eq!(
        line_shown(&r, "alice", &shown("America/New_York", NOW_S)),
        "alice · plus · 5h 42% left (resets 05:13 EST, in 2h 13m) · \
         week 88% left (resets Jan 19 18:00 EST, in 4d 15h)"
    );
    // The line scripts get (JSON `formatted_profiles`) keeps SPEC section 7's relative form.
    assert_eq!(
        line(&r),
        "alice@example.com · plus · 5h 42% left (resets 2h 13m) · week 88% left (resets 4d 15h)"
    );
}

#[test]
fn a_reset_across_the_dst_change_carries_the_new_offset() {
    // 2026-03-08T06:00:00Z is 01:00 EST; at 07:00 UTC the clocks in New York go forward.
    let before = 1_772_949_600;
    let r = answered_at(
        json!({"rate_limit": {"primary_window": {
            "used_percent": 10, "limit_window_seconds": 18000, "reset_at": before + 3 * 3600}}}),
        before,
    );
    let text = line_shown(&r, "a", &shown("America/New_York", before));
    assert!(
        text.contains("5h 90% left (resets 05:00 EDT, in 3h 0m)"),
        "{text}"
    );
}

#[test]
fn the_time_and_the_delay_always_agree_and_spend_resets_are_shown_too() {
    // A `reset_at` an hour off the delay (a skewed clock, a test server): the time shown is
    // now + the delay, so it never contradicts the relative part.
    let r = answered_at(
        json!({"rate_limit": null, "spend_control": {"individual_limit": {
            "limit": 50, "remaining": 37.5, "reset_after_seconds": 3600, "reset_at": NOW_S + 7200}}}),
        NOW_S,
    );
    let text = line_shown(&r, "a", &shown("Asia/Kolkata", NOW_S));
    assert!(
        text.contains("spend 37.5 of 50 left (resets 14:30 IST, in 1h 0m)"),
        "{text}"
    );
}

#[test]
fn the_text_report_and_the_chat_lines_use_the_zone_but_not_the_json() {
    let run = UsageRun {
        remote_endpoint: "http://127.0.0.1:9/usage".into(),
        profiles: vec![two_windows(NOW_S)],
        elapsed_ms: 1,
    };
    let at = shown("Asia/Kolkata", NOW_S);
    let text = render_text_shown(&run, false, &[], &at);
    assert!(text.contains("(resets 15:43 IST, in 2h 13m)"), "{text}");
    let lines = lines_shown(&run, &[], &at);
    assert!(
        lines[0].contains("(resets Jan 20 04:30 IST, in 4d 15h)"),
        "{lines:?}"
    );
    let doc = render_json(&run, &json!({}), false);
    let shown_json = doc.to_string();
    assert!(!shown_json.contains("IST"), "{shown_json}");
    assert!(shown_json.contains("(resets 2h 13m)"), "{shown_json}");
}
