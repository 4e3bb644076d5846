//! Per-user ordered, cross-user concurrent delivery of events to the conversation core.
//!
//! Each user with something to say gets a small worker task fed by its own queue, so one
//! user's slow usage check never delays another user, while one user's updates are handled
//! in the order Telegram sent them (a tap is never handled before the command that made its
//! menu). A worker that has been idle for a while ends and forgets its queue, so memory does
//! not grow with the number of users ever seen.
//!
//! Shutdown: [`Dispatch::shutdown`] drops every queue's sender, workers finish what is
//! queued, and the caller waits for them up to a grace period (mini-redis's pattern: every
//! worker holds a clone of one `mpsc::Sender<()>`; when the receiver sees `None`, all are gone).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::mpsc;

use crate::chat::transport::{BoxFuture, Incoming, Transport, UserId};

/// What the adapter hands every event to: the conversation core (`Conversation::handle`), or
/// a small test handler.
pub type Handler =
    Arc<dyn Fn(Incoming, Arc<dyn Transport>) -> BoxFuture<'static, ()> + Send + Sync>;

/// How long a user's worker waits for another event before it ends. Short: a worker costs
/// ~1 KB while it waits, and 10,000 users within 30 s kept all of theirs, whose blocks pinned
/// the pages around them so the allocator could give nothing back (45 MB resident after
/// 10,000 users with 30 s, `benches/chat`); starting a fresh one costs microseconds.
pub const DEFAULT_IDLE: Duration = Duration::from_secs(1);

/// How many events one user may have waiting; more are dropped (a tap among them is still
/// answered), so one flooding user cannot grow the bot's memory without bound.
pub const MAX_QUEUED_PER_USER: usize = 32;

// Events travel boxed: a tokio channel allocates its slots 32 at a time, so a queue of
// `Incoming` (88 bytes) cost every user with a live worker ~3 KB, a boxed one ~0.3 KB
// (10,000 users in 30 s: ~25 MB less; `benches/chat`).
type Queues = Arc<Mutex<Option<HashMap<UserId, mpsc::Sender<Box<Incoming>>>>>>;

/// What the trimmer watches (`super::trim`): events handled and workers ended so far.
#[derive(Debug, Default)]
pub struct Activity {
    /// Events handled.
    pub events: AtomicU64,
    /// Workers that ended after idling (what they held is free).
    pub ended: AtomicU64,
}

/// The router from users to their workers.
pub struct Dispatch {
    handler: Handler,
    transport: Arc<dyn Transport>,
    // `None` once shut down: late events are dropped instead of starting new workers.
    queues: Queues,
    idle: Duration,
    /// Events handled and workers ended so far (`super::trim` gives memory back after
    /// those).
    handled: Arc<Activity>,
    alive_tx: Mutex<Option<mpsc::Sender<()>>>,
    alive_rx: tokio::sync::Mutex<mpsc::Receiver<()>>,
}

impl Dispatch {
    /// A dispatcher handing events to `handler` with `transport`; workers end after `idle`.
    pub fn new(handler: Handler, transport: Arc<dyn Transport>, idle: Duration) -> Dispatch {
        let (alive_tx, alive_rx) = mpsc::channel(1);
        Dispatch {
            handler,
            transport,
            queues: Arc::new(Mutex::new(Some(HashMap::new()))),
            idle,
            handled: Arc::default(),
            alive_tx: Mutex::new(Some(alive_tx)),
            alive_rx: tokio::sync::Mutex::new(alive_rx),
        }
    }

    /// The transport events are handled with.
    pub fn transport(&self) -> &Arc<dyn Transport> {
        &self.transport
    }

    /// Queue `event` behind `user`'s earlier events. Returns false after shutdown.
    pub fn dispatch(&self, user: UserId, event: Incoming) -> bool {
        let mut guard = self.queues.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(queues) = guard.as_mut() else {
            return false;
        };
        // Sending under the lock is what makes the idle hand-over in `worker` race-free.
        let event = Box::new(event);
        let event = match queues.get(&user) {
            Some(tx) => match tx.try_send(event) {
                Ok(()) => return true,
                Err(mpsc::error::TrySendError::Full(event)) => {
                    tracing::warn!(
                        user = user.0,
                        "too many requests queued for one user; dropped one"
                    );
                    self.answer_dropped(*event);
                    return true;
                }
                // That worker is gone (it panicked): start a fresh one below.
                Err(mpsc::error::TrySendError::Closed(event)) => event,
            },
            None => event,
        };
        let Some(alive) = self.alive_token() else {
            return false;
        };
        let (tx, rx) = mpsc::channel(MAX_QUEUED_PER_USER);
        // A fresh channel with room and its receiver alive cannot refuse a message.
        let _ = tx.try_send(event);
        queues.insert(user, tx);
        let queue = Queue {
            user,
            rx,
            queues: self.queues.clone(),
            idle: self.idle,
            handled: self.handled.clone(),
            _alive: alive,
        };
        tokio::spawn(worker(queue, self.handler.clone(), self.transport.clone()));
        true
    }

