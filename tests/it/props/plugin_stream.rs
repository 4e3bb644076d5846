//! The real `plugin-host` process fed a generated stream of lines after its `hello`: lines the
//! parser refuses (hostile text, random bytes, arbitrary and deeply nested JSON, lines over
//! the 32 KiB bound), blank lines, and valid events with junk fields (commands, taps, pastes
//! from senders who may change nothing). The host never dies: it ends at EOF with 0, no
//! panic; every refused line gets exactly one `error` line, every event exactly one `done`;
//! and everything on stdout is one JSON object a line within the bound. A short round (8
//! streams); the long round scales with `PROPTEST_CASES / 64`.

use std::io::{Read, Write};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use codex_profiler::adapters::plugin_host::protocol::{MAX_LINE_BYTES, parse};
use proptest::prelude::*;
use serde_json::{Value, json};

use super::check_scaled;
use super::plugin_lines::{any_line, check_written, event};
use super::strategies::{hostile_text, json_value};
use crate::support::cli::command;
use crate::support::fixtures::Fixture;

/// How long one stream may take before the host counts as hung.
const DEADLINE: Duration = Duration::from_secs(90);

/// One line of the stream.
#[derive(Debug, Clone)]
enum Item {
    /// A line the parser refuses (what comes back: one `error`).
    Refused(Vec<u8>),
    /// Whitespace only (skipped without an answer).
    Blank(Vec<u8>),
    /// A valid event (what comes back: one `done` for its id).
    Event(Value),
}

/// A refused line: `any_line()` without newlines (a line is what ends at one) and only what
/// the parser rejects, the way the host reads it (a trailing `\r` dropped).
fn refused() -> impl Strategy<Value = Item> {
    prop_oneof![
        8 => any_line(),
        1 => (MAX_LINE_BYTES + 1..4 * MAX_LINE_BYTES).prop_map(|n| vec![b'{'; n]),
    ]
    .prop_map(|mut l| {
        for b in &mut l {
            if *b == b'\n' {
                *b = b' ';
            }
        }
        l
    })
    .prop_filter("refused by the parser", |l| {
        let read = l.strip_suffix(b"\r").unwrap_or(l);
        !read.iter().all(u8::is_ascii_whitespace) && parse(read).is_err()
    })
    .prop_map(Item::Refused)
}

/// A valid event from a sender who is not the owner (so nothing is changed), with junk fields,
/// a command text the core answers at once.
fn valid() -> impl Strategy<Value = Item> {
    let text = prop_oneof![
        Just("/help".to_owned()),
        Just("/start".to_owned()),
        Just("/codex_nope".to_owned()),
        hostile_text().prop_map(|t| format!("hello {t}")),
    ];
    (event(), text, hostile_text(), json_value()).prop_map(|((mut o, _), text, key, junk)| {
        o.insert("is_owner".into(), json!(false));
        if o["type"] == "command" {
            o.insert("text".into(), json!(text));
        }
        if !super::plugin_lines::KEYS.contains(&key.as_str()) {
            o.insert(key, junk);
        }
        Item::Event(Value::Object(o))
    })
}

fn stream() -> impl Strategy<Value = Vec<Item>> {
    prop::collection::vec(
        prop_oneof![
            6 => refused(),
            1 => prop::sample::select(vec![&b""[..], b" ", b"\t", b"\r", b"  \t "])
                .prop_map(|b| Item::Blank(b.to_vec())),
            3 => valid(),
        ],
        1..80,
    )
    .prop_map(|mut items| {
        // Unique ids and senders: `done` is counted per id, and no sender is ever `busy`.
        for (i, item) in items.iter_mut().enumerate() {
            if let Item::Event(v) = item {
                v["id"] = json!(format!("ev{i}"));
                v["sender"] = json!(format!("{}", 9_000 + i));
            }
        }
        items
    })
}

/// Feed `items` to a fresh host: (exit code, stdout lines, stderr).
fn run_host(fx: &Fixture, items: &[Item]) -> (i32, Vec<String>, String) {
    let state = fx.state_dir();
    let mut child = command(fx.home())
        .arg("plugin-host")
        .env("OPENCLAW_STATE_DIR", &state)
        .env("CODEX_PROFILER_USAGE_URL", "http://127.0.0.1:9/usage")
        .env("CODEX_PROFILER_AUTH_ISSUER", "http://127.0.0.1:9")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn plugin-host");
    let mut stdin = child.stdin.take().expect("stdin");
    let mut input = b"{\"type\":\"hello\",\"protocol\":1}\n".to_vec();
    for item in items {
        match item {
            Item::Refused(l) | Item::Blank(l) => input.extend_from_slice(l),
            Item::Event(v) => input.extend_from_slice(v.to_string().as_bytes()),
        }
        input.push(b'\n');
    }
    // Writing, reading and waiting in threads: a hung host fails the test at the deadline.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let (tx, rx) = mpsc::channel();
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    std::thread::spawn(move || {
        let mut o = String::new();
        let _ = out.read_to_string(&mut o);
        let _ = tx.send(o);
    });
    let (etx, erx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut e = String::new();
        let _ = err.read_to_string(&mut e);
        let _ = etx.send(e);
    });
    let Ok(stdout) = rx.recv_timeout(DEADLINE) else {
        let _ = child.kill();
        panic!("plugin-host did not finish the stream within {DEADLINE:?}");
    };
    writer.join().expect("writer");
    let status = child.wait().expect("wait");
    let stderr = erx.recv_timeout(DEADLINE).unwrap_or_default();
    let lines = stdout.lines().map(str::to_owned).collect();
    (status.code().unwrap_or(-1), lines, stderr)
}

#[test]
fn the_real_host_survives_any_stream_and_answers_each_line_once() {
    check_scaled(64, stream(), |items| {
        let fx = Fixture::new();
        fx.state_db_from_example();
        let (code, lines, stderr) = run_host(&fx, &items);
        prop_assert_eq!(code, 0, "stderr: {}", stderr);
        prop_assert!(!stderr.contains("panicked"), "{}", stderr);
        let mut written = Vec::new();
        for l in &lines {
            written.push(check_written(l)?);
        }
        prop_assert_eq!(
            written.first().map(|v| v["type"].clone()),
            Some(json!("hello"))
        );
        let errors = written.iter().filter(|v| v["type"] == "error").count();
        let refused = items
            .iter()
            .filter(|i| matches!(i, Item::Refused(_)))
            .count();
        prop_assert_eq!(
            errors,
            refused,
            "one error line per refused line: {:#?}",
            written
        );
        for item in &items {
            if let Item::Event(v) = item {
                let done = written
                    .iter()
                    .filter(|w| w["type"] == "done" && w["event"] == v["id"])
                    .count();
                prop_assert_eq!(done, 1, "one done for {}", v);
            }
        }
        Ok(())
    });
}
