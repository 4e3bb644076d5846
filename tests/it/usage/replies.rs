//! `usage` end to end on the reply shapes of issue 9 and under load: the real binary against a
//! state-db store and the loopback usage server. Usage-based plans, code review and
//! additional limits, banked resets, a workspace that is out, a weekly-only window, absurd
//! values; the plan the reply gives; the usable/limited/failed summary; `--concurrency` and
//! its variable; running out of file descriptors; progress on a terminal only.

use std::os::unix::process::CommandExt;
use std::time::Duration;

use serde_json::{Value, json};

use super::cli::entry;
use crate::support::cli::{self, Run};
use crate::support::fixtures::Fixture;
use crate::support::usage_server::{self, Reply, UsageServer, full_payload, shape};

const DAY_MS: i64 = 86_400_000;

fn token(name: &str) -> String {
    format!("tok-replies-{name}-7e3b1f9a05c2")
}

fn profile(name: &str, plan: &str) -> Value {
    let now = chrono::Utc::now().timestamp_millis();
    json!({"type": "oauth", "provider": "openai", "email": format!("{name}@example.com"),
        "access": token(name), "refresh": format!("refresh-replies-{name}-c40d"),
        "accountId": format!("acct-{name}"), "chatgptPlanType": plan,
        "expires": now + 5 * DAY_MS})
}

/// A store of `names`, each stored as a plus plan.
fn store(fx: &Fixture, names: &[String]) {
    let profiles: serde_json::Map<String, Value> = names
        .iter()
        .map(|n| (format!("openai:{n}@example.com"), profile(n, "plus")))
        .collect();
    fx.state_db(&json!({"version": 1, "profiles": profiles}), None);
}

fn run(fx: &Fixture, server: &UsageServer, env: &[(&str, &str)], args: &[&str]) -> Run {
    let state = fx.state_arg();
    let mut all = vec!["--state-dir", state.as_str(), "usage"];
    all.extend_from_slice(args);
    let mut vars = vec![("CODEX_PROFILER_USAGE_URL", server.url.as_str())];
    vars.extend_from_slice(env);
    let r = cli::run(fx.home(), &vars, &all);
    let names = [
        "based", "review", "out", "weekly", "absurd", "upgraded", "down",
    ];
    let secrets: Vec<String> = names.iter().map(|n| token(n)).collect();
    r.assert_no_secret(&secrets.iter().map(String::as_str).collect::<Vec<_>>());
    r
}

