//! The real `codex-profiler bot` as a child process pointed at the fake Bot API: started with
//! a clean environment, stopped with SIGTERM, its stderr (logs at debug) kept for secret checks.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::bot_api::{FakeBotApi, TOKEN};
use crate::support::cli;

/// A running bot process.
pub struct BotProcess {
    child: Child,
    stderr: Arc<Mutex<String>>,
    stdout: Arc<Mutex<String>>,
}

/// How it ended.
#[derive(Debug)]
pub struct Ended {
    /// Exit code (None: killed by a signal).
    pub code: Option<i32>,
    /// What it printed on stdout.
    pub stdout: String,
    /// What it logged on stderr.
    pub stderr: String,
}

/// Read `from` to its end on a thread of its own, into the returned buffer as it arrives.
pub fn drain(mut from: impl Read + Send + 'static) -> Arc<Mutex<String>> {
    let buf = Arc::new(Mutex::new(String::new()));
    let out = buf.clone();
    std::thread::spawn(move || {
        let mut chunk = [0u8; 4096];
        while let Ok(n) = from.read(&mut chunk) {
            if n == 0 {
                break;
            }
            out.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&chunk[..n]));
        }
    });
    buf
}

impl BotProcess {
    /// The process id (for its memory figures).
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Start `codex-profiler bot` under `home` against `api`, admin user 1, with `env` on top.
    pub fn start(home: &Path, api: &FakeBotApi, env: &[(&str, &str)]) -> BotProcess {
        BotProcess::start_at(home, &api.url, env)
    }

    /// The same against the Bot API at `api_url` (which may not be listening yet).
    pub fn start_at(home: &Path, api_url: &str, env: &[(&str, &str)]) -> BotProcess {
        let mut c = cli::command(home);
        c.arg("bot")
            .env("TELEGRAM_BOT_TOKEN", TOKEN)
            .env("TELEGRAM_API_URL", api_url)
            .env("CODEX_PROFILER_ADMINS", "1")
            .env("CODEX_PROFILER_POLL_TIMEOUT_SEC", "1")
            // No watcher unless a test asks for one: it would check usage on its own.
            .env("CODEX_PROFILER_WATCH_INTERVAL", "0")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            c.env(k, v);
        }
        let mut child = c.spawn().expect("spawn codex-profiler bot");
        let stderr = drain(child.stderr.take().expect("stderr"));
        let stdout = drain(child.stdout.take().expect("stdout"));
        BotProcess {
            child,
            stderr,
            stdout,
        }
    }

    /// Send SIGTERM and wait (at most `timeout`) for the exit.
    pub async fn terminate(self, timeout: Duration) -> Ended {
        let pid = libc::pid_t::try_from(self.child.id()).expect("pid");
        // SAFETY: plain kill(2) on our own child's pid.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
        self.wait_exit(timeout).await
    }

    /// Wait (at most `timeout`) for the process to exit on its own.
    pub async fn wait_exit(mut self, timeout: Duration) -> Ended {
        let deadline = Instant::now() + timeout;
        let status = loop {
            if let Some(s) = self.child.try_wait().expect("wait") {
                break s;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "bot did not exit in time; stderr:\n{}",
                    self.stderr.lock().unwrap()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        // Let the reader threads see EOF.
        tokio::time::sleep(Duration::from_millis(50)).await;
        Ended {
            code: status.code(),
            stdout: self.stdout.lock().unwrap().clone(),
            stderr: self.stderr.lock().unwrap().clone(),
        }
    }
}

impl Drop for BotProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
