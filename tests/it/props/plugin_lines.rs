//! Plugin protocol lines (`docs/PLUGIN.md`), in-process: any line (hostile text, random bytes,
//! arbitrary JSON, JSON nested far past serde's limit, lines within and beyond the 32 KiB
//! bound, valid events with junk fields and hostile values) never panics the parser; a line
//! refused becomes exactly one `error` line; a valid event with unknown fields parses as
//! without them; and what the host writes (`Output::line`) is always one JSON object on one
//! line within the bound. The real `plugin-host` process fed a generated stream is
//! `plugin_stream.rs`.

use std::io::Write;
use std::sync::{Arc, Mutex};

use codex_profiler::adapters::plugin_host::protocol::{
    Inbound, LineError, MAX_ID_BYTES, MAX_LINE_BYTES, Outbound, Sender, chat_id, id_of, parse,
    user_id,
};
use codex_profiler::adapters::plugin_host::transport::{MAX_MESSAGE_LEN, Output};
use codex_profiler::chat::transport::{Button, Keyboard};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

use super::config;
use super::strategies::{code, hostile_text, json_object_with, json_value};

/// Every key the protocol reads, so generated objects hit them often.
pub const KEYS: &[&str] = &[
    "type",
    "id",
    "channel",
    "sender",
    "chat",
    "is_owner",
    "authorized",
    "private",
    "buttons",
    "text",
    "data",
    "message",
    "url",
    "protocol",
];

/// An id the protocol takes: hostile text of 1 to [`MAX_ID_BYTES`] bytes.
pub fn id() -> impl Strategy<Value = String> {
    prop_oneof![
        hostile_text().prop_filter("1 to 128 bytes", |s| !s.is_empty()
            && s.len() <= MAX_ID_BYTES),
        "[0-9]{1,12}",
        "-[0-9]{1,12}",
        Just("x".repeat(MAX_ID_BYTES)),
    ]
}

/// A well-formed event with hostile values, as a JSON object with exactly the fields it
/// carries (optional booleans sometimes left out), and the parse it must give.
pub fn event() -> impl Strategy<Value = (Map<String, Value>, Inbound)> {
    let sender = (
        (
            id(),
            prop::sample::select(vec!["telegram", "discord", "x"]),
            id(),
            id(),
        ),
        prop::array::uniform4(prop::option::of(any::<bool>())),
    );
    let kind = prop_oneof![
        hostile_text().prop_map(|t| (0u8, t, 0i64)),
        (hostile_text(), any::<i64>()).prop_map(|(d, m)| (1u8, d, m)),
        code().prop_map(|c| (
            2u8,
            format!("http://localhost:1455/auth/callback?code={c}&state=s"),
            0
        )),
    ];
    (sender, kind).prop_map(
        |(((id, channel, sender, chat), flags), (k, text, message))| {
            let mut o = Map::new();
            let t = ["command", "tap", "paste"][usize::from(k)];
            o.insert("type".into(), json!(t));
            o.insert("id".into(), json!(id));
            o.insert("channel".into(), json!(channel));
            o.insert("sender".into(), json!(sender));
            o.insert("chat".into(), json!(chat));
            let names = ["is_owner", "authorized", "private", "buttons"];
            for (name, v) in names.iter().zip(flags) {
                if let Some(v) = v {
                    o.insert((*name).into(), json!(v));
                }
            }
            let from = Sender {
                user: user_id(channel, &sender),
                chat: chat_id(channel, &chat),
                is_owner: flags[0].unwrap_or(false),
                authorized: flags[1].unwrap_or(true),
                private: flags[2].unwrap_or(false),
                buttons: flags[3].unwrap_or(false),
            };
            let inbound = match k {
                0 => {
                    o.insert("text".into(), json!(text));
                    Inbound::Command { id, from, text }
                }
                1 => {
                    o.insert("data".into(), json!(text));
                    o.insert("message".into(), json!(message));
                    Inbound::Tap {
                        id,
                        from,
                        data: text,
                        message,
                    }
                }
                _ => {
                    o.insert("url".into(), json!(text));
                    Inbound::Paste {
                        id,
                        from,
                        url: text.into(),
                    }
                }
            };
            (o, inbound)
        },
    )
}

