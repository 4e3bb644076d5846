//! Run the real `codex-profiler` binary and check what it printed: exit code, stdout, stderr,
//! and that no secret substring appears anywhere in them.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// What one run printed.
#[derive(Debug)]
pub struct Run {
    /// Exit code (-1 if killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// stdout parsed as JSON, panicking with both streams shown if it is not.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// Panic unless the exit code is `code`.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "unexpected exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Panic if any of `secrets` occurs in stdout or stderr.
    #[track_caller]
    pub fn assert_no_secret(&self, secrets: &[&str]) -> &Self {
        assert_no_secret_in(&format!("{}\n{}", self.stdout, self.stderr), secrets);
        self
    }
}

/// Panic if any of `secrets` (ignoring ones shorter than 6 bytes) occurs in `text`.
#[track_caller]
pub fn assert_no_secret_in(text: &str, secrets: &[&str]) {
    for s in secrets {
        if s.len() >= 6 {
            assert!(
                !text.contains(s),
                "secret {:?}… leaked into output:\n{text}",
                &s[..6]
            );
        }
    }
}

/// The binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_codex-profiler")
}

/// A command for the binary with a clean environment: no variable of the user's
/// codex-profiler or OpenClaw setup leaks in, `HOME` points into `home`, logs at debug so
/// secret checks cover log lines too.
pub fn command(home: &Path) -> Command {
    let mut c = Command::new(bin());
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("RUST_LOG", "debug")
        .current_dir(home)
        .stdin(Stdio::null());
    c
}

/// Run the binary with `args` under `home` and extra environment `env`.
pub fn run(home: &Path, env: &[(&str, &str)], args: &[&str]) -> Run {
    let mut c = command(home);
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    finish(c.output().expect("run codex-profiler"))
}

/// Run with `stdin` fed to the process.
pub fn run_with_stdin(home: &Path, env: &[(&str, &str)], args: &[&str], stdin: &str) -> Run {
    let mut c = command(home);
    c.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        c.env(k, v);
    }
    let mut child = c.spawn().expect("spawn codex-profiler");
    if let Some(mut input) = child.stdin.take() {
        // A process that refuses to start (bad configuration) may exit before reading its
        // input: a broken pipe then is its answer, not a test failure.
        match input.write_all(stdin.as_bytes()) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => panic!("write stdin: {e}"),
            _ => {}
        }
    }
    finish(child.wait_with_output().expect("wait for codex-profiler"))
}

fn finish(o: Output) -> Run {
    Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}
