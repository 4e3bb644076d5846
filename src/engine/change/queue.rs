//! Queued apply: after a change, restart the gateway in the background so it picks the change
//! up. Requests from any number of processes coalesce: `<state>/codex-profiler/apply.json`
//! holds `idle|queued|running` (guarded by `apply.lock`, an `flock`); a request while one is
//! queued is absorbed, a request while one runs queues at most one more run. The restart runs
//! in a detached worker (the binary re-invoked with a hidden subcommand) so it survives the
//! CLI exiting; its outcome (times, exit code, last output lines with secrets scrubbed) is
//! recorded for `doctor`.

use std::fs::{self, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::error::ChangeError;
use super::files::{FileLock, now_ms, own_dir, write_private_atomic};
use crate::engine::health::iso_ms;

/// The hidden subcommand the worker runs as (`codex-profiler __apply-worker`).
pub const WORKER_SUBCOMMAND: &str = "__apply-worker";
/// The variable naming the restart command.
pub const RESTART_CMD_ENV: &str = "CODEX_PROFILER_GATEWAY_RESTART_CMD";
/// The restart command when the variable is unset.
pub const DEFAULT_RESTART_CMD: &str = "openclaw gateway restart";
/// How long a worker waits before starting, so a burst of requests becomes one restart.
const DEBOUNCE: Duration = Duration::from_millis(300);
/// A restart that takes longer than this is killed and recorded as failed.
const RESTART_TIMEOUT: Duration = Duration::from_secs(300);
/// How many output lines the record keeps.
const TAIL_LINES: usize = 20;

/// Where the queue stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Nothing to do.
    #[default]
    Idle,
    /// A restart will start shortly.
    Queued,
    /// A restart is running.
    Running,
}

/// One finished restart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyRun {
    /// The command run (`sh -c`).
    pub command: String,
    /// RFC 3339 start.
    pub started_at: String,
    /// RFC 3339 end.
    pub finished_at: String,
    /// Exit code; `None` when killed (timeout or signal).
    pub exit_code: Option<i32>,
    /// Whether it exited 0.
    pub ok: bool,
    /// Its last output lines (stdout and stderr interleaved), secrets removed.
    pub output_tail: Vec<String>,
}

/// The content of `apply.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyState {
    /// Where the queue stands.
    pub state: Phase,
    /// While running: whether one more run is queued behind it.
    #[serde(default)]
    pub pending: bool,
    /// The worker process, while queued or running.
    #[serde(default)]
    pub worker_pid: Option<u32>,
    /// Requests ever made.
    #[serde(default)]
    pub requests: u64,
    /// Requests absorbed into a queued run.
    #[serde(default)]
    pub coalesced: u64,
    /// Restarts ever started.
    #[serde(default)]
    pub runs: u64,
    /// The last finished restart.
    #[serde(default)]
    pub last: Option<ApplyRun>,
    /// RFC 3339 time of the last update.
    #[serde(default)]
    pub updated_at: Option<String>,
}

/// What became of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueOutcome {
    /// A new restart was queued and its worker started.
    Started,
    /// A restart is running; one more was queued behind it.
    QueuedBehindRunning,
    /// A restart was already queued: this request is covered by it.
    Coalesced,
}

/// How requests start workers; [`QueueConfig::from_env`] is what the binary uses.
#[derive(Debug, Clone)]
pub struct QueueConfig {
    /// The executable that understands [`WORKER_SUBCOMMAND`].
    pub worker_exe: PathBuf,
    /// The restart command, run with `sh -c`.
    pub restart_cmd: String,
}

impl QueueConfig {
    /// This executable, and the restart command from `CODEX_PROFILER_GATEWAY_RESTART_CMD`.
    pub fn from_env() -> Result<QueueConfig, ChangeError> {
        let worker_exe = std::env::current_exe()
            .map_err(|e| ChangeError::io("find", "current executable", e))?;
        Ok(QueueConfig {
            worker_exe,
            restart_cmd: restart_cmd_from_env(),
        })
    }
}

/// The restart command: the variable when set and not blank, else the default.
pub fn restart_cmd_from_env() -> String {
    std::env::var(RESTART_CMD_ENV)
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_RESTART_CMD.to_owned())
}

fn state_path(dir: &Path) -> PathBuf {
    dir.join("apply.json")
}

fn lock_path(dir: &Path) -> PathBuf {
    dir.join("apply.lock")
}

/// Read `apply.json`; `None` when no apply was ever queued.
pub fn read_state(state_dir: &Path) -> Result<Option<ApplyState>, ChangeError> {
    let path = state_path(&state_dir.join("codex-profiler"));
    read_state_file(&path)
}

fn read_state_file(path: &Path) -> Result<Option<ApplyState>, ChangeError> {
    match fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| ChangeError::BadFile {
                kind: "queued-apply record",
                path: path.to_path_buf(),
                reason: e.to_string(),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ChangeError::io("read", path, e)),
    }
}

