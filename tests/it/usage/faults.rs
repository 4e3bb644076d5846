//! The usage endpoint misbehaving as real networks do (issue 13, fault tests): a connection
//! cut mid-reply, a burst of 5xx, a stall. Each profile ends in a clear error or a retry that
//! succeeds; the check never hangs, never panics, and the gateway's store is never touched.

use std::time::{Duration, Instant};

use super::cli::{access, entry, state_db, tree, usage};
use crate::support::usage_server::{self, Reply};

#[test]
fn cut_connections_5xx_bursts_and_stalls_end_in_a_clear_answer() {
    let home = tempfile::tempdir().unwrap();
    let db = state_db(&home.path().join("state-dir"));
    let ok = usage_server::full_payload();
    let server = usage_server::spawn([
        (access("alice").as_str(), Reply::Cut),
        (
            access("bob").as_str(),
            Reply::Sequence(vec![
                Reply::Status(502),
                Reply::Status(503),
                Reply::Json(ok.clone()),
            ]),
        ),
        (access("carol").as_str(), Reply::Hang),
        (access("frank").as_str(), Reply::Json(ok)),
    ]);
    let before = tree(db.parent().unwrap().parent().unwrap());
    let started = Instant::now();
    let run = usage(
        home.path(),
        &server.url,
        &["--json", "usage", "--timeout-sec", "2", "--retries", "2"],
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the check took {:?}",
        started.elapsed()
    );
    let doc = run.json();
    // A cut reply: a network failure, said as one, after the retries.
    let alice = entry(&doc, "alice");
    assert_eq!(alice["remote_usage_ok"], false, "{alice:#}");
    assert_eq!(alice["remote_error"], "connection_error", "{alice:#}");
    // A 5xx burst shorter than the retries: the last try answers.
    assert_eq!(entry(&doc, "bob")["remote_usage_ok"], true, "{doc:#}");
    // A stall: the per-attempt timeout ends it.
    let carol = entry(&doc, "carol");
    assert_eq!(carol["remote_usage_ok"], false, "{carol:#}");
    assert_eq!(carol["remote_error"], "timeout", "{carol:#}");
    assert_eq!(entry(&doc, "frank")["remote_usage_ok"], true);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert_eq!(
        tree(db.parent().unwrap().parent().unwrap()),
        before,
        "the gateway's files are untouched"
    );
}
