//! Queued apply: a background gateway restart that survives the CLI exiting, with concurrent
//! requests (from many processes) coalesced into one or two restarts, and its outcome
//! recorded with secrets scrubbed and shown by `doctor`.

use std::time::{Duration, Instant};

use codex_profiler::engine::change::queue::{
    self, Phase, QueueConfig, QueueOutcome, queue_apply_with,
};

use super::*;

fn wait_idle(state_dir: &Path) -> queue::ApplyState {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(st) = queue::read_state(state_dir).unwrap() {
            if st.state == Phase::Idle && st.last.is_some() {
                return st;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the queued restart never finished"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn ten_concurrent_requests_make_one_or_two_restarts() {
    let fx = Fixture::new();
    let calls = fx.home().join("calls");
    let cfg = QueueConfig {
        worker_exe: cli::bin().into(),
        restart_cmd: format!(
            "echo restart >> '{}'; sleep 1; echo 'refresh rt_SECRET_REFRESH_123 ok'",
            calls.display()
        ),
    };
    let state = fx.state_dir();
    let outcomes: Vec<QueueOutcome> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..10)
            .map(|_| s.spawn(|| queue_apply_with(&state, &cfg).unwrap()))
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == QueueOutcome::Started)
            .count(),
        1,
        "{outcomes:?}"
    );
    let st = wait_idle(&state);
    let n = std::fs::read_to_string(&calls).unwrap().lines().count();
    assert!((1..=2).contains(&n), "{n} restarts for 10 requests");
    assert_eq!(st.requests, 10);
    let last = st.last.unwrap();
    assert!(last.ok);
    assert_eq!(last.exit_code, Some(0));
    let tail = last.output_tail.join("\n");
    assert!(
        tail.contains("refresh") && !tail.contains("rt_SECRET_REFRESH_123"),
        "{tail}"
    );
    let raw = std::fs::read_to_string(state.join("codex-profiler/apply.json")).unwrap();
    assert!(!raw.contains("rt_SECRET_REFRESH_123"));
}

#[test]
fn a_cli_change_with_queue_apply_restarts_after_the_cli_exits_and_doctor_shows_a_failure() {
    let fx = example_store(Format::StateDb);
    let marker = fx.home().join("restarted");
    let cmd = format!(
        "sleep 0.5; echo \"$OPENCLAW_STATE_DIR\" > '{}'; echo boom >&2; exit 3",
        marker.display()
    );
    let state = fx.state_arg();
    let run = cli::run(
        fx.home(),
        &[("CODEX_PROFILER_GATEWAY_RESTART_CMD", cmd.as_str())],
        &[
            "--state-dir",
            &state,
            "--json",
            "retire",
            "alice@example.com",
            "--queue-apply",
        ],
    );
    run.expect_code(0);
    assert_eq!(run.json()["queued_apply"], "started", "{}", run.stdout);
    // The CLI has exited; the worker carries on.
    let st = wait_idle(&fx.state_dir());
    assert_eq!(std::fs::read_to_string(&marker).unwrap().trim(), state);
    let last = st.last.unwrap();
    assert_eq!(last.exit_code, Some(3));
    assert!(last.output_tail.iter().any(|l| l == "boom"));

    let doc = cli(&fx, &["--json", "doctor"]);
    doc.expect_code(1);
    let f = doc.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "last_queued_apply")
        .cloned()
        .unwrap();
    assert_eq!(f["severity"], "action");
    assert!(f["title"].as_str().unwrap().contains("exit 3"));
}

/// A queued restart whose worker died (kill -9, a reboot; or its pid now belongs to another
/// program) is reported as an action, not as "in progress" under a healthy doctor.
#[test]
fn doctor_reports_a_queued_restart_whose_worker_died() {
    let fx = example_store(Format::StateDb);
    let dir = fx.state_dir().join("codex-profiler");
    std::fs::create_dir_all(&dir).unwrap();
    let mut gone = std::process::Command::new("true").spawn().unwrap();
    gone.wait().unwrap();
    let mut other = std::process::Command::new("sleep")
        .arg("30")
        .spawn()
        .unwrap();
    for (pid, phase) in [(gone.id(), "running"), (other.id(), "queued")] {
        let st = serde_json::json!({ "state": phase, "worker_pid": pid, "requests": 1 });
        std::fs::write(dir.join("apply.json"), st.to_string()).unwrap();
        let doc = cli(&fx, &["--json", "doctor"]);
        doc.expect_code(1);
        let findings = doc.json()["findings"].as_array().unwrap().clone();
        let f = findings
            .iter()
            .find(|f| f["code"] == "queued_apply_worker_died")
            .unwrap_or_else(|| panic!("{phase}: {findings:?}"));
        assert_eq!(f["severity"], "action");
        assert!(f["title"].as_str().unwrap().contains(&pid.to_string()));
        assert!(
            !findings
                .iter()
                .any(|f| f["code"] == "queued_apply_in_progress"),
            "{findings:?}"
        );
    }
    let _ = other.kill();
    let _ = other.wait();
}
