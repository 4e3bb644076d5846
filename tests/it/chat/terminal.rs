//! `codex-profiler chat` through a scripted stdin: the text fallback, the operator as admin,
//! edits printed as new blocks, and a clean end at EOF.

use crate::support::cli::run_with_stdin;

#[test]
fn help_unknown_and_eof() {
    let home = tempfile::tempdir().unwrap();
    let run = run_with_stdin(
        home.path(),
        &[],
        &["chat"],
        "/help\n/launch\n\n/codex_auth login\n",
    );
    run.expect_code(0);
    assert!(
        run.stdout.contains("/codex_auth login NAME"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("I do not know /launch"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Wrong arguments for /codex_auth login"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_pasted_callback_url_never_shows() {
    let home = tempfile::tempdir().unwrap();
    let url = "http://localhost:1455/auth/callback?code=ac_TERMINALSECRET99&state=abcdef123456";
    let run = run_with_stdin(home.path(), &[], &["chat"], &format!("{url}\n"));
    run.expect_code(0)
        .assert_no_secret(&["ac_TERMINALSECRET99", "abcdef123456"]);
    assert!(run.stdout.contains("(deleted)"), "{}", run.stdout);
}

#[test]
fn an_untrusted_endpoint_stops_the_chat_before_anything_runs() {
    let home = tempfile::tempdir().unwrap();
    let run = run_with_stdin(
        home.path(),
        &[("CODEX_PROFILER_USAGE_URL", "https://evil.example/usage")],
        &["chat"],
        "/codex_usage all\n",
    );
    run.expect_code(5);
    assert!(run.stderr.contains("not trusted"), "{}", run.stderr);
    assert!(run.stdout.trim().is_empty(), "{}", run.stdout);
}

#[test]
fn a_bad_id_list_is_a_clear_error() {
    let home = tempfile::tempdir().unwrap();
    let run = run_with_stdin(
        home.path(),
        &[("CODEX_PROFILER_ADMINS", "12,bob")],
        &["chat"],
        "",
    );
    run.expect_code(2);
    assert!(
        run.stderr
            .contains("CODEX_PROFILER_ADMINS must be a comma-separated list"),
        "{}",
        run.stderr
    );
}