    /// A dropped tap still gets its answer (every callback is answered exactly once).
    fn answer_dropped(&self, event: Incoming) {
        if let Incoming::Button { callback_id, .. } = event {
            let transport = self.transport.clone();
            self.spawn_detached(Box::pin(async move {
                let _ = transport.answer_callback(&callback_id, None).await;
            }));
        }
    }

    /// Run a one-off job (answering a callback the core cannot use) and count it as in flight.
    pub fn spawn_detached(&self, job: BoxFuture<'static, ()>) {
        if let Some(alive) = self.alive_token() {
            tokio::spawn(async move {
                job.await;
                drop(alive);
            });
        }
    }

    /// The counts of events handled and workers ended so far, shared.
    pub fn handled(&self) -> Arc<Activity> {
        self.handled.clone()
    }

    /// How many users currently have a worker.
    pub fn active_users(&self) -> usize {
        let guard = self.queues.lock().unwrap_or_else(PoisonError::into_inner);
        guard.as_ref().map_or(0, HashMap::len)
    }

    fn alive_token(&self) -> Option<mpsc::Sender<()>> {
        let guard = self.alive_tx.lock().unwrap_or_else(PoisonError::into_inner);
        guard.clone()
    }

    /// Stop taking events, let workers finish what they hold, and wait at most `grace`.
    /// Returns true when everything finished in time.
    pub async fn shutdown(&self, grace: Duration) -> bool {
        self.queues
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        self.alive_tx
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let mut rx = self.alive_rx.lock().await;
        // `recv` yields `None` only when every worker's token has been dropped.
        tokio::time::timeout(grace, rx.recv()).await.is_ok()
    }
}

/// One user's queue as its worker holds it.
struct Queue {
    user: UserId,
    rx: mpsc::Receiver<Box<Incoming>>,
    queues: Queues,
    idle: Duration,
    handled: Arc<Activity>,
    /// Dropped when the worker ends (see [`Dispatch::shutdown`]).
    _alive: mpsc::Sender<()>,
}

