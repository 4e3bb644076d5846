//! Giving freed memory back after a burst. glibc's allocator keeps the pages a burst of
//! requests freed (a thousand replies, their JSON, their connections) wherever a longer-lived
//! allocation shares the region, so without help the bot's resident memory only ever climbs:
//! after 10,000 distinct users it held ~23 MB that was free (`benches/chat`, the figure
//! before and after `malloc_trim(0)`). Once a second, if any request was handled or a
//! worker ended since the last look, the free pages go back to the system (`malloc_trim(0)`, a few milliseconds
//! on a blocking thread); an idle bot does nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How often the counter of handled requests is looked at.
pub const EVERY: Duration = Duration::from_secs(1);

/// Trim after every [`EVERY`] in which `handled` (events handled, workers ended) moved;
/// runs until aborted.
pub async fn run(handled: Arc<AtomicU64>) {
    let mut seen = handled.load(Ordering::Relaxed);
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let now = handled.load(Ordering::Relaxed);
        if due(seen, now) {
            seen = now;
            let _ = tokio::task::spawn_blocking(release).await;
        }
    }
}

/// Whether requests were handled between two looks at the counter.
fn due(seen: u64, now: u64) -> bool {
    now != seen
}

/// Hand the allocator's free pages back to the system.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn release() {
    // SAFETY: `malloc_trim` takes no pointer and only walks glibc's own free lists, under
    // their locks; any thread may call it at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Other allocators give memory back on their own.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn release() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_only_after_work() {
        assert!(!due(5, 5), "an idle bot does nothing");
        assert!(due(5, 6));
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn freed_memory_goes_back_to_the_system() {
        fn rss_kib() -> u64 {
            std::fs::read_to_string("/proc/self/status")
                .unwrap()
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .unwrap()
        }
        // 32 MiB in small blocks, then all freed but the last: the free space sits below a
        // live block, so `free` cannot shrink the heap; only a trim hands it back.
        let mut blocks: Vec<Vec<u8>> = (0..32_768).map(|_| vec![1u8; 1024]).collect();
        let kept = blocks.pop();
        drop(blocks);
        let before = rss_kib();
        release();
        let after = rss_kib();
        assert!(kept.is_some_and(|b| b.len() == 1024));
        // Another test thread may allocate meanwhile: ask for a clear drop, not all of it.
        assert!(
            after + 8 * 1024 < before,
            "before {before} KiB, after {after} KiB"
        );
    }
}
