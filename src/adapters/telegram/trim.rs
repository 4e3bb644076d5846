//! Giving freed memory back after a burst. glibc's allocator keeps the pages a burst of
//! requests freed (a thousand replies, their JSON, their connections) wherever a longer-lived
//! allocation shares the region, so without help the bot's resident memory only ever climbs:
//! after 10,000 distinct users it held ~23 MB that was free (`benches/chat`, the figure
//! before and after `malloc_trim(0)`). So once a burst is over (requests were handled, then
//! none for [`QUIET`]) the free pages go back to the system (`malloc_trim(0)`, a few
//! milliseconds on a blocking thread), and under load that never pauses at most once per
//! [`BUSY_EVERY`]; an idle bot does nothing. Not during a burst: a trim takes the allocator's
//! locks and the pages it returns are faulted in again by the next replies, which put it in
//! the way of progress messages when it ran every second.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::dispatch::Activity;

/// How long no request may have been handled before a burst counts as over.
pub const QUIET: Duration = Duration::from_millis(100);

/// Under load that never pauses, the longest time between two trims.
pub const BUSY_EVERY: Duration = Duration::from_secs(10);

/// Trim once work was done (events handled, workers ended) and no event was handled for
/// [`QUIET`], or work was done and [`BUSY_EVERY`] passed since the last trim; runs until
/// aborted. Workers ending one by one after a burst do not count as a burst going on.
pub async fn run(activity: Arc<Activity>) {
    let total = |a: &Activity| {
        a.events
            .load(Ordering::Relaxed)
            .wrapping_add(a.ended.load(Ordering::Relaxed))
    };
    let mut trimmed_at = total(&activity);
    let mut last_events = activity.events.load(Ordering::Relaxed);
    let mut last_trim = tokio::time::Instant::now();
    let mut tick = tokio::time::interval(QUIET);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let events = activity.events.load(Ordering::Relaxed);
        let now = total(&activity);
        let quiet = events == last_events;
        last_events = events;
        if due(trimmed_at != now, quiet, last_trim.elapsed()) {
            trimmed_at = now;
            last_trim = tokio::time::Instant::now();
            let _ = tokio::task::spawn_blocking(release).await;
        }
    }
}

/// Whether to trim: work was done since the last trim, and either no event during the last
/// tick (`quiet`) or [`BUSY_EVERY`] passed (`since`).
fn due(worked: bool, quiet: bool, since: Duration) -> bool {
    worked && (quiet || since >= BUSY_EVERY)
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
    fn trims_once_a_burst_is_over_and_rarely_under_steady_load() {
        let s = Duration::from_millis(100);
        assert!(!due(false, true, s), "an idle bot does nothing");
        assert!(!due(true, false, s), "not while requests are still coming");
        assert!(due(true, true, s), "the burst is over (or workers ended)");
        assert!(
            !due(true, false, BUSY_EVERY - s),
            "load that never pauses: not yet"
        );
        assert!(due(true, false, BUSY_EVERY), "but at most every BUSY_EVERY");
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