async fn worker(q: Queue, handler: Handler, transport: Arc<dyn Transport>) {
    let Queue {
        user,
        mut rx,
        queues,
        idle,
        handled,
        _alive,
    } = q;
    loop {
        match tokio::time::timeout(idle, rx.recv()).await {
            Ok(Some(event)) => {
                handler(*event, transport.clone()).await;
                handled.events.fetch_add(1, Ordering::Relaxed);
            }
            // Shutdown dropped our sender and the queue is drained.
            Ok(None) => return,
            Err(_) => {
                let mut guard = queues.lock().unwrap_or_else(PoisonError::into_inner);
                // An event sent while we timed out is already in `rx` (sends happen under
                // this lock): keep going. Otherwise leave, taking our queue with us.
                if !rx.is_empty() {
                    continue;
                }
                if let Some(map) = guard.as_mut() {
                    map.remove(&user);
                }
                handled.ended.fetch_add(1, Ordering::Relaxed);
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::transport::{ChatId, ChatKind, Keyboard, MessageRef, Origin, TransportError};

    struct Null;
    impl Transport for Null {
        fn inline_buttons(&self) -> bool {
            true
        }
        fn max_message_len(&self) -> usize {
            4096
        }
        fn send<'a>(
            &'a self,
            chat: ChatId,
            _: &'a str,
            _: Option<&'a Keyboard>,
        ) -> BoxFuture<'a, Result<MessageRef, TransportError>> {
            Box::pin(async move {
                Ok(MessageRef {
                    chat,
                    message_id: 1,
                })
            })
        }
        fn edit<'a>(
            &'a self,
            _: MessageRef,
            _: &'a str,
            _: Option<&'a Keyboard>,
        ) -> BoxFuture<'a, Result<(), TransportError>> {
            Box::pin(async { Ok(()) })
        }
        fn delete(&self, _: MessageRef) -> BoxFuture<'_, Result<(), TransportError>> {
            Box::pin(async { Ok(()) })
        }
        fn answer_callback<'a>(
            &'a self,
            _: &'a str,
            _: Option<&'a str>,
        ) -> BoxFuture<'a, Result<(), TransportError>> {
            Box::pin(async { Ok(()) })
        }
    }

    fn text(user: u64, text: &str) -> Incoming {
        let chat = ChatId(user as i64);
        Incoming::Text {
            origin: Origin {
                chat,
                kind: ChatKind::Private,
                user: UserId(user),
            },
            message: MessageRef {
                chat,
                message_id: 1,
            },
            text: text.into(),
        }
    }

    /// Records (user, text) in handling order; user 1's first event is slow.
    fn recorder(log: Arc<Mutex<Vec<(u64, String)>>>) -> Handler {
        Arc::new(move |ev, _t| {
            let log = log.clone();
            Box::pin(async move {
                let Incoming::Text { origin, text, .. } = ev else {
                    return;
                };
                if origin.user == UserId(1) && text == "a" {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                }
                log.lock().unwrap().push((origin.user.0, text));
            })
        })
    }

    #[tokio::test]
    async fn same_user_in_order_other_users_not_blocked() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let d = Dispatch::new(recorder(log.clone()), Arc::new(Null), DEFAULT_IDLE);
        assert!(d.dispatch(UserId(1), text(1, "a")));
        assert!(d.dispatch(UserId(1), text(1, "b")));
        assert!(d.dispatch(UserId(2), text(2, "c")));
        assert!(d.shutdown(Duration::from_secs(5)).await);
        let log = log.lock().unwrap().clone();
        assert_eq!(log[0], (2, "c".into()), "user 2 waited on user 1: {log:?}");
        let ones: Vec<_> = log
            .iter()
            .filter(|(u, _)| *u == 1)
            .map(|(_, t)| t.as_str())
            .collect();
        assert_eq!(ones, ["a", "b"]);
    }

    #[tokio::test]
    async fn idle_workers_end_and_come_back() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let d = Dispatch::new(
            recorder(log.clone()),
            Arc::new(Null),
            Duration::from_millis(50),
        );
        d.dispatch(UserId(3), text(3, "x"));
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(d.active_users(), 0);
        d.dispatch(UserId(3), text(3, "y"));
        assert!(d.shutdown(Duration::from_secs(5)).await);
        assert_eq!(log.lock().unwrap().len(), 2);
        assert!(!d.dispatch(UserId(3), text(3, "late")));
    }

    #[tokio::test]
    async fn handled_events_are_counted_for_the_trimmer() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let d = Dispatch::new(recorder(log.clone()), Arc::new(Null), DEFAULT_IDLE);
        let handled = d.handled();
        d.dispatch(UserId(1), text(1, "a"));
        d.dispatch(UserId(2), text(2, "b"));
        assert!(d.shutdown(Duration::from_secs(5)).await);
        assert_eq!(handled.events.load(Ordering::Relaxed), 2);
    }

    #[tokio::test]
    async fn a_flooding_user_is_capped() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let d = Dispatch::new(recorder(log.clone()), Arc::new(Null), DEFAULT_IDLE);
        d.dispatch(UserId(1), text(1, "a"));
        for i in 0..MAX_QUEUED_PER_USER + 10 {
            d.dispatch(UserId(1), text(1, &format!("m{i}")));
        }
        assert!(d.shutdown(Duration::from_secs(5)).await);
        // The worker has not run yet (one thread, no await): "a" sits in the queue too.
        assert_eq!(log.lock().unwrap().len(), MAX_QUEUED_PER_USER);
    }

    #[tokio::test]
    async fn shutdown_gives_up_after_grace() {
        let slow: Handler = Arc::new(|_, _| Box::pin(tokio::time::sleep(Duration::from_secs(30))));
        let d = Dispatch::new(slow, Arc::new(Null), DEFAULT_IDLE);
        d.dispatch(UserId(1), text(1, "a"));
        assert!(!d.shutdown(Duration::from_millis(100)).await);
    }
}
