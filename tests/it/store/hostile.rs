//! Store paths and contents that attack the reader (issue 13): a device, a FIFO, a file of the
//! wrong kind under a forced `--store`, JSON nested deeper than serde's default. Each ends in
//! one clear error and nothing written, or, for deep JSON OpenClaw itself can write, a normal
//! read and a write that keeps the deep field.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::cli;
use crate::support::fixtures::{self, Fixture};

fn profiles_fails(fx: &Fixture, args: &[&str], code: &str) -> String {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    all.push("profiles");
    let started = Instant::now();
    let run = cli::run(fx.home(), &[], &all);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
    run.expect_code(1);
    assert_eq!(run.json()["error"], code, "{}", run.stderr);
    run.stderr
}

#[test]
fn a_device_or_fifo_as_the_auth_path_is_refused_at_once() {
    let fx = Fixture::new();
    for forced in [&["--store", "json"][..], &[][..]] {
        let mut args = forced.to_vec();
        args.extend(["--auth-path", "/dev/zero"]);
        let e = profiles_fails(&fx, &args, "not_a_file");
        assert!(e.contains("not a regular file"), "{e}");
    }
    let fifo = fx.home().join("auth-profiles.json");
    let c = std::ffi::CString::new(fifo.to_string_lossy().as_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    profiles_fails(&fx, &["--auth-path", fifo.to_str().unwrap()], "not_a_file");
}

#[test]
fn a_forced_store_on_a_file_of_another_kind_is_an_error_not_an_empty_store() {
    let fx = Fixture::new();
    let db = fx.state_db_from_example();
    let json_file = fx.home().join("elsewhere.json");
    fixtures::write_json(&json_file, &fixtures::json_example());
    let (db, js) = (db.to_str().unwrap(), json_file.to_str().unwrap());
    let e = profiles_fails(
        &fx,
        &["--store", "agent-db", "--auth-path", db],
        "store_wrong_kind",
    );
    assert!(e.contains("state database"), "{e}");
    profiles_fails(
        &fx,
        &["--store", "json", "--auth-path", db],
        "store_wrong_kind",
    );
    profiles_fails(
        &fx,
        &["--store", "state-db", "--auth-path", js],
        "store_wrong_kind",
    );
    // The right kind still reads.
    let run = cli::run(
        fx.home(),
        &[],
        &[
            "--json",
            "--store",
            "state-db",
            "--auth-path",
            db,
            "profiles",
        ],
    );
    assert_eq!(run.expect_code(0).json()["ok"], true);
}

fn nested(depth: usize) -> Value {
    let mut v = json!(1);
    for _ in 0..depth {
        v = json!({ "a": v });
    }
    v
}

#[test]
fn json_as_deep_as_openclaw_writes_is_read_and_kept_and_deeper_is_refused() {
    let fx = Fixture::new();
    // Building and writing the fixture recurses too: give this thread room.
    let deep = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(|| serde_json::to_string(&nested(4_000)).unwrap())
        .unwrap()
        .join()
        .unwrap();
    let path = fx.json_path("main");
    let text = serde_json::to_string(&fixtures::json_example()).unwrap();
    // Splice the deep value in as an unknown top-level field.
    let spliced = format!("{{\"x-deep\":{deep},{}", &text[1..]);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, &spliced).unwrap();
    let run = cli::run(fx.home(), &[], &["--json", "--store", "json", "profiles"]);
    assert_eq!(
        run.expect_code(0).json()["profiles"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    let run = cli::run(
        fx.home(),
        &[],
        &["--json", "--store", "json", "retire", "alice@example.com"],
    );
    assert_eq!(run.expect_code(0).json()["ok"], true, "{}", run.stderr);
    let after = std::fs::read_to_string(&path).unwrap();
    assert!(
        after.contains("x-deep"),
        "the deep unknown field survived the write"
    );
    assert_eq!(after.matches("\"a\":").count(), 4_000);

    let too_deep = format!("{{\"x\":{}1{}}}", "[".repeat(20_000), "]".repeat(20_000));
    std::fs::write(&path, &too_deep).unwrap();
    let e = profiles_fails(&fx, &["--store", "json"], "json_too_deep");
    assert!(e.contains("5000 levels"), "{e}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), too_deep);
}

/// Raw terminal controls in a profile's id and email never reach the terminal: `profiles`,
/// `order get`, `layers` and the terminal chat show them as visible escapes (JSON escapes them
/// by itself).
#[test]
fn control_characters_in_ids_and_emails_are_escaped_in_every_text_output() {
    let fx = Fixture::new();
    let far = chrono::Utc::now().timestamp_millis() + 10 * 86_400_000;
    let evil_email = "eve\u{1b}]52;c;aGk=\u{7}@example.com";
    let evil_id = "openai:eve\u{1b}[2J\u{1b}[1A\u{202e}";
    let store = json!({
        "version": 1,
        "profiles": {
            evil_id: fixtures::oauth_profile("openai", evil_email, "acct-eve", "plus", far),
        }
    });
    let state = json!({"version": 1, "order": {"openai": [evil_id]}});
    fx.state_db(&store, Some(&state));
    let raw = ['\u{1b}', '\u{7}', '\u{202e}'];
    for args in [
        &["profiles"][..],
        &["order", "get", "--provider", "openai"][..],
        &["layers"][..],
    ] {
        let run = cli::run(fx.home(), &[], args);
        let all = format!("{}{}", run.stdout, run.stderr);
        assert!(
            !all.contains(raw),
            "{args:?} printed a raw control:\n{all:?}"
        );
        assert!(all.contains("\\u{1b}"), "{args:?}: {all}");
    }
    let chat = cli::run_with_stdin(fx.home(), &[], &["chat"], "/codex_auth\n");
    let all = format!("{}{}", chat.stdout, chat.stderr);
    assert!(!all.contains(raw), "chat printed a raw control:\n{all:?}");
    // JSON keeps the exact id with the controls escaped by serde.
    let run = cli::run(fx.home(), &[], &["--json", "profiles"]);
    assert!(!run.stdout.contains(['\u{1b}', '\u{7}']));
    assert!(run.stdout.contains("\\u001b[2J"), "{}", run.stdout);
}
