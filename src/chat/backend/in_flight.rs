//! [`InFlight`]: requests that ask the same thing at the same time share one run. When many
//! chats ask for the same usage check at once (a group tapping the same button, a burst after
//! an outage), each used to start its own: 1,000 chats x 50 profiles was 50,000 requests to
//! the usage endpoint for 50 tokens, and 1,000 history appends of the same figures, each
//! reading back the rows the others had just written (`benches/chat`). Now the first request
//! runs and the others wait for its answer. Nothing is kept after the run: a request that comes
//! after it has finished starts a fresh one, so an answer is never older than the request.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::OnceCell;

/// The runs in flight, by what they ask (the key names every input that changes the answer).
pub(super) struct InFlight<V> {
    calls: Mutex<HashMap<String, Arc<OnceCell<V>>>>,
}

impl<V> Default for InFlight<V> {
    fn default() -> Self {
        InFlight {
            calls: Mutex::new(HashMap::new()),
        }
    }
}

impl<V: Clone> InFlight<V> {
    /// The answer of the run for `key` in flight, else of `work` run now. If the request
    /// running `work` is dropped, one of those waiting runs it instead.
    pub(super) async fn run<F: Future<Output = V>>(
        &self,
        key: String,
        work: impl FnOnce() -> F,
    ) -> V {
        let cell = {
            let mut calls = self.calls.lock().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(calls.entry(key.clone()).or_default())
        };
        let value = cell.get_or_init(work).await.clone();
        // The first waiter to get here forgets the run; later requests start afresh.
        let mut calls = self.calls.lock().unwrap_or_else(PoisonError::into_inner);
        if calls.get(&key).is_some_and(|c| Arc::ptr_eq(c, &cell)) {
            calls.remove(&key);
        }
        value
    }

    /// How many runs are in flight (tests).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    async fn counted(runs: &AtomicUsize, answer: u32) -> u32 {
        runs.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(50)).await;
        answer
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_same_request_at_once_runs_once_and_nothing_stays() {
        let flights = Arc::new(InFlight::default());
        let runs = Arc::new(AtomicUsize::new(0));
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..300u32 {
            let (flights, runs) = (flights.clone(), runs.clone());
            // Two different requests among them.
            let key = if i % 3 == 0 { "usage:a" } else { "usage:a,b" };
            tasks.spawn(async move {
                let answer = if i % 3 == 0 { 1 } else { 2 };
                let got = flights.run(key.to_owned(), || counted(&runs, answer)).await;
                assert_eq!(got, answer);
            });
        }
        while let Some(r) = tasks.join_next().await {
            r.unwrap();
        }
        assert_eq!(
            runs.load(Ordering::SeqCst),
            2,
            "one run per distinct request"
        );
        assert_eq!(flights.len(), 0, "finished runs are forgotten");
        // A request after the run finished gets a fresh run, not the old answer.
        let got = flights.run("usage:a".into(), || counted(&runs, 7)).await;
        assert_eq!((got, runs.load(Ordering::SeqCst)), (7, 3));
    }

    #[tokio::test]
    async fn a_dropped_runner_hands_the_run_to_a_waiter() {
        let flights = Arc::new(InFlight::default());
        let runs = Arc::new(AtomicUsize::new(0));
        let first = {
            let (flights, runs) = (flights.clone(), runs.clone());
            tokio::spawn(async move {
                flights
                    .run("k".into(), || async {
                        runs.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_secs(60)).await;
                        0
                    })
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        let second = {
            let (flights, runs) = (flights.clone(), runs.clone());
            tokio::spawn(async move { flights.run("k".into(), || counted(&runs, 5)).await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        first.abort();
        assert_eq!(second.await.unwrap(), 5);
        assert_eq!(runs.load(Ordering::SeqCst), 2);
        assert_eq!(flights.len(), 0);
    }
}
