//! The process list while the flows run: a thread that every few milliseconds reads
//! `/proc/*/cmdline` and `/proc/*/environ` of every process of this run.
//!
//! A process is of this run when its environment carries this run's marker variable (the
//! sweep sets it on every process it starts; a worker handed to init after its parent exited
//! still has it), or when its parent is a process of this run (checked while the parent
//! lives: a child whose environment the binary cleared). Other tests' processes in the same
//! test binary are not of this run. Each distinct (cmdline, environ)
//! a process showed is kept, with whether the test started it itself: what the test itself
//! put on a command line or in an environment is the test's doing, what the binary puts on
//! its children's is the binary's.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The marker variable set on every process the sweep starts.
pub const MARKER: &str = "CODEX_PROFILER_SWEEP_RUN";

/// What one process showed at one sample.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Seen {
    /// Its pid.
    pub pid: u32,
    /// Whether this test process is its parent (the test wrote its argv and environment).
    pub direct: bool,
    /// argv, NUL-separated as in `/proc`.
    pub cmdline: Vec<u8>,
    /// The environment, NUL-separated as in `/proc`.
    pub environ: Vec<u8>,
}

/// A running sampler.
pub struct Sampler {
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<HashSet<Seen>>>,
    samples: Arc<Mutex<u64>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

fn ppid(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) state ppid ...`; comm may hold spaces and parentheses.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

fn pids() -> Vec<u32> {
    std::fs::read_dir("/proc")
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

fn has_marker(environ: &[u8], marker: &str) -> bool {
    environ.split(|b| *b == 0).any(|v| v == marker.as_bytes())
}

impl Sampler {
    /// Start sampling every `every`; `marker` is `MARKER=<nonce>` as set on the children.
    pub fn start(marker: String, every: Duration) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(HashSet::new()));
        let samples = Arc::new(Mutex::new(0));
        let me = std::process::id();
        let thread = {
            let (stop, seen, samples) = (stop.clone(), seen.clone(), samples.clone());
            std::thread::spawn(move || {
                // pid -> (ours, direct); decided once per pid (a pid is not reused this fast).
                let mut known: HashMap<u32, (bool, bool)> = HashMap::new();
                let mut ours_set: HashSet<u32> = HashSet::new();
                while !stop.load(Ordering::SeqCst) {
                    let now = pids();
                    let alive: HashSet<u32> = now.iter().copied().collect();
                    known.retain(|p, _| alive.contains(p));
                    ours_set.retain(|p| alive.contains(p));
                    for pid in now {
                        if pid == me {
                            continue;
                        }
                        let (ours, direct) = *known.entry(pid).or_insert_with(|| {
                            let parent = ppid(pid);
                            let direct = parent == Some(me);
                            let by_parent = parent.is_some_and(|p| ours_set.contains(&p));
                            let by_marker = || {
                                std::fs::read(format!("/proc/{pid}/environ"))
                                    .is_ok_and(|e| has_marker(&e, &marker))
                            };
                            (by_parent || by_marker(), direct)
                        });
                        if !ours {
                            continue;
                        }
                        ours_set.insert(pid);
                        let read = |f: &str| std::fs::read(format!("/proc/{pid}/{f}"));
                        let (Ok(cmdline), Ok(environ)) = (read("cmdline"), read("environ")) else {
                            continue;
                        };
                        seen.lock().unwrap().insert(Seen {
                            pid,
                            direct,
                            cmdline,
                            environ,
                        });
                    }
                    *samples.lock().unwrap() += 1;
                    std::thread::sleep(every);
                }
            })
        };
        Sampler {
            stop,
            seen,
            samples,
            thread: Some(thread),
        }
    }

    /// Stop; every distinct view seen and the number of samples taken.
    pub fn finish(mut self) -> (Vec<Seen>, u64) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let seen = self.seen.lock().unwrap().iter().cloned().collect();
        let n = *self.samples.lock().unwrap();
        (seen, n)
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}
