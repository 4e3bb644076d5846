//! [`Fresh`]: a value read on a blocking thread and shared while it is fresh, one read in
//! flight at a time. Every chat request asks which agents the state directory holds (for the
//! `Agent …` header) and reads the store (to resolve its selector) before it says anything; a
//! thousand chats at once each listing the directory on its own blocking thread grew the
//! runtime's blocking pool to ~70 threads and delayed every progress message behind that
//! thread churn (`benches/chat`). Reading once a second and sharing the answer costs nothing;
//! an agent added or removed changes the folder's modification time, which is read again at
//! once (a `stat`, no thread).
//!
//! A fresh value is taken under a plain lock held for a clone, never behind the asynchronous
//! lock that keeps reads one at a time: a fair async lock hands itself from waiter to waiter,
//! so 1,000 requests asking at once each waited a turn through the scheduler's queue.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::chat::backend::{BackendError, BackendResult};

/// A value reloaded at most once per `ttl`, whenever its source's stamp (a folder's
/// modification time) changed, and after [`Fresh::invalidate`]; concurrent askers of a stale
/// value wait for the one read.
pub(super) struct Fresh<T, S = ()> {
    ttl: Duration,
    /// The last value read: when, at which stamp, and in which generation.
    value: Mutex<Option<(Instant, S, u64, T)>>,
    /// Held while a read runs: one at a time.
    reading: tokio::sync::Mutex<()>,
    /// Moved on by every [`Fresh::invalidate`]: a read that began before is not kept.
    generation: AtomicU64,
}

impl<T: Clone + Send + 'static, S: PartialEq> Fresh<T, S> {
    /// An empty cache whose reads serve for `ttl`.
    pub(super) fn new(ttl: Duration) -> Fresh<T, S> {
        Fresh {
            ttl,
            value: Mutex::new(None),
            reading: tokio::sync::Mutex::new(()),
            generation: AtomicU64::new(0),
        }
    }

    /// The value, if it is fresh, of this generation and read at `stamp`.
    fn fresh(&self, stamp: &S) -> Option<T> {
        let generation = self.generation.load(Ordering::Acquire);
        let value = self.value.lock().unwrap_or_else(PoisonError::into_inner);
        value
            .as_ref()
            .filter(|(at, seen, g, _)| at.elapsed() < self.ttl && seen == stamp && *g == generation)
            .map(|(_, _, _, v)| v.clone())
    }

    /// The cached value while fresh and read at the same `stamp`, else `load` run off the
    /// async threads (a failed load is not kept: the next request tries again).
    pub(super) async fn get(
        &self,
        stamp: S,
        load: impl FnOnce() -> BackendResult<T> + Send + 'static,
    ) -> BackendResult<T> {
        if let Some(v) = self.fresh(&stamp) {
            return Ok(v);
        }
        let _reading = self.reading.lock().await;
        // Whoever held the lock before may have just read it.
        if let Some(v) = self.fresh(&stamp) {
            return Ok(v);
        }
        let generation = self.generation.load(Ordering::Acquire);
        let value = tokio::task::spawn_blocking(load)
            .await
            .unwrap_or_else(|_| {
                Err(BackendError::runtime(
                    "internal",
                    "reading the state directory failed unexpectedly",
                ))
            })?;
        let mut slot = self.value.lock().unwrap_or_else(PoisonError::into_inner);
        *slot = Some((Instant::now(), stamp, generation, value.clone()));
        Ok(value)
    }

    /// Forget the value: the next request reads afresh, and a read running now is not kept.
    pub(super) fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        *self.value.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn many_askers_share_one_read_while_fresh() {
        let cache: Arc<Fresh<Vec<String>>> = Arc::new(Fresh::new(Duration::from_secs(60)));
        let reads = Arc::new(AtomicUsize::new(0));
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..200 {
            let (cache, reads) = (cache.clone(), reads.clone());
            tasks.spawn(async move {
                cache
                    .get((), move || {
                        reads.fetch_add(1, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(20));
                        Ok(vec!["main".to_owned()])
                    })
                    .await
            });
        }
        while let Some(r) = tasks.join_next().await {
            assert_eq!(r.unwrap().unwrap(), ["main"]);
        }
        assert_eq!(reads.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_stale_or_failed_read_is_read_again() {
        let cache: Fresh<i32, u8> = Fresh::new(Duration::from_millis(30));
        let failed = cache.get(0, || Err(BackendError::runtime("x", "no"))).await;
        assert!(failed.is_err());
        assert_eq!(cache.get(0, || Ok(1)).await.unwrap(), 1);
        assert_eq!(
            cache.get(0, || Ok(2)).await.unwrap(),
            1,
            "fresh: not read again"
        );
        assert_eq!(
            cache.get(1, || Ok(4)).await.unwrap(),
            4,
            "the folder changed"
        );
        tokio::time::sleep(Duration::from_millis(40)).await;
        assert_eq!(cache.get(1, || Ok(3)).await.unwrap(), 3);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_read_that_began_before_an_invalidation_is_not_kept() {
        let cache: Arc<Fresh<i32>> = Arc::new(Fresh::new(Duration::from_secs(60)));
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let slow = {
            let cache = cache.clone();
            tokio::spawn(async move {
                cache
                    .get((), move || {
                        let _ = started_tx.send(());
                        std::thread::sleep(Duration::from_millis(100));
                        Ok(1)
                    })
                    .await
            })
        };
        tokio::task::spawn_blocking(move || started_rx.recv())
            .await
            .unwrap()
            .unwrap();
        // A change lands while the old read is still running.
        cache.invalidate();
        assert_eq!(slow.await.unwrap().unwrap(), 1, "its own caller gets it");
        assert_eq!(
            cache.get((), || Ok(2)).await.unwrap(),
            2,
            "the next request reads afresh, not the read from before the change"
        );
        assert_eq!(cache.get((), || Ok(3)).await.unwrap(), 2, "then it is kept");
        cache.invalidate();
        assert_eq!(cache.get((), || Ok(4)).await.unwrap(), 4);
    }
}
