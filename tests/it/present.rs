//! How the CLI's text looks (issue 11, CLI items), through the real binary over a real state
//! database: times in the operator's zone (`CODEX_PROFILER_TZ`, `--utc`; JSON stays RFC 3339
//! UTC; a bad zone is a clear usage error), colour (`--color`, `NO_COLOR`, never in JSON or
//! on stderr), tables sorted by the column they show first, and the plan printed before a
//! confirmation is asked for.

use serde_json::{Value, json};

use crate::change::cli;
use crate::support::cli::{self as runner, Run};
use crate::support::fixtures::{Fixture, oauth_profile};

/// 2100-01-01T00:00:00Z.
const FAR: i64 = 4_102_444_800_000;
const ESC: char = '\u{1b}';

/// Three profiles stored out of id order (m, z, a), all in the stored order.
fn three() -> Fixture {
    let fx = Fixture::new();
    let mut profiles = serde_json::Map::new();
    for n in ["m", "z", "a"] {
        let p = oauth_profile(
            "openai",
            &format!("{n}@example.com"),
            &format!("acct-{n}"),
            "plus",
            FAR,
        );
        profiles.insert(format!("openai:{n}"), p);
    }
    let state = json!({"version": 1, "order": {"openai": ["openai:m", "openai:z", "openai:a"]}});
    fx.state_db(&json!({"version": 1, "profiles": profiles}), Some(&state));
    fx
}

fn with_env(fx: &Fixture, env: &[(&str, &str)], args: &[&str]) -> Run {
    let state = fx.state_arg();
    let mut all = vec!["--state-dir", state.as_str()];
    all.extend_from_slice(args);
    runner::run(fx.home(), env, &all)
}

#[test]
fn times_are_local_by_default_utc_with_the_flag_and_rfc3339_in_json() {
    let fx = three();
    let ist = with_env(&fx, &[("CODEX_PROFILER_TZ", "Asia/Kolkata")], &["profiles"]);
    ist.expect_code(0);
    assert!(
        ist.stdout.contains("Jan 1 2100 05:30 IST, in "),
        "{}",
        ist.stdout
    );
    assert!(!ist.stdout.contains("2100-01-01T"), "{}", ist.stdout);
    // New York in winter: the day before, EST.
    let ny = with_env(
        &fx,
        &[("CODEX_PROFILER_TZ", "America/New_York")],
        &["profiles"],
    );
    assert!(ny.stdout.contains("Dec 31 2099 19:00 EST"), "{}", ny.stdout);
    let utc = with_env(
        &fx,
        &[("CODEX_PROFILER_TZ", "Asia/Kolkata")],
        &["--utc", "profiles"],
    );
    assert!(
        utc.stdout.contains("Jan 1 2100 00:00 UTC"),
        "{}",
        utc.stdout
    );
    let doc = with_env(
        &fx,
        &[("CODEX_PROFILER_TZ", "Asia/Kolkata")],
        &["--json", "profiles"],
    )
    .json();
    assert_eq!(
        doc["profiles"][0]["local"]["token_expires_at"],
        "2100-01-01T00:00:00Z"
    );
}

#[test]
fn a_bad_zone_is_a_usage_error_that_names_the_variable() {
    let fx = three();
    let r = with_env(&fx, &[("CODEX_PROFILER_TZ", "Mars/Olympus")], &["profiles"]);
    r.expect_code(2);
    assert!(r.stderr.contains("CODEX_PROFILER_TZ"), "{}", r.stderr);
    assert!(r.stderr.contains("Mars/Olympus"), "{}", r.stderr);
    assert_eq!(r.stdout, "");
    // JSON shows no local time, so it does not need the zone.
    with_env(
        &fx,
        &[("CODEX_PROFILER_TZ", "Mars/Olympus")],
        &["--json", "profiles"],
    )
    .expect_code(0);
}