fn write_state(path: &Path, st: &mut ApplyState) -> Result<(), ChangeError> {
    st.updated_at = iso_ms(now_ms());
    let bytes = serde_json::to_vec_pretty(st).map_err(|e| ChangeError::BadFile {
        kind: "queued-apply record",
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    write_private_atomic(path, &bytes)
}

/// Whether the worker `st` names still runs: the process exists and, where `/proc` tells,
/// is our worker (a pid reused by another program after a reboot or a kill does not count).
pub fn worker_alive(st: &ApplyState) -> bool {
    st.worker_pid.is_some_and(|pid| {
        pid_alive(pid)
            && match std::fs::read(format!("/proc/{pid}/cmdline")) {
                Ok(cmdline) => cmdline
                    .split(|b| *b == 0)
                    .any(|arg| arg == WORKER_SUBCOMMAND.as_bytes()),
                // No /proc (or not ours to read): trust the signal check.
                Err(_) => true,
            }
    })
}

fn pid_alive(pid: u32) -> bool {
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks that the process exists; nothing is sent.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Ask for a gateway restart, with the binary's own configuration. For the login path and
/// every `--queue-apply`.
pub fn queue_apply(state_dir: &Path) -> Result<QueueOutcome, ChangeError> {
    queue_apply_with(state_dir, &QueueConfig::from_env()?)
}

/// Ask for a gateway restart, starting workers as `cfg` says.
pub fn queue_apply_with(state_dir: &Path, cfg: &QueueConfig) -> Result<QueueOutcome, ChangeError> {
    let dir = own_dir(state_dir)?;
    let _lock = FileLock::acquire(&lock_path(&dir))?;
    let path = state_path(&dir);
    let mut st = read_state_file(&path)?.unwrap_or_default();
    st.requests += 1;
    // A worker that died (machine reboot, kill -9) must not block the queue forever.
    let worker_alive = worker_alive(&st);
    if st.state != Phase::Idle && !worker_alive {
        st.state = Phase::Idle;
        st.pending = false;
    }
    let outcome = match st.state {
        Phase::Queued => {
            st.coalesced += 1;
            QueueOutcome::Coalesced
        }
        Phase::Running if st.pending => {
            st.coalesced += 1;
            QueueOutcome::Coalesced
        }
        Phase::Running => {
            st.pending = true;
            QueueOutcome::QueuedBehindRunning
        }
        Phase::Idle => {
            // Spawn under the lock: the worker's first step takes it, so it sees `queued`.
            let pid = spawn_worker(state_dir, cfg)?;
            st.state = Phase::Queued;
            st.pending = false;
            st.worker_pid = Some(pid);
            QueueOutcome::Started
        }
    };
    write_state(&path, &mut st)?;
    Ok(outcome)
}

fn spawn_worker(state_dir: &Path, cfg: &QueueConfig) -> Result<u32, ChangeError> {
    let mut cmd = Command::new(&cfg.worker_exe);
    crate::secret::without_secret_env(&mut cmd)
        .arg("--state-dir")
        .arg(state_dir)
        .arg(WORKER_SUBCOMMAND)
        .env(RESTART_CMD_ENV, &cfg.restart_cmd)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // Its own process group: a Ctrl-C on the CLI must not kill the restart.
        .process_group(0);
    let mut child = cmd
        .spawn()
        .map_err(|e| ChangeError::io("run", &cfg.worker_exe, e))?;
    let pid = child.id();
    // Reap it when it ends, so a long-lived caller (the bot) keeps no zombie; a CLI that exits
    // first simply hands the worker to init.
    std::thread::spawn(move || {
        let _ = child.wait();
    });
    Ok(pid)
}

/// The worker: run queued restarts until none is pending, recording each. Called by the
/// hidden subcommand, in its own process.
pub fn run_worker(state_dir: &Path) -> Result<(), ChangeError> {
    let dir = own_dir(state_dir)?;
    let path = state_path(&dir);
    let restart_cmd = restart_cmd_from_env();
    loop {
        std::thread::sleep(DEBOUNCE);
        {
            let _lock = FileLock::acquire(&lock_path(&dir))?;
            let mut st = read_state_file(&path)?.unwrap_or_default();
            if st.state != Phase::Queued {
                return Ok(());
            }
            st.state = Phase::Running;
            st.pending = false;
            st.worker_pid = Some(std::process::id());
            st.runs += 1;
            write_state(&path, &mut st)?;
        }
        let run = run_restart(&dir, state_dir, &restart_cmd);
        let _lock = FileLock::acquire(&lock_path(&dir))?;
        let mut st = read_state_file(&path)?.unwrap_or_default();
        st.last = Some(run);
        if st.pending {
            st.pending = false;
            st.state = Phase::Queued;
            write_state(&path, &mut st)?;
        } else {
            st.state = Phase::Idle;
            st.worker_pid = None;
            write_state(&path, &mut st)?;
            return Ok(());
        }
    }
}

/// Run the restart command once, output to `apply.log`, and summarise it.
fn run_restart(dir: &Path, state_dir: &Path, command: &str) -> ApplyRun {
    let started = now_ms();
    let log_path = dir.join("apply.log");
    let result = (|| -> std::io::Result<Option<i32>> {
        let log = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&log_path)?;
        let mut child = crate::secret::without_secret_env(&mut Command::new("sh"))
            .arg("-c")
            .arg(command)
            .env("OPENCLAW_STATE_DIR", state_dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        let deadline = Instant::now() + RESTART_TIMEOUT;
        loop {
            if let Some(status) = child.try_wait()? {
                return Ok(status.code());
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Ok(None);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    })();
    let (exit_code, mut tail) = match result {
        Ok(code) => (code, Vec::new()),
        Err(e) => (
            None,
            vec![format!("could not run the restart command: {e}")],
        ),
    };
    if let Ok(bytes) = fs::read(&log_path) {
        let text = String::from_utf8_lossy(&bytes);
        let lines: Vec<&str> = text.lines().collect();
        let from = lines.len().saturating_sub(TAIL_LINES);
        tail.extend(lines[from..].iter().map(|l| crate::secret::scrub(l, &[])));
    }
    // The raw output may hold anything the command printed: only the scrubbed tail is kept.
    let _ = fs::remove_file(&log_path);
    ApplyRun {
        command: crate::secret::scrub(command, &[]),
        started_at: iso_ms(started).unwrap_or_default(),
        finished_at: iso_ms(now_ms()).unwrap_or_default(),
        exit_code,
        ok: exit_code == Some(0),
        output_tail: tail,
    }
}