/// A field the protocol does not know: any key but its own, any value.
fn junk_field() -> impl Strategy<Value = (String, Value)> {
    (
        hostile_text().prop_filter("not a protocol key", |k| !KEYS.contains(&k.as_str())),
        json_value(),
    )
}

/// `[[[1]]]` or `{"a":{"a":1}}` nested `depth` levels (`1` at depth 0).
pub fn nested(depth: usize, object: bool) -> String {
    if object {
        format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth))
    } else {
        format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
    }
}

/// Any line a plugin (or anything else on the pipe) could write.
pub fn any_line() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => hostile_text().prop_map(String::into_bytes),
        2 => prop::collection::vec(any::<u8>(), 0..64),
        3 => json_object_with(KEYS, 3).prop_map(|v| v.to_string().into_bytes()),
        1 => json_value().prop_map(|v| v.to_string().into_bytes()),
        // A valid event with one field replaced by anything, or removed.
        3 => (event(), prop::sample::select(KEYS), prop::option::of(json_value())).prop_map(
            |((mut o, _), key, v)| {
                match v {
                    Some(v) => o.insert(key.to_owned(), v),
                    None => o.shift_remove(key),
                };
                Value::Object(o).to_string().into_bytes()
            }
        ),
        1 => (0usize..40_000, any::<bool>()).prop_map(|(d, o)| nested(d, o).into_bytes()),
        1 => (MAX_LINE_BYTES - 64..MAX_LINE_BYTES + 64)
            .prop_map(|n| format!("{{\"type\":\"hello\",\"pad\":\"{}\"}}", "p".repeat(n))
                .into_bytes()),
    ]
}

/// Checks one line the host wrote: a JSON object with a `type`, on one line, within the bound.
pub fn check_written(line: &str) -> Result<Value, TestCaseError> {
    prop_assert!(
        !line.contains('\n') && !line.contains('\r'),
        "a raw line break: {:?}",
        line
    );
    prop_assert!(line.len() <= MAX_LINE_BYTES, "{} bytes", line.len());
    let v: Value = serde_json::from_str(line)
        .map_err(|e| TestCaseError::fail(format!("not JSON ({e}): {line}")))?;
    prop_assert!(v.is_object() && v["type"].is_string(), "{}", line);
    Ok(v)
}

/// The line the host answers a refused line with.
fn error_line(line: &[u8], e: &LineError) -> String {
    let id = id_of(line);
    Outbound::Error {
        event: id.as_deref(),
        error: e,
    }
    .to_line()
}

