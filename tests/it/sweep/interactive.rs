//! A child driven over its pipes: write lines, wait for text on stdout, then close stdin and
//! keep both streams whole for the scan. Used for `chat` and `plugin-host`.

use std::io::Write;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::telegram::process::drain;

/// A running child with both output streams captured.
pub struct Interactive {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
}

impl Interactive {
    /// Spawn `c` with piped streams.
    pub fn spawn(mut c: Command) -> Interactive {
        c.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().expect("spawn");
        let stdin = child.stdin.take();
        let stdout = drain(child.stdout.take().expect("stdout"));
        let stderr = drain(child.stderr.take().expect("stderr"));
        Interactive {
            child,
            stdin,
            stdout,
            stderr,
        }
    }

    /// Write one line.
    pub fn line(&mut self, text: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(text.as_bytes()).expect("write");
        stdin.write_all(b"\n").expect("write");
        stdin.flush().expect("flush");
    }

    /// stdout so far.
    pub fn out(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    /// Wait until stdout after byte `from` holds `needle`; returns stdout from `from` on.
    #[track_caller]
    pub fn wait_for(&self, from: usize, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let out = self.out();
            let tail = out.get(from..).unwrap_or_default();
            if tail.contains(needle) {
                return tail.to_owned();
            }
            if Instant::now() > deadline {
                // `SWEEP_DEBUG_DIR=D`: what the child printed, for a look (fake secrets only).
                if let Some(d) = std::env::var_os("SWEEP_DEBUG_DIR") {
                    let _ = std::fs::write(std::path::Path::new(&d).join("timed-out.txt"), &out);
                }
                panic!(
                    "timed out waiting for {needle:?} (stdout has {} bytes)",
                    out.len()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Close stdin, wait for the exit (at most `timeout`), return (code, stdout, stderr).
    pub fn close(mut self, timeout: Duration) -> (i32, String, String) {
        drop(self.stdin.take());
        let deadline = Instant::now() + timeout;
        let code = loop {
            if let Some(s) = self.child.try_wait().expect("wait") {
                break s.code().unwrap_or(-1);
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break -1;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        std::thread::sleep(Duration::from_millis(100));
        let out = self.stdout.lock().unwrap().clone();
        let err = self.stderr.lock().unwrap().clone();
        (code, out, err)
    }
}

impl Drop for Interactive {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
