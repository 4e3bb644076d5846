//! The bots as child processes: the real `codex-profiler bot` (release binary) and the floor,
//! a bare teloxide reply bot run by this same bench binary (`floor-bot <api url>`), so each
//! bot's memory and CPU are its own and not the fakes'.

use std::path::Path;
use std::process::{Child, Command, Stdio};

use teloxide::prelude::*;

/// The argument that makes this bench binary run as the floor bot.
pub const FLOOR_ARG: &str = "floor-bot";

/// A bot running as a child process; killed when dropped.
pub struct BotProcess {
    child: Child,
}

/// Resident and peak memory of a process, KiB (`/proc/<pid>/status`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Memory {
    pub rss: u64,
    pub hwm: u64,
    pub threads: u64,
}

impl BotProcess {
    /// `codex-profiler bot` with exactly `env` (nothing inherited but `PATH`), in `home`.
    pub fn ours(env: &[(String, String)], home: &Path, extra: &[(String, String)]) -> BotProcess {
        // `BENCH_BOT`: another build to measure (an A/B of two builds in one session).
        let exe = std::env::var_os("BENCH_BOT")
            .unwrap_or_else(|| env!("CARGO_BIN_EXE_codex-profiler").into());
        let mut cmd = Command::new(exe);
        cmd.arg("bot");
        spawn(cmd, env, home, extra)
    }

    /// The floor bot: this binary as a bare teloxide `Dispatcher` replying `ok`.
    pub fn floor(api_url: &str, token: &str, home: &Path) -> BotProcess {
        let exe = std::env::current_exe().expect("bench binary path");
        let mut cmd = Command::new(exe);
        cmd.args([FLOOR_ARG, api_url, token]);
        spawn(cmd, &[], home, &[])
    }

    /// The child's memory now.
    pub fn memory(&self) -> Memory {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        let field = |name: &str| -> u64 {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .unwrap_or(0)
        };
        Memory {
            rss: field("VmRSS:"),
            hwm: field("VmHWM:"),
            threads: field("Threads:"),
        }
    }

    /// The child's `/proc/<pid>/smaps_rollup` (where the resident memory is: anon vs file).
    pub fn smaps_rollup(&self) -> String {
        std::fs::read_to_string(format!("/proc/{}/smaps_rollup", self.child.id()))
            .unwrap_or_default()
    }

    /// The child's process id (for `perf record -p`, `gdb -p`).
    /// CPU time the child used so far (user + system, from `/proc/<pid>/stat`).
    pub fn cpu(&self) -> std::time::Duration {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // Fields after the command name (which may hold spaces), from field 3 on.
        let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let f: Vec<u64> = rest
            .split_whitespace()
            .map(|v| v.parse().unwrap_or(0))
            .collect();
        let ticks = f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0);
        // SAFETY: sysconf takes no pointer.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
        std::time::Duration::from_millis(ticks * 1000 / hz)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Ask the child's glibc to give its free pages back (`malloc_trim(0)` through `gdb`),
    /// so the memory left is what is live, not what the allocator keeps. `false` when `gdb`
    /// is missing or failed (the figure is then not shown).
    pub fn malloc_trim(&self) -> bool {
        Command::new("gdb")
            .args(["-p", &self.child.id().to_string(), "-batch", "-nx"])
            .args(["-ex", "call (int) malloc_trim(0)", "-ex", "detach"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// True while the child has not exited (a crash is an error of the run).
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for BotProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(
    mut cmd: Command,
    env: &[(String, String)],
    home: &Path,
    extra: &[(String, String)],
) -> BotProcess {
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().chain(extra).map(|(k, v)| (k, v)))
        .current_dir(home)
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    // `BENCH_CHILD_LOG=<file>`: the child's stderr (its log, `RUST_LOG` passed on) goes there.
    match std::env::var("BENCH_CHILD_LOG")
        .ok()
        .and_then(|p| log_file(&p))
    {
        Some(file) => {
            cmd.stderr(file);
            if let Ok(filter) = std::env::var("RUST_LOG") {
                cmd.env("RUST_LOG", filter);
            }
        }
        None => {
            cmd.stderr(Stdio::null());
        }
    }
    BotProcess {
        child: cmd.spawn().expect("spawn bot child"),
    }
}

fn log_file(path: &str) -> Option<std::fs::File> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .ok()
}

/// Run as the floor bot (never returns while the bot runs; the parent kills it).
pub fn run_floor(api_url: &str, token: &str) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let bot = Bot::new(token).set_api_url(reqwest::Url::parse(api_url).expect("url"));
        let handler = Update::filter_message().endpoint(|bot: Bot, msg: Message| async move {
            bot.send_message(msg.chat.id, "ok").await?;
            respond(())
        });
        Dispatcher::builder(bot, handler).build().dispatch().await;
    });
}
