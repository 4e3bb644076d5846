//! A plugin stand-in: spawns the real binary's `plugin-host`, writes event lines, and reads
//! its output lines with a deadline (a reader thread, so a silent host fails the test instead
//! of hanging it).

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::cli::command;

/// How long one expected line may take.
pub const WAIT: Duration = Duration::from_secs(20);

/// A running `plugin-host`.
pub struct Host {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    /// Every stdout line seen so far.
    pub seen: Vec<String>,
    stderr: mpsc::Receiver<String>,
}

impl Host {
    /// Spawn `plugin-host` under `home` with `env`.
    pub fn spawn(home: &Path, env: &[(&str, &str)]) -> Host {
        let mut c = command(home);
        c.arg("plugin-host")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            c.env(k, v);
        }
        let mut child = c.spawn().expect("spawn plugin-host");
        let stdin = child.stdin.take();
        let (tx, lines) = mpsc::channel();
        let out = child.stdout.take().expect("stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let (etx, stderr) = mpsc::channel();
        let err = child.stderr.take().expect("stderr");
        std::thread::spawn(move || {
            let mut all = String::new();
            let _ = std::io::Read::read_to_string(&mut BufReader::new(err), &mut all);
            let _ = etx.send(all);
        });
        Host {
            child,
            stdin,
            lines,
            seen: Vec::new(),
            stderr,
        }
    }

    /// Write one raw line.
    pub fn raw(&mut self, line: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(line).unwrap();
        stdin.write_all(b"\n").unwrap();
        stdin.flush().unwrap();
    }

    /// Write one JSON line.
    pub fn send(&mut self, v: &Value) {
        self.raw(v.to_string().as_bytes());
    }

    /// The next line, parsed (every stdout line must be JSON: stdout is protocol only).
    pub fn next(&mut self) -> Value {
        let line = self
            .lines
            .recv_timeout(WAIT)
            .unwrap_or_else(|_| panic!("no line from the host; so far: {:#?}", self.seen));
        self.seen.push(line.clone());
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON on stdout: {line} ({e})"))
    }

    /// Lines up to and including `done` for `event` (other events' lines are kept too).
    pub fn until_done(&mut self, event: &str) -> Vec<Value> {
        let deadline = Instant::now() + WAIT;
        let mut out = Vec::new();
        while Instant::now() < deadline {
            let v = self.next();
            let last = v["type"] == "done" && v["event"] == event;
            out.push(v);
            if last {
                return out;
            }
        }
        panic!("no done for {event}: {out:#?}")
    }

    /// Close stdin and wait: exit code, and everything on stderr.
    pub fn close(mut self) -> (i32, Vec<String>, String) {
        drop(self.stdin.take());
        let deadline = Instant::now() + WAIT;
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(Instant::now() < deadline, "host did not exit at EOF");
            std::thread::sleep(Duration::from_millis(20));
        };
        while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(200)) {
            self.seen.push(line);
        }
        let stderr = self.stderr.recv_timeout(WAIT).unwrap_or_default();
        (status.code().unwrap_or(-1), self.seen, stderr)
    }
}

/// The sender fields of an event from Telegram user `user` in their private chat.
pub fn from(user: u64, owner: bool) -> Value {
    json!({
        "channel": "telegram", "sender": user.to_string(), "chat": user.to_string(),
        "is_owner": owner, "authorized": true, "private": true, "buttons": true,
    })
}

/// A command event.
pub fn command_event(id: &str, who: &Value, text: &str) -> Value {
    let mut v = who.clone();
    v["type"] = "command".into();
    v["id"] = id.into();
    v["text"] = text.into();
    v
}

/// A tap event on message `message`.
pub fn tap_event(id: &str, who: &Value, data: &str, message: i64) -> Value {
    let mut v = who.clone();
    v["type"] = "tap".into();
    v["id"] = id.into();
    v["data"] = data.into();
    v["message"] = message.into();
    v
}

/// The lines of `kind` among `lines`.
pub fn of<'a>(lines: &'a [Value], kind: &str) -> Vec<&'a Value> {
    lines.iter().filter(|v| v["type"] == kind).collect()
}
