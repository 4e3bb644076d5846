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