/// What `Output` wrote, shared with the test.
#[derive(Clone, Default)]
pub struct Sink(pub Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Hostile text of at most `units` UTF-16 units (what the core's splitter sends at most).
fn message_text(units: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        1 => hostile_text(),
        // The longest text of the worst characters is what comes near the bound: a control
        // character is six bytes escaped.
        2 => Just("\u{1}".repeat(units)),
        2 => (
            prop::sample::select(vec!["\u{1}", "\"", "\\", "€", "𝕏", "\n", "a"]),
            prop_oneof![0..=units, Just(units)],
        )
            .prop_map(|(c, n)| c.repeat(n)),
    ]
    .prop_map(move |s| {
        let mut out = String::new();
        let mut n = 0;
        for c in s.chars() {
            n += c.len_utf16();
            if n > units {
                break;
            }
            out.push(c);
        }
        out
    })
}

fn keyboard() -> impl Strategy<Value = Option<Keyboard>> {
    let button = (message_text(64), "[ -~]{1,64}")
        .prop_map(|(label, data)| Button { label, data })
        .boxed();
    let rows = move |n: std::ops::Range<usize>| {
        prop::collection::vec(prop::collection::vec(button.clone(), n.clone()), n)
    };
    prop_oneof![
        Just(None),
        rows(0..10).prop_map(Some),
        // A full keyboard of long labels.
        rows(10..11).prop_map(Some),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn no_line_panics_the_parser_and_a_refused_one_is_one_error_line(line in any_line()) {
        let parsed = parse(&line);
        let _ = format!("{parsed:?}");
        if line.len() > MAX_LINE_BYTES {
            prop_assert_eq!(parsed.as_ref().err(), Some(&LineError::Oversize));
        }
        if let Err(e) = &parsed {
            let out = error_line(&line, e);
            let v = check_written(&out)?;
            prop_assert_eq!(v["type"].as_str(), Some("error"));
            prop_assert_eq!(v["code"].as_str(), Some(e.code()));
        }
    }

    #[test]
    fn json_nested_past_any_limit_is_refused_not_a_crash(
        depth in prop_oneof![0usize..200, 200usize..40_000],
        object in any::<bool>(),
        (ev, want) in event(),
    ) {
        // Nested in a field of a valid event: within serde's depth it is an unknown field.
        let mut o = ev;
        let base = Value::Object(o.clone()).to_string();
        o.insert("future".into(), Value::Null);
        let line = Value::Object(o).to_string()
            .replace("\"future\":null", &format!("\"future\":{}", nested(depth, object)));
        let got = parse(line.as_bytes());
        if line.len() > MAX_LINE_BYTES {
            prop_assert_eq!(got, Err(LineError::Oversize));
        } else if depth <= 100 {
            prop_assert_eq!(&got, &Ok(want));
            prop_assert_eq!(got, parse(base.as_bytes()));
        } else if depth >= 200 {
            prop_assert!(matches!(got, Err(LineError::Malformed(_))), "{:?}", got);
        }
    }

    #[test]
    fn a_valid_event_with_unknown_fields_parses_as_without_them(
        (ev, want) in event(),
        junk in prop::collection::vec((junk_field(), any::<prop::sample::Index>()), 0..6),
    ) {
        let base = Value::Object(ev.clone()).to_string();
        let got = parse(base.as_bytes());
        prop_assert_eq!(&got, &Ok(want));
        let mut fields: Vec<(String, Value)> = ev.into_iter().collect();
        for ((k, v), at) in junk {
            if fields.iter().all(|(f, _)| *f != k) {
                fields.insert(at.index(fields.len() + 1), (k, v));
            }
        }
        let with_junk = Value::Object(fields.into_iter().collect()).to_string();
        prop_assume!(with_junk.len() <= MAX_LINE_BYTES);
        let again = parse(with_junk.as_bytes());
        prop_assert_eq!(&again, &got);
        // A pasted URL is a secret from the parse on.
        if let Ok(Inbound::Paste { url, .. }) = &again {
            let code = url.expose_secret().split("code=").nth(1).unwrap_or_default().to_owned();
            let debug = format!("{again:?}");
            prop_assert!(!debug.contains(&code), "{}", debug);
        }
    }

    #[test]
    fn what_the_host_writes_is_one_bounded_json_object_a_line(
        event in id(),
        reference in any::<i64>(),
        text in message_text(MAX_MESSAGE_LEN),
        buttons in keyboard(),
        notice in prop::option::of(message_text(200)),
        kind in 0u8..5,
    ) {
        let sink = Sink::default();
        let out = Output::new(Box::new(sink.clone()));
        let e = LineError::Malformed(text.clone());
        let line = match kind {
            0 => Outbound::Send { event: &event, reference, text: &text, buttons: buttons.as_ref() },
            1 => Outbound::Edit { event: &event, reference, text: &text, buttons: buttons.as_ref() },
            2 => Outbound::Answer { event: &event, notice: notice.as_deref() },
            3 => Outbound::Delete { event: &event, reference },
            _ => Outbound::Error { event: Some(&event), error: &e },
        };
        let sent = out.line(&line);
        let written = String::from_utf8(sink.0.lock().unwrap().clone())
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(written.ends_with('\n'));
        let lines: Vec<&str> = written.trim_end_matches('\n').split('\n').collect();
        prop_assert_eq!(lines.len(), 1, "one write, one line");
        let v = check_written(lines[0])?;
        prop_assert_eq!(v["event"].as_str(), Some(event.as_str()));
        // Within the bound it is the line asked for; beyond it, an `oversize` error for the
        // event instead, and the caller is told.
        if sent.is_ok() {
            prop_assert_eq!(lines[0], line.to_line());
        } else {
            prop_assert_eq!(v["code"].as_str(), Some("oversize"));
        }
    }
}
