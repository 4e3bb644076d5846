//! Duplicate suppression: the same user making the same request (command and resolved
//! argument, or the same button) while it runs or within 20 s after gets no second run. The
//! map is pruned of expired entries at most once a second and capped (the oldest evicted
//! in one batch when it is full), so a flood of distinct requests cannot grow it without
//! bound, and a burst of 1,000 chats does not scan it 1,000 times.

use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};

use dashmap::DashMap;

use crate::chat::transport::UserId;

/// How long a finished request still counts as a duplicate.
pub const WINDOW: Duration = Duration::from_secs(20);
/// The most entries kept; beyond it the oldest finished ones go first.
pub const CAPACITY: usize = 4096;
/// How often expired entries are swept out (each sweep visits every entry).
const SWEEP_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Start, then finish time.
    at: Instant,
    running: bool,
}

/// Recent requests per user.
#[derive(Debug)]
pub struct Dedupe {
    map: DashMap<(UserId, String), Entry>,
    window: Duration,
    capacity: usize,
    /// When expired entries were last swept out.
    swept: std::sync::Mutex<Option<Instant>>,
}

impl Default for Dedupe {
    fn default() -> Self {
        Dedupe::new(WINDOW, CAPACITY)
    }
}

/// Marks a request finished when dropped (also on early returns and panics). It owns its
/// handle on the map so a device login's spawned task can hold it until the login ends.
#[derive(Debug)]
pub struct Guard {
    owner: Arc<Dedupe>,
    key: (UserId, String),
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.owner.finish(&self.key, Instant::now());
    }
}

impl Dedupe {
    /// A suppressor with a custom window and capacity (tests use short ones).
    pub fn new(window: Duration, capacity: usize) -> Dedupe {
        Dedupe {
            map: DashMap::new(),
            window,
            capacity: capacity.max(1),
            swept: std::sync::Mutex::new(None),
        }
    }

    /// Start `request` for `user` at `now`, unless it duplicates a recent one. The request
    /// counts as running until the guard is dropped.
    pub fn begin(self: &Arc<Self>, user: UserId, request: &str, now: Instant) -> Option<Guard> {
        self.prune(now);
        let key = (user, request.to_owned());
        let mut fresh = false;
        self.map
            .entry(key.clone())
            .and_modify(|e| {
                if !e.running && now.saturating_duration_since(e.at) >= self.window {
                    *e = Entry {
                        at: now,
                        running: true,
                    };
                    fresh = true;
                }
            })
            .or_insert_with(|| {
                fresh = true;
                Entry {
                    at: now,
                    running: true,
                }
            });
        fresh.then(|| Guard {
            owner: Arc::clone(self),
            key,
        })
    }

    /// Like [`Dedupe::begin`] at the current time.
    pub fn begin_now(self: &Arc<Self>, user: UserId, request: &str) -> Option<Guard> {
        self.begin(user, request, Instant::now())
    }

    fn finish(&self, key: &(UserId, String), now: Instant) {
        if let Some(mut e) = self.map.get_mut(key) {
            *e = Entry {
                at: now,
                running: false,
            };
        }
    }

    /// Drop finished entries older than the window (at most once per [`SWEEP_EVERY`], or
    /// when full); if still full, drop the oldest quarter in one go: finished ones first, and
    /// as a last resort the oldest running ones (a request that hangs must not pin memory).
    /// An expired entry left until the next sweep is harmless: [`Dedupe::begin`] treats it
    /// as fresh.
    fn prune(&self, now: Instant) {
        let full = self.map.len() >= self.capacity;
        {
            let mut swept = self.swept.lock().unwrap_or_else(PoisonError::into_inner);
            let due = swept.is_none_or(|at| now.saturating_duration_since(at) >= SWEEP_EVERY);
            if !(due || full) {
                return;
            }
            *swept = Some(now);
        }
        self.map
            .retain(|_, e| e.running || now.saturating_duration_since(e.at) < self.window);
        if self.map.len() < self.capacity {
            return;
        }
        let mut oldest: Vec<((UserId, String), (bool, Instant))> = self
            .map
            .iter()
            .map(|e| (e.key().clone(), (e.value().running, e.value().at)))
            .collect();
        oldest.sort_unstable_by_key(|(_, order)| *order);
        let keep = self.capacity - self.capacity.div_ceil(4);
        let excess = oldest.len().saturating_sub(keep);
        for (key, _) in oldest.into_iter().take(excess) {
            self.map.remove(&key);
        }
    }

    /// How many requests are remembered.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const U: UserId = UserId(1);

    #[test]
    fn suppresses_while_running_and_for_the_window_after() {
        let d = Arc::new(Dedupe::default());
        let t0 = Instant::now();
        let g = d.begin(U, "usage:all", t0).expect("first run");
        assert!(
            d.begin(U, "usage:all", t0 + Duration::from_secs(60))
                .is_none(),
            "running"
        );
        // Another user, or another request, is not a duplicate.
        assert!(d.begin(UserId(2), "usage:all", t0).is_some());
        assert!(d.begin(U, "usage:default", t0).is_some());
        drop(g);
        let done = Instant::now();
        assert!(
            d.begin(U, "usage:all", done + Duration::from_secs(19))
                .is_none()
        );
        assert!(
            d.begin(U, "usage:all", done + Duration::from_secs(21))
                .is_some()
        );
    }

    #[test]
    fn stays_bounded() {
        let d = Arc::new(Dedupe::new(Duration::from_secs(20), 100));
        let t0 = Instant::now();
        for i in 0..1000 {
            drop(d.begin(U, &format!("r{i}"), t0));
        }
        assert!(d.len() <= 100, "{}", d.len());
        // Expired entries are pruned on the next insert.
        drop(d.begin(U, "late", t0 + Duration::from_secs(3600)));
        assert_eq!(d.len(), 1);
    }

    #[test]
    fn an_expired_entry_not_yet_swept_is_no_duplicate_and_a_full_map_sheds_a_quarter() {
        let d = Arc::new(Dedupe::new(Duration::from_millis(1), 100));
        drop(d.begin(U, "usage:all", Instant::now()));
        std::thread::sleep(Duration::from_millis(5));
        // Within a second of the last sweep nothing is swept, yet the expired entry is no
        // duplicate.
        let again = d.begin(U, "usage:all", Instant::now());
        assert!(again.is_some());
        assert_eq!(d.len(), 1);
        // A full map: the oldest quarter goes at once, the newest entries stay.
        let t = Instant::now();
        let running: Vec<Guard> = (0..99)
            .filter_map(|i| d.begin(UserId(i + 10), "usage:all", t))
            .collect();
        assert_eq!(d.len(), 100);
        let newest = d.begin(UserId(7), "usage:all", t);
        assert!(newest.is_some());
        assert!(d.len() <= 76, "{}", d.len());
        assert!(
            d.begin(UserId(7), "usage:all", t).is_none(),
            "the newest entry is still there"
        );
        drop((again, running, newest));
    }
}
