//! The real `codex-profiler bot` binary against the fake Bot API.

use crate::support::bot_api::TOKEN;
use crate::support::cli;

#[test]
fn no_token_exits_2_and_says_what_to_set() {
    let home = tempfile::tempdir().unwrap();
    let run = cli::run(home.path(), &[("CODEX_PROFILER_ADMINS", "1")], &["bot"]);
    run.expect_code(2);
    assert!(run.stderr.contains("TELEGRAM_BOT_TOKEN"), "{}", run.stderr);
    assert!(run.stderr.contains("codex-profiler chat"), "{}", run.stderr);
}

#[test]
fn no_admin_refuses_to_start_naming_the_variable() {
    let home = tempfile::tempdir().unwrap();
    let run = cli::run(home.path(), &[("TELEGRAM_BOT_TOKEN", TOKEN)], &["bot"]);
    run.expect_code(2);
    assert!(
        run.stderr.contains("CODEX_PROFILER_ADMINS"),
        "{}",
        run.stderr
    );
    run.assert_no_secret(&[TOKEN]);
}