fn shapes() -> (Fixture, UsageServer) {
    let fx = Fixture::new();
    let names: Vec<String> = [
        "based", "review", "out", "weekly", "absurd", "upgraded", "down",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    store(&fx, &names);
    let mut upgraded = full_payload();
    upgraded["plan_type"] = json!("pro");
    let server = usage_server::spawn([
        (token("based").as_str(), Reply::Json(shape("usage_based"))),
        (token("review").as_str(), Reply::Json(shape("code_review"))),
        (token("out").as_str(), Reply::Json(shape("workspace_out"))),
        (token("weekly").as_str(), Reply::Json(shape("weekly_only"))),
        (token("absurd").as_str(), Reply::Json(shape("absurd"))),
        (token("upgraded").as_str(), Reply::Json(upgraded)),
        (token("down").as_str(), Reply::Status(502)),
    ]);
    (fx, server)
}

#[test]
fn every_reply_shape_in_json_and_text() {
    let (fx, server) = shapes();
    let doc = run(&fx, &server, &[], &["--format", "json", "--retries", "0"]).json();
    assert_eq!(
        doc["summary"],
        json!({"profiles_checked": 7, "remote_ok_count": 6, "remote_failed_count": 1,
            "usable_count": 5, "limited_count": 1})
    );
    // The plan from the reply, fresher than the token's claim.
    assert_eq!(entry(&doc, "upgraded")["plan"], "pro");
    assert_eq!(entry(&doc, "based")["plan"], "business_usage_based");
    let based = &entry(&doc, "based")["remote_usage"];
    assert_eq!(based["windows"], json!([]));
    assert_eq!(based["spend"]["limits"][0]["name"], "individual_limit");
    assert_eq!(based["spend"]["limits"][0]["remaining"], 37.5);
    assert_eq!(based["credits_balance"], 412.8);
    let review = &entry(&doc, "review")["remote_usage"];
    let kinds = |k: &str| -> Vec<String> {
        review[k]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| format!("{}:{}", w["kind"].as_str().unwrap(), w["label"]))
            .collect()
    };
    assert_eq!(kinds("windows"), ["codex:\"5h\"", "codex:\"week\""]);
    assert_eq!(
        kinds("other_windows"),
        ["code_review:\"week\"", "additional:\"5h\""]
    );
    assert_eq!(review["other_windows"][1]["name"], "GPT-5.3-Codex-Spark");
    assert_eq!(review["resets_banked"], 2);
    let out = &entry(&doc, "out")["remote_usage"];
    assert_eq!(out["workspace_out"], true);
    assert_eq!(out["limited"], true);
    assert_eq!(
        out["rate_limit_reached_type"],
        "workspace_owner_credits_depleted"
    );
    assert_eq!(
        entry(&doc, "weekly")["remote_usage"]["windows"][0]["label"],
        "week"
    );
    let absurd = &entry(&doc, "absurd")["remote_usage"]["windows"];
    for w in absurd.as_array().unwrap() {
        assert_eq!(w["reset_after_seconds"], json!(null), "{w}");
        assert_eq!(w["reset_at"], json!(null), "{w}");
        assert_eq!(w["used_percent"], json!(null), "{w}");
    }
    assert_eq!(entry(&doc, "down")["remote_error"], "server_error");

    let text = run(&fx, &server, &[], &["--retries", "0"])
        .expect_code(0)
        .stdout
        .clone();
    let line = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("{name}@example.com")))
            .unwrap_or_else(|| panic!("no {name} line in\n{text}"))
            .to_owned()
    };
    assert!(
        line("based").contains("individual spend 37.5 of 50 left")
            && line("based").contains("credits 412.8"),
        "{text}"
    );
    assert!(!text.contains("no limits reported"), "{text}");
    assert!(
        line("review").contains("code review week 20% left")
            && line("review").contains("GPT-5.3-Codex-Spark 5h 97% left")
            && line("review").ends_with("2 resets banked"),
        "{text}"
    );
    assert!(
        line("out").contains("the whole workspace is out, another profile of it will not help"),
        "{text}"
    );
    assert!(line("weekly").contains("· week 65% left"), "{text}");
    assert!(line("upgraded").contains("· pro ·"), "{text}");
    assert!(!text.contains("106751991167300d"), "{text}");
    assert_eq!(
        line("absurd"),
        "absurd@example.com · plus · 5h usage unknown · week usage unknown"
    );
    // The summary closes the usage lines; the forecast block follows it.
    assert_eq!(
        text.lines().find(|l| l.ends_with(" failed")),
        Some("7 checked: 5 usable, 1 limited, 1 failed")
    );
}

/// A store of `n` profiles (once per fixture) and a server answering each after `delay`.
fn many(fx: &Fixture, n: usize, delay: Duration) -> UsageServer {
    let names: Vec<String> = (0..n).map(|i| format!("m{i}")).collect();
    if !fx.state_db_path().exists() {
        store(fx, &names);
    }
    names
        .iter()
        .fold(usage_server::builder(), |b, n| {
            b.reply(&token(n), Reply::Json(full_payload()))
        })
        .delay(delay)
        .spawn()
}

#[test]
fn concurrency_flag_and_variable_cap_requests_in_flight() {
    let fx = Fixture::new();
    let server = many(&fx, 8, Duration::from_millis(60));
    let doc = run(&fx, &server, &[], &["--json", "--concurrency", "2"]).json();
    assert_eq!(doc["summary"]["usable_count"], 8);
    assert_eq!(server.max_in_flight(), 2);

    let server = many(&fx, 8, Duration::from_millis(60));
    let env = [("CODEX_PROFILER_USAGE_CONCURRENCY", "3")];
    run(&fx, &server, &env, &["--json"]).expect_code(0);
    assert_eq!(server.max_in_flight(), 3);
    // The flag wins over the variable.
    let server = many(&fx, 8, Duration::from_millis(60));
    run(&fx, &server, &env, &["--json", "--concurrency", "1"]).expect_code(0);
    assert_eq!(server.max_in_flight(), 1);

    let bad = [("CODEX_PROFILER_USAGE_CONCURRENCY", "lots")];
    let r = run(&fx, &server, &bad, &[]);
    r.expect_code(2);
    assert!(
        r.stderr.contains("CODEX_PROFILER_USAGE_CONCURRENCY"),
        "{}",
        r.stderr
    );
    // Empty counts as unset (a copied .env.example).
    let empty = [("CODEX_PROFILER_USAGE_CONCURRENCY", "")];
    run(&fx, &server, &empty, &["--json"]).expect_code(0);
    run(&fx, &server, &[], &["--concurrency", "0"]).expect_code(2);
}

