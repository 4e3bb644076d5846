//! The faults over the host's pipes: a slow engine in one chat while another chat's
//! request runs beside it (two gateways' worth of events on one stream), and a tap on a change
//! button from an allowlisted sender who is not the gateway's owner.

use std::time::Duration;

use serde_json::{Value, json};

use super::driver::{command_event, from, of, tap_event};
use super::host::{OWNER, Setup, setup_replying, spawn_with};
use crate::support::usage_server::{self, Reply};

const SLOW: Duration = Duration::from_secs(3);

/// Alice answers after [`SLOW`], Bob at once.
fn slow_alice() -> Setup {
    let full = Reply::Json(usage_server::full_payload());
    setup_replying(Reply::Delay(SLOW, Box::new(full)))
}

fn position(lines: &[Value], kind: &str, event: &str) -> usize {
    lines
        .iter()
        .position(|v| v["type"] == kind && v["event"] == event)
        .unwrap_or_else(|| panic!("no {kind} for {event}: {lines:#?}"))
}

#[test]
fn a_slow_chat_holds_up_neither_its_placeholder_nor_another_chat() {
    let s = slow_alice();
    let mut host = spawn_with(&s, "http://127.0.0.1:9");
    host.next();
    host.send(&json!({"type": "hello", "protocol": 1}));

    // Two chats of two channels, sent back to back on the one stream.
    let owner = from(OWNER, true);
    let mut other = from(4004, false);
    other["channel"] = "discord".into();
    other["chat"] = "channel:77".into();
    other["private"] = false.into();
    other["buttons"] = false.into();
    host.send(&command_event(
        "slow",
        &owner,
        "/codex_usage alice@example.com",
    ));
    host.send(&command_event(
        "fast",
        &other,
        "/codex_usage bob@example.com",
    ));
    let mut lines = host.until_done("fast");
    let fast_done = lines.len() - 1;
    assert!(
        !lines
            .iter()
            .any(|v| v["type"] == "done" && v["event"] == "slow"),
        "the slow request finished first: {lines:#?}"
    );
    // The slow one's progress came at once, before the other's result.
    assert!(position(&lines, "send", "slow") < fast_done, "{lines:#?}");
    lines.extend(host.until_done("slow"));
    let progress = of(&lines, "send")
        .into_iter()
        .find(|v| v["event"] == "slow")
        .unwrap()["ref"]
        .clone();
    for v in &lines {
        assert!(v["event"] == "slow" || v["event"] == "fast", "{v}");
        if v["type"] == "edit" && v["event"] == "slow" {
            assert_eq!(v["ref"], progress, "the slow result edits its own progress");
        }
    }
    let texts = |event: &str| -> String {
        lines
            .iter()
            .filter(|v| v["event"] == event)
            .filter_map(|v| v["text"].as_str())
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(
        texts("slow").contains("alice@") && !texts("slow").contains("bob@"),
        "{lines:#?}"
    );
    assert!(
        texts("fast").contains("bob@") && !texts("fast").contains("alice@"),
        "{lines:#?}"
    );

    // A tap on a change button from an allowlisted sender who is not an owner: refused in
    // the tap's one answer, before anything runs (nothing edited or sent).
    host.send(&command_event(
        "menu",
        &owner,
        "/codex_auth bob@example.com",
    ));
    let menu = host.until_done("menu");
    let retire = menu
        .iter()
        .filter_map(|v| v["buttons"].as_array())
        .flatten()
        .filter_map(Value::as_array)
        .flatten()
        .filter_map(|b| b["data"].as_str())
        .find(|d| d.starts_with("codex_auth_retire:"))
        .expect("a retire button")
        .to_owned();
    let friend = from(2002, false);
    host.send(&tap_event("tap", &friend, &retire, 900));
    let tapped = host.until_done("tap");
    let answers = of(&tapped, "answer");
    assert_eq!(answers.len(), 1, "{tapped:#?}");
    assert!(
        answers[0]["notice"].as_str().unwrap_or("").contains("2002"),
        "{tapped:#?}"
    );
    assert!(
        of(&tapped, "edit").is_empty() && of(&tapped, "send").is_empty(),
        "{tapped:#?}"
    );
    let (code, _, stderr) = host.close();
    assert_eq!(code, 0, "{stderr}");
}
