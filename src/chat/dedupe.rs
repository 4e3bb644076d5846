//! Duplicate suppression: the same user making the same request (command and resolved
//! argument, or the same button) while it runs or within 20 s after gets no second run. The
//! map is pruned on every insert and capped, so a flood of distinct requests cannot grow it
//! without bound.

use std::sync::Arc;
use std::time::{Duration, Instant};

use dashmap::DashMap;

use crate::chat::transport::UserId;

/// How long a finished request still counts as a duplicate.
pub const WINDOW: Duration = Duration::from_secs(20);
/// The most entries kept; beyond it the oldest finished ones go first.
pub const CAPACITY: usize = 4096;

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

    /// Drop finished entries older than the window; if still over capacity, drop the oldest
    /// finished ones, and as a last resort the oldest running ones (a request that hangs must
    /// not pin memory).
    fn prune(&self, now: Instant) {
        self.map
            .retain(|_, e| e.running || now.saturating_duration_since(e.at) < self.window);
        while self.map.len() >= self.capacity {
            let oldest = self
                .map
                .iter()
                .min_by_key(|e| (e.value().running, e.value().at))
                .map(|e| e.key().clone());
            match oldest {
                Some(k) => {
                    self.map.remove(&k);
                }
                None => break,
            }
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
}
