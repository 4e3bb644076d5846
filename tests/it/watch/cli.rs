//! `watch --once` as cron runs it: one process per round over a scripted usage endpoint.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use super::*;
use crate::support::cli::command;

fn kinds(r: &Run) -> Vec<String> {
    r.json()["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn each_change_is_reported_once_across_restarts_and_nothing_when_nothing_changed() {
    let g = Gateway::new(None);
    let fresh_cycle = Reply::Json(used_at(4.0, 5 * 3600));
    let alice = Reply::Sequence(vec![
        used(10.0),
        used(10.0),
        used(85.0),
        used(86.0),
        used(100.0),
        used(100.0),
        fresh_cycle,
    ]);
    let server = g.server(alice, used(20.0));
    let texts: Vec<String> = (0..7)
        .map(|i| {
            let args: &[&str] = if i == 4 { &["--json"] } else { &[] };
            let r = g.once(&server, args);
            r.expect_code(0);
            if i == 4 {
                assert_eq!(kinds(&r), ["limited", "threshold_crossed"], "{}", r.stdout);
                let doc = r.json();
                assert_eq!(doc["events"][0]["profile"], ALICE);
                assert_eq!(doc["events"][1]["threshold"], 95);
                assert_eq!(doc["profiles_checked"], 2);
                assert_eq!(doc["baseline"], false);
                assert_eq!(doc["dry_run"], false);
                return "json".to_owned();
            }
            r.stdout
        })
        .collect();
    assert!(
        texts[0].starts_with("First check: recorded the state of 2 profiles"),
        "{}",
        texts[0]
    );
    assert_eq!(texts[1], "No change since the last check.\n");
    assert_eq!(texts[2].lines().count(), 1, "{}", texts[2]);
    assert!(
        texts[2].starts_with(
            "alice@example.com has used 85% of its 5h window (threshold 80%), which resets at "
        ),
        "{}",
        texts[2]
    );
    assert_eq!(texts[3], "No change since the last check.\n");
    assert_eq!(texts[5], "No change since the last check.\n");
    assert_eq!(texts[6], "alice@example.com is usable again.\n");
    assert_eq!(
        server.total_hits(),
        14,
        "every profile checked once per run"
    );
    let mode = std::fs::metadata(g.state_file())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    // Every check was recorded in the history too.
    let db =
        rusqlite::Connection::open(g.fx.state_dir().join("codex-profiler/history.sqlite")).unwrap();
    let rows: i64 = db
        .query_row("SELECT COUNT(*) FROM checks", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 14);
}

#[test]
fn a_dry_run_remembers_nothing() {
    let g = Gateway::new(None);
    let server = g.server(Reply::Sequence(vec![used(10.0), used(90.0)]), used(20.0));
    g.once(&server, &[]).expect_code(0);
    let before = std::fs::read(g.state_file()).unwrap();
    let dry = g.once(&server, &["--dry-run"]);
    dry.expect_code(0);
    assert!(dry.stdout.contains("threshold 80%"), "{}", dry.stdout);
    assert_eq!(
        std::fs::read(g.state_file()).unwrap(),
        before,
        "state untouched"
    );
    let real = g.once(&server, &[]);
    assert!(
        real.stdout.contains("threshold 80%"),
        "the same news again: {}",
        real.stdout
    );
    assert_eq!(
        g.once(&server, &[]).stdout,
        "No change since the last check.\n"
    );
}

#[test]
fn a_crash_between_check_and_save_reports_the_change_once_after_the_restart() {
    let g = Gateway::new(None);
    let slow = Reply::Delay(Duration::from_secs(20), Box::new(used(90.0)));
    let server = g.server(
        Reply::Sequence(vec![used(10.0), slow, used(90.0)]),
        used(20.0),
    );
    g.once(&server, &[]).expect_code(0);
    let before = std::fs::read(g.state_file()).unwrap();
    // The second round is killed while alice's check is in flight.
    let state = g.fx.state_arg();
    let mut c = command(g.fx.home());
    c.args(["--state-dir", &state, "watch", "--once"])
        .env("CODEX_PROFILER_USAGE_URL", &server.url)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while server.hits(&g.token(ALICE)) < 2 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).is_empty(),
        "nothing told before the crash"
    );
    assert_eq!(
        std::fs::read(g.state_file()).unwrap(),
        before,
        "nothing remembered"
    );
    let after = g.once(&server, &[]);
    after.expect_code(0);
    assert_eq!(
        after.stdout.matches("threshold 80%").count(),
        1,
        "{}",
        after.stdout
    );
    assert_eq!(
        g.once(&server, &[]).stdout,
        "No change since the last check.\n"
    );
}

#[test]
fn a_corrupt_state_file_is_set_aside_and_the_round_only_records() {
    let g = Gateway::new(None);
    let server = g.server(used(99.0), used(20.0));
    std::fs::create_dir_all(g.state_file().parent().unwrap()).unwrap();
    std::fs::write(g.state_file(), b"{\"version\": 1, \"profiles\": [garbage").unwrap();
    let r = g.once(&server, &[]);
    r.expect_code(0);
    assert!(r.stderr.contains("starting fresh"), "{}", r.stderr);
    assert!(
        r.stdout.starts_with("First check"),
        "no storm of old news: {}",
        r.stdout
    );
    assert!(
        g.fx.state_dir()
            .join("codex-profiler/watch.json.bad")
            .exists()
    );
    assert_eq!(
        g.once(&server, &[]).stdout,
        "No change since the last check.\n"
    );
}

#[test]
fn a_bad_setting_is_a_usage_error_naming_the_variable() {
    let g = Gateway::new(None);
    let state = g.fx.state_arg();
    let r = run(
        g.fx.home(),
        &[("CODEX_PROFILER_ALERT_AT", "eighty")],
        &["--state-dir", &state, "watch", "--once"],
    );
    r.expect_code(2);
    assert!(r.stderr.contains("CODEX_PROFILER_ALERT_AT"), "{}", r.stderr);
    assert!(!g.state_file().exists());
}

#[test]
fn the_loop_prints_each_change_as_it_happens_and_stops_cleanly_on_sigterm() {
    let g = Gateway::new(None);
    let server = g.server(Reply::Sequence(vec![used(10.0), used(96.0)]), used(20.0));
    let state = g.fx.state_arg();
    let mut c = command(g.fx.home());
    c.args(["--state-dir", &state, "watch"])
        .env("CODEX_PROFILER_USAGE_URL", &server.url)
        .env("CODEX_PROFILER_WATCH_INTERVAL", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = c.spawn().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    // Two rounds: the baseline (silent), then the change; a third finds nothing new.
    while server.hits(&g.token(ALICE)) < 3 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    // SAFETY: kill(2) on our own child.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "one change, told once: {stdout}");
    assert_eq!(lines[1], "Watcher stopped.");
    assert!(
        stdout.contains("alice@example.com has used 96% of its 5h window (threshold 95%)"),
        "{stdout}"
    );
    let secrets = g.secrets();
    crate::support::cli::assert_no_secret_in(
        &format!("{stdout}{}", String::from_utf8_lossy(&out.stderr)),
        &secrets.iter().map(String::as_str).collect::<Vec<_>>(),
    );
}
