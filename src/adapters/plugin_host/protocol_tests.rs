//! The protocol's edges: malformed lines, oversize, unknown fields and types, ids, secrets.

use super::*;
use crate::chat::transport::Button;

const FROM: &str = r#""channel":"telegram","sender":"42","chat":"42","is_owner":true,"private":true,"buttons":true"#;

fn line(body: &str) -> Vec<u8> {
    format!("{{{body}}}").into_bytes()
}

#[test]
fn a_command_parses_and_unknown_fields_are_ignored() {
    let got = parse(&line(&format!(
        r#""type":"command","id":"e1",{FROM},"text":"/codex_usage all","future":{{"x":1}},"is_bot":false"#
    )))
    .unwrap();
    let Inbound::Command { id, from, text } = got else {
        panic!("{got:?}")
    };
    assert_eq!((id.as_str(), text.as_str()), ("e1", "/codex_usage all"));
    assert_eq!(from.user, UserId(42));
    assert_eq!(from.chat, ChatId(42));
    assert!(from.is_owner && from.authorized && from.private && from.buttons);
}

#[test]
fn a_tap_and_a_paste_parse_and_a_pasted_url_stays_secret() {
    let tap = parse(&line(&format!(
        r#""type":"tap","id":"t1",{FROM},"data":"codex_auth_usage:all","message":77"#
    )))
    .unwrap();
    assert!(
        matches!(tap, Inbound::Tap { message: 77, ref data, .. } if data == "codex_auth_usage:all")
    );
    let url = "http://localhost:1455/auth/callback?code=SECRETCODE&state=abc";
    let paste = parse(&line(&format!(
        r#""type":"paste","id":"p1",{FROM},"url":"{url}""#
    )))
    .unwrap();
    let Inbound::Paste { url: got, .. } = &paste else {
        panic!()
    };
    assert_eq!(got.expose_secret(), url);
    assert!(!format!("{paste:?}").contains("SECRETCODE"));
}

#[test]
fn malformed_lines_are_errors_that_never_quote_the_line() {
    for bad in [
        &b"not json"[..],
        b"[1,2]",
        b"{}",
        br#"{"type":5}"#,
        br#"{"type":"command","id":"e1"}"#,
        br#"{"type":"tap","id":"t","channel":"telegram","sender":"1","chat":"1","data":"x","message":"SECRETCODE"}"#,
        br#"{"type":"command","id":"e","channel":"telegram","sender":"1","chat":"1","text":7}"#,
        b"\xff\xfe",
    ] {
        let err = parse(bad).unwrap_err();
        assert_eq!(err.code(), "malformed", "{bad:?}");
        assert!(!err.to_string().contains("SECRETCODE"), "{err}");
    }
    let err = parse(br#"{"type":"launch","id":"x"}"#).unwrap_err();
    assert_eq!(err.code(), "unknown_type");
}

#[test]
fn ids_are_bounded_and_required() {
    let long = "x".repeat(MAX_ID_BYTES + 1);
    for body in [
        format!(r#""type":"command","id":"{long}",{FROM},"text":"/help""#),
        format!(r#""type":"command","id":"",{FROM},"text":"/help""#),
    ] {
        assert_eq!(parse(&line(&body)).unwrap_err().code(), "malformed");
    }
    assert_eq!(id_of(&line(&format!(r#""id":"{long}""#))), None);
    assert_eq!(
        id_of(br#"{"id":"e9","type":"what"}"#).as_deref(),
        Some("e9")
    );
    assert_eq!(id_of(b"garbage"), None);
}

#[test]
fn an_oversize_line_is_refused_before_parsing() {
    let text = "a".repeat(MAX_LINE_BYTES);
    let body = format!(r#""type":"command","id":"e1",{FROM},"text":"{text}""#);
    assert_eq!(parse(&line(&body)), Err(LineError::Oversize));
}

#[test]
fn hello_carries_the_version_both_ways() {
    assert_eq!(
        parse(br#"{"type":"hello","protocol":1,"plugin":"0.1.0"}"#),
        Ok(Inbound::Hello { protocol: 1 })
    );
    let out: Value = serde_json::from_str(&Outbound::Hello.to_line()).unwrap();
    assert_eq!(out["type"], "hello");
    assert_eq!(out["protocol"], PROTOCOL);
    let mismatch = Outbound::Error {
        event: None,
        error: &LineError::ProtocolMismatch(2),
    };
    let out: Value = serde_json::from_str(&mismatch.to_line()).unwrap();
    assert_eq!(out["code"], "protocol_mismatch");
}

#[test]
fn authorized_defaults_to_true_and_owner_to_false() {
    let got = parse(br#"{"type":"command","id":"e","channel":"telegram","sender":"1","chat":"-100","text":"/help"}"#)
        .unwrap();
    let Inbound::Command { from, .. } = got else {
        panic!()
    };
    assert!(from.authorized && !from.is_owner && !from.private && !from.buttons);
    assert_eq!(from.chat, ChatId(-100));
}

#[test]
fn ids_of_other_channels_are_stable_hashes_apart_per_channel() {
    assert_eq!(user_id("telegram", "42"), UserId(42));
    assert_ne!(user_id("discord", "42"), UserId(42));
    assert_eq!(user_id("slack", "U1ABC"), user_id("slack", "U1ABC"));
    assert_ne!(user_id("slack", "U1ABC"), user_id("discord", "U1ABC"));
    assert!(chat_id("slack", "C123").0 > 0);
    assert_eq!(chat_id("telegram", "telegram:-5"), ChatId(-5));
}

#[test]
fn operations_carry_the_event_and_buttons_as_rows() {
    let kb = vec![vec![Button {
        label: "all".into(),
        data: "codex_auth_usage:all".into(),
    }]];
    let send = Outbound::Send {
        event: "e1",
        reference: -3,
        text: "hi",
        buttons: Some(&kb),
    };
    let v: Value = serde_json::from_str(&send.to_line()).unwrap();
    assert_eq!(v["type"], "send");
    assert_eq!(v["event"], "e1");
    assert_eq!(v["ref"], -3);
    assert_eq!(v["buttons"][0][0]["data"], "codex_auth_usage:all");
    assert_eq!(v["buttons"][0][0]["text"], "all");
    let edit = Outbound::Edit {
        event: "e1",
        reference: 5,
        text: "x\ny",
        buttons: None,
    };
    let line = edit.to_line();
    assert!(!line.contains('\n'), "one line per message");
    let v: Value = serde_json::from_str(&line).unwrap();
    assert!(v["buttons"].is_null());
}