/// With a low open-file limit and a high `--concurrency`, connections fail for want of file
/// descriptors: each such profile says so and names the fix, never `connection_error`.
#[test]
fn running_out_of_file_descriptors_is_a_local_error_naming_the_fix() {
    const N: usize = 48;
    let fx = Fixture::new();
    let server = many(&fx, N, Duration::from_millis(300));
    let state = fx.state_arg();
    let mut c = cli::command(fx.home());
    c.env("CODEX_PROFILER_USAGE_URL", &server.url)
        .env("RUST_LOG", "off")
        .args(["--state-dir", &state, "usage", "--json", "--retries", "0"])
        .args(["--concurrency", "48"]);
    // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        c.pre_exec(|| {
            let lim = libc::rlimit {
                rlim_cur: 32,
                rlim_max: 32,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = c.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let doc: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{e}\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr)));
    let profiles = doc["profiles"].as_array().unwrap();
    let errors: Vec<&str> = profiles
        .iter()
        .filter_map(|p| p["remote_error"].as_str())
        .collect();
    assert!(
        errors.contains(&"too_many_open_files"),
        "no profile ran out of files: {errors:?}"
    );
    assert!(!errors.contains(&"connection_error"), "{errors:?}");
    let hit = profiles
        .iter()
        .find(|p| p["remote_error"] == "too_many_open_files")
        .unwrap();
    let hint = hit["remote_hint"].as_str().unwrap();
    assert!(
        hint.contains("--concurrency") && hint.contains("local"),
        "{hint}"
    );
    let line = doc["formatted_profiles"].to_string();
    assert!(
        line.contains("out of open files (lower --concurrency)"),
        "{line}"
    );
}

/// `script` gives the binary a terminal on stderr: progress shows there in text mode only.
#[test]
fn progress_shows_on_a_terminal_only() {
    let fx = Fixture::new();
    let server = many(&fx, 5, Duration::from_millis(80));
    let env = [("RUST_LOG", "off")];
    // Not a terminal: nothing but the result.
    let r = run(&fx, &server, &env, &["--concurrency", "1"]);
    r.expect_code(0);
    assert_eq!(r.stderr, "", "stderr is not a terminal");
    assert!(!r.stdout.contains("/5 checked"), "{}", r.stdout);

    let state = fx.state_arg();
    let on_tty = |extra: &str| {
        let cmdline = format!(
            "{} --state-dir {state} usage --concurrency 1 {extra}",
            cli::bin()
        );
        let out = std::process::Command::new("script")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", fx.home())
            .env("CODEX_PROFILER_USAGE_URL", &server.url)
            .env("RUST_LOG", "off")
            .current_dir(fx.home())
            .stdin(std::process::Stdio::null())
            .args(["-qec", &cmdline, "/dev/null"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // On a terminal the status words are coloured unless asked not to (issue 11).
    let coloured = on_tty("");
    assert!(
        coloured.contains("\u{1b}[32musable\u{1b}[0m"),
        "{coloured:?}"
    );
    let text = on_tty("--color never");
    assert!(
        text.contains("1/5 checked") && text.contains("4/5 checked"),
        "{text:?}"
    );
    assert!(
        text.contains("5 checked: 5 usable, 0 limited, 0 failed"),
        "{text:?}"
    );
    let json = on_tty("--json");
    assert!(!json.contains("/5 checked"), "{json:?}");
}

/// The chat (terminal adapter, real template) shows the same facts as the CLI: the spend of
/// a usage-based plan, the workspace that is out, and the usable/limited/failed counts.
#[test]
fn the_chat_result_shows_the_same_facts() {
    let (fx, server) = shapes();
    let state = fx.state_arg();
    let r = cli::run_with_stdin(
        fx.home(),
        &[
            ("CODEX_PROFILER_USAGE_URL", server.url.as_str()),
            ("RUST_LOG", "off"),
        ],
        &["--state-dir", &state, "chat"],
        "/codex_usage all\n",
    );
    r.expect_code(0);
    let secrets: Vec<String> = ["based", "out", "upgraded"]
        .iter()
        .map(|n| token(n))
        .collect();
    r.assert_no_secret(&secrets.iter().map(String::as_str).collect::<Vec<_>>());
    let out = &r.stdout;
    assert!(
        out.contains("Codex usage (7 checked: 5 usable, 1 limited, 1 failed):"),
        "{out}"
    );
    assert!(out.contains("individual spend 37.5 of 50 left"), "{out}");
    assert!(out.contains("another profile of it will not help"), "{out}");
    assert!(out.contains("upgraded@example.com · pro ·"), "{out}");
    assert!(out.contains("2 resets banked"), "{out}");
}
