//! Per-user order, cross-user concurrency for the host's events: each user with work queued
//! has one worker task running that user's jobs one after another (a tap is never handled
//! before the command that drew its menu), while other users' jobs run beside it. A worker
//! idle for [`IDLE`] ends and takes its queue with it; [`Sequencer::finish`] waits for the
//! work still queued when the input ends.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::mpsc;

use crate::chat::transport::{BoxFuture, UserId};

/// How long a user's worker waits for another job before it ends.
pub const IDLE: Duration = Duration::from_secs(30);

/// How many jobs one user may have waiting; more are refused (the caller answers them).
pub const MAX_QUEUED: usize = 32;

type Job = BoxFuture<'static, ()>;
type Queues = Arc<Mutex<HashMap<UserId, mpsc::Sender<Job>>>>;

/// The router from users to their workers.
pub struct Sequencer {
    queues: Queues,
    alive: Mutex<Option<mpsc::Sender<()>>>,
    gone: tokio::sync::Mutex<mpsc::Receiver<()>>,
}

impl Default for Sequencer {
    fn default() -> Self {
        let (tx, rx) = mpsc::channel(1);
        Sequencer {
            queues: Arc::default(),
            alive: Mutex::new(Some(tx)),
            gone: tokio::sync::Mutex::new(rx),
        }
    }
}

impl Sequencer {
    /// Queue `job` behind `user`'s earlier jobs; gives it back when that user has
    /// [`MAX_QUEUED`] waiting or the sequencer is finishing.
    pub fn push(&self, user: UserId, job: Job) -> Result<(), Job> {
        let mut queues = self.queues.lock().unwrap_or_else(PoisonError::into_inner);
        let job = match queues.get(&user) {
            Some(tx) => match tx.try_send(job) {
                Ok(()) => return Ok(()),
                Err(mpsc::error::TrySendError::Full(job)) => return Err(job),
                Err(mpsc::error::TrySendError::Closed(job)) => job,
            },
            None => job,
        };
        let alive = self
            .alive
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let Some(alive) = alive else { return Err(job) };
        let (tx, rx) = mpsc::channel(MAX_QUEUED);
        let _ = tx.try_send(job);
        queues.insert(user, tx);
        tokio::spawn(worker(user, rx, Arc::clone(&self.queues), alive));
        Ok(())
    }

    /// Take no more jobs and wait up to `grace` for the queued ones. True when all finished.
    pub async fn finish(&self, grace: Duration) -> bool {
        self.alive
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        // Workers end when idle; dropping the senders lets them end as soon as they drain.
        self.queues
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        let mut gone = self.gone.lock().await;
        tokio::time::timeout(grace, gone.recv()).await.is_ok()
    }
}

async fn worker(
    user: UserId,
    mut rx: mpsc::Receiver<Job>,
    queues: Queues,
    _alive: mpsc::Sender<()>,
) {
    loop {
        match tokio::time::timeout(IDLE, rx.recv()).await {
            Ok(Some(job)) => job.await,
            Ok(None) => return,
            Err(_) => {
                let mut map = queues.lock().unwrap_or_else(PoisonError::into_inner);
                // Jobs are pushed under this lock: one pushed while we timed out is in `rx`.
                if !rx.is_empty() {
                    continue;
                }
                map.remove(&user);
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn one_users_jobs_run_in_order_and_others_run_beside_them() {
        let seq = Sequencer::default();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (release, held) = tokio::sync::oneshot::channel::<()>();
        let l = Arc::clone(&log);
        // User 1's first job waits; user 2 must not wait behind it, user 1's second must.
        assert!(
            seq.push(
                UserId(1),
                Box::pin(async move {
                    let _ = held.await;
                    l.lock().unwrap().push("1a");
                })
            )
            .is_ok()
        );
        let l = Arc::clone(&log);
        assert!(
            seq.push(
                UserId(1),
                Box::pin(async move { l.lock().unwrap().push("1b") })
            )
            .is_ok()
        );
        let (tx2, rx2) = tokio::sync::oneshot::channel();
        let l = Arc::clone(&log);
        assert!(
            seq.push(
                UserId(2),
                Box::pin(async move {
                    l.lock().unwrap().push("2");
                    let _ = tx2.send(());
                })
            )
            .is_ok()
        );
        rx2.await.unwrap();
        assert_eq!(*log.lock().unwrap(), vec!["2"]);
        release.send(()).unwrap();
        assert!(seq.finish(Duration::from_secs(5)).await);
        assert_eq!(*log.lock().unwrap(), vec!["2", "1a", "1b"]);
    }

    #[tokio::test]
    async fn a_flooding_user_is_refused_beyond_the_bound() {
        let seq = Sequencer::default();
        let (_hold, held) = tokio::sync::oneshot::channel::<()>();
        let ran = Arc::new(AtomicUsize::new(0));
        assert!(
            seq.push(
                UserId(1),
                Box::pin(async move {
                    let _ = held.await;
                })
            )
            .is_ok()
        );
        tokio::task::yield_now().await;
        let mut refused = 0;
        for _ in 0..MAX_QUEUED + 5 {
            let r = Arc::clone(&ran);
            let job: Job = Box::pin(async move {
                r.fetch_add(1, Ordering::SeqCst);
            });
            if seq.push(UserId(1), job).is_err() {
                refused += 1;
            }
        }
        assert!(refused >= 5, "refused {refused}");
        assert!(seq.push(UserId(2), Box::pin(async {})).is_ok());
    }
}
