//! [`Fresh`]: a value read on a blocking thread and shared while it is fresh, one read in
//! flight at a time. Every chat request asks which agents the state directory holds (for the
//! `Agent …` header) before it says anything; a thousand chats at once each listing the
//! directory on its own blocking thread grew the runtime's blocking pool to ~70 threads (their
//! stacks and malloc arenas stayed resident) and delayed every progress message behind that
//! thread churn (`benches/chat`). Reading once a second and sharing the answer costs nothing;
//! an agent added or removed changes the folder's modification time, which is read again at
//! once (a `stat`, no thread).

use std::time::{Duration, Instant};

use crate::chat::backend::{BackendError, BackendResult};

/// A value reloaded at most once per `ttl`, and whenever its source's stamp (a folder's
/// modification time) changed; concurrent askers wait for the one read.
pub(super) struct Fresh<T, S = ()> {
    ttl: Duration,
    slot: tokio::sync::Mutex<Option<(Instant, S, T)>>,
}

impl<T: Clone + Send + 'static, S: PartialEq> Fresh<T, S> {
    /// An empty cache whose reads serve for `ttl`.
    pub(super) fn new(ttl: Duration) -> Fresh<T, S> {
        Fresh {
            ttl,
            slot: tokio::sync::Mutex::new(None),
        }
    }

    /// The cached value while fresh and read at the same `stamp`, else `load` run off the
    /// async threads (a failed load is not kept: the next request tries again).
    pub(super) async fn get(
        &self,
        stamp: S,
        load: impl FnOnce() -> BackendResult<T> + Send + 'static,
    ) -> BackendResult<T> {
        let mut slot = self.slot.lock().await;
        if let Some((at, seen, value)) = slot.as_ref() {
            if at.elapsed() < self.ttl && *seen == stamp {
                return Ok(value.clone());
            }
        }
        let value = tokio::task::spawn_blocking(load)
            .await
            .unwrap_or_else(|_| {
                Err(BackendError::runtime(
                    "internal",
                    "reading the state directory failed unexpectedly",
                ))
            })?;
        *slot = Some((Instant::now(), stamp, value.clone()));
        Ok(value)
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
}