#[test]
fn colour_only_when_asked_or_on_a_terminal_and_never_in_json_or_stderr() {
    let fx = three();
    // Piped: auto means no colour.
    let plain = cli(&fx, &["profiles"]);
    assert!(!plain.stdout.contains(ESC), "{:?}", plain.stdout);
    let always = cli(&fx, &["--color", "always", "profiles"]);
    assert!(
        always.stdout.contains(&format!("{ESC}[32mok{ESC}[0m")),
        "{:?}",
        always.stdout
    );
    // `always` wins over NO_COLOR; `never` and NO_COLOR under auto give none.
    let forced = with_env(
        &fx,
        &[("NO_COLOR", "1")],
        &["--color", "always", "profiles"],
    );
    assert!(forced.stdout.contains(ESC));
    let never = cli(&fx, &["--color", "never", "profiles"]);
    assert!(!never.stdout.contains(ESC));
    let json = cli(&fx, &["--color", "always", "--json", "profiles"]);
    assert!(!json.stdout.contains(ESC), "{}", json.stdout);
    json.json();
    let failed = cli(&fx, &["--color", "always", "delete", "openai:a"]);
    failed.expect_code(4);
    assert!(!failed.stderr.contains(ESC), "{:?}", failed.stderr);
    // On a terminal (`script`), auto colours unless NO_COLOR is set.
    let on_tty = |no_color: Option<&str>| {
        let cmdline = format!("{} --state-dir {} profiles", runner::bin(), fx.state_arg());
        let mut c = std::process::Command::new("script");
        c.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", fx.home())
            .env("RUST_LOG", "off")
            .stdin(std::process::Stdio::null())
            .args(["-qec", &cmdline, "/dev/null"]);
        if let Some(v) = no_color {
            c.env("NO_COLOR", v);
        }
        String::from_utf8_lossy(&c.output().unwrap().stdout).into_owned()
    };
    assert!(on_tty(None).contains(&format!("{ESC}[32mok")));
    assert!(!on_tty(Some("1")).contains(&format!("{ESC}[32mok")));
}

#[test]
fn tables_are_sorted_by_what_they_show_and_orders_keep_their_order() {
    let fx = three();
    let table = cli(&fx, &["profiles"]).stdout;
    let rows: Vec<&str> = table.lines().filter(|l| l.starts_with("openai:")).collect();
    assert_eq!(rows.len(), 3, "{table}");
    assert!(
        rows[0].starts_with("openai:a") && rows[2].starts_with("openai:z"),
        "{table}"
    );
    let order = cli(&fx, &["order", "get"]).stdout;
    assert!(order.contains("in its order"), "{order}");
    assert!(
        order.contains("1. openai:m") && order.contains("3. openai:a"),
        "{order}"
    );
    // Backups: newest first, as the heading says.
    cli(&fx, &["retire", "openai:m"]).expect_code(0);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    cli(&fx, &["retire", "openai:z"]).expect_code(0);
    let list = cli(&fx, &["--utc", "backups", "list"]).stdout;
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines[0], "Backups, newest first:", "{list}");
    assert!(
        lines[1].contains("before retire") && lines.len() == 3,
        "{list}"
    );
    let names: Vec<Value> = cli(&fx, &["--json", "backups", "list"]).json()["backups"]
        .as_array()
        .unwrap()
        .clone();
    let newest = names
        .iter()
        .max_by_key(|b| b["created_at"].as_str().unwrap_or("").to_owned())
        .unwrap();
    assert!(
        lines[1].ends_with(newest["name"].as_str().unwrap()),
        "{list}"
    );
}

#[test]
fn a_change_that_needs_confirmation_prints_its_plan_first() {
    let fx = three();
    let r = cli(&fx, &["delete", "openai:a"]);
    r.expect_code(4);
    for part in [
        "delete: would",
        "writes 1 layer: the shared state-db store",
        "backup: each layer above is backed up first",
    ] {
        assert!(r.stdout.contains(part), "{part}: {}", r.stdout);
    }
    assert!(
        r.stdout.contains("leaves service: openai:a"),
        "{}",
        r.stdout
    );
    assert!(
        r.stderr.contains("--confirm") && r.stderr.contains("--yes"),
        "{}",
        r.stderr
    );
    // Nothing was written: the profile is still there.
    let doc = cli(&fx, &["--json", "profiles"]).json();
    assert_eq!(doc["profiles"].as_array().unwrap().len(), 3);
}
