//! `auth finish --callback-url -`: the callback URL read from stdin, so that it never shows
//! in the process list. The real binary against the loopback issuer.

use super::env::{Env, Kind};
use crate::support::cli::{self, Run};
use crate::support::oauth_server::Account;

/// `auth finish --json --profile NAME --callback-url -` with `stdin` fed in; also returns the
/// argv the process got, for the check that the URL is not in it.
fn finish_from_stdin(env: &Env, name: &str, stdin: &str) -> (Run, Vec<String>) {
    let state = env.state.to_string_lossy().into_owned();
    let args = [
        "--state-dir",
        state.as_str(),
        "--json",
        "auth",
        "finish",
        "--profile",
        name,
        "--callback-url",
        "-",
    ];
    let issuer = [("CODEX_PROFILER_AUTH_ISSUER", env.server.issuer_url.as_str())];
    let run = cli::run_with_stdin(env.home(), &issuer, &args, stdin);
    (run, args.iter().map(|a| (*a).to_owned()).collect())
}

#[test]
fn a_callback_url_piped_on_stdin_logs_in_and_never_shows() {
    let env = Env::new(Kind::StateDb);
    env.server.set_account(Account::new(
        "44444444-aaaa-4bbb-8ccc-000000000004",
        "erin@example.com",
        "plus",
    ));
    let callback = env.approved_callback("erin@example.com");
    // As a paste gives it: surrounding blanks and a CRLF, then nothing more.
    let (r, argv) = finish_from_stdin(&env, "erin@example.com", &format!("  {callback} \r\n"));
    r.expect_code(0);
    let j = r.json();
    assert_eq!(j["profile"], "openai:erin@example.com");
    assert_eq!(j["new_profile"], true);
    assert_eq!(j["plan"], "plus");
    let p = &env.profiles()["openai:erin@example.com"];
    assert_eq!(p["accountId"], "44444444-aaaa-4bbb-8ccc-000000000004");
    // Not on the command line, not in anything printed (logs at debug included).
    let code = url::Url::parse(&callback)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    assert!(
        argv.iter()
            .all(|a| !a.contains(&code) && !a.contains("code="))
    );
    env.assert_clean_with(&r, &[&callback, &code]);
}

#[test]
fn an_empty_stdin_is_refused_and_nothing_is_written() {
    let env = Env::new(Kind::Json);
    let callback = env.approved_callback("frank");
    let pending = env.state.join("codex-profiler/pending.json");
    let pending_before = std::fs::read(&pending).unwrap();
    let store_before = env.store_bytes();
    for stdin in ["", "\n", "   \r\n"] {
        let (r, _) = finish_from_stdin(&env, "frank", stdin);
        r.expect_code(5);
        let j = r.json();
        assert_eq!(j["ok"], false);
        assert_eq!(j["error"], "bad_callback_url", "{j:#}");
        assert!(
            r.stderr.contains("no callback URL on stdin"),
            "{}",
            r.stderr
        );
        env.assert_clean_with(&r, &[&callback]);
    }
    assert_eq!(env.store_bytes(), store_before, "the store was written");
    assert_eq!(std::fs::read(&pending).unwrap(), pending_before);
    // The login is still pending: the same callback, now piped in, finishes it.
    let (r, _) = finish_from_stdin(&env, "frank", &callback);
    r.expect_code(0);
    env.assert_clean_with(&r, &[&callback]);
}
