//! Every bad input to `auth finish` (and an untrusted issuer for every command that talks to
//! it): exit 5, a clear error code, the store's bytes unchanged, no secret printed.

use serde_json::Value;

use super::env::{Env, Kind};
use crate::support::oauth_server::{Account, TokenReply};

/// Run `finish` with `callback` and check the refusal.
#[track_caller]
fn refused(env: &Env, callback: &str, code: &str) {
    let before = env.store_bytes();
    let profiles = env.profiles();
    let r = env.finish("carol", callback);
    r.expect_code(5);
    assert_eq!(r.json()["error"], code, "{}", r.stderr);
    assert_eq!(r.json()["ok"], false);
    assert!(r.stderr.contains("codex-profiler: "), "{}", r.stderr);
    assert_eq!(env.store_bytes(), before, "nothing may be written");
    assert_eq!(env.profiles(), profiles);
    env.assert_clean_with(&r, &[callback]);
}

fn carol(env: &Env) {
    env.server.set_account(Account::new(
        "33333333-aaaa-4bbb-8ccc-000000000003",
        "carol@example.com",
        "pro",
    ));
}

#[test]
fn token_endpoint_failures_are_refused_and_write_nothing() {
    for (reply, code) in [
        (TokenReply::InvalidGrant, "token_refused"),
        (TokenReply::ServerError, "token_server_error"),
        (TokenReply::Html, "token_response_not_json"),
        (TokenReply::Redirect, "token_server_error"),
    ] {
        let env = Env::new(Kind::StateDb);
        carol(&env);
        env.server.set_token_reply(reply);
        let cb = env.approved_callback("carol");
        refused(&env, &cb, code);
        assert!(
            env.server.rejections().is_empty(),
            "the request itself was right: {:?}",
            env.server.rejections()
        );
        assert_eq!(
            env.server.requests(),
            ["POST /oauth/token"],
            "{reply:?}: one request, no redirect followed"
        );
    }
}

#[test]
fn a_token_without_an_account_id_is_refused() {
    let env = Env::new(Kind::Json);
    env.server.set_account(Account {
        account_id: None,
        email: "carol@example.com".into(),
        plan: "plus".into(),
    });
    let cb = env.approved_callback("carol");
    refused(&env, &cb, "token_missing_account_id");
}

#[test]
fn state_problems_are_refused_before_any_request() {
    let env = Env::new(Kind::StateDb);
    carol(&env);
    let cb = env.approved_callback("carol");
    let tampered = cb.replace("state=", "state=00");
    refused(&env, &tampered, "state_mismatch");
    refused(
        &env,
        cb.split("&state=").next().unwrap(),
        "callback_missing_state",
    );
    refused(
        &env,
        "http://localhost:1455/auth/callback?error=access_denied&error_description=no&state=ab",
        "authorization_denied",
    );
    refused(&env, "not a callback at all", "bad_callback_url");
    assert_eq!(env.server.request_count(), 0, "nothing was sent");
    // The right one still works (the refusals above consumed nothing but the tampered state
    // never matched), and is single use.
    let r = env.finish("carol", &cb);
    r.expect_code(0);
    refused(&env, &cb, "no_pending_login");
    // Another profile's login cannot be finished under this name.
    let cb2 = env.approved_callback("someone-else");
    refused(&env, &cb2, "no_pending_login");
}

#[test]
fn a_state_is_consumed_even_when_the_exchange_fails() {
    let env = Env::new(Kind::StateDb);
    carol(&env);
    env.server.set_token_reply(TokenReply::ServerError);
    let cb = env.approved_callback("carol");
    refused(&env, &cb, "token_server_error");
    env.server.set_token_reply(TokenReply::Ok);
    refused(&env, &cb, "no_pending_login");
}

#[test]
fn an_expired_login_is_refused() {
    let env = Env::new(Kind::StateDb);
    carol(&env);
    let cb = env.approved_callback("carol");
    let path = env.state.join("codex-profiler/pending.json");
    let mut doc: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    doc["logins"][0]["expiresAtMs"] = Value::from(chrono::Utc::now().timestamp_millis() - 1);
    std::fs::write(&path, doc.to_string()).unwrap();
    refused(&env, &cb, "login_expired");
    assert_eq!(env.server.request_count(), 0);
}

#[test]
fn an_untrusted_issuer_is_refused_before_any_request() {
    let env = Env::new(Kind::StateDb);
    // 0.0.0.0 reaches this machine's loopback when connected to, but is not a loopback
    // address: were it trusted, the server would see the requests.
    let port = env.server.issuer_url.rsplit(':').next().unwrap().to_owned();
    let evil = format!("http://0.0.0.0:{port}");
    let bad = [("CODEX_PROFILER_AUTH_ISSUER", evil.as_str())];
    let cb = "http://localhost:1455/auth/callback?code=ac_x123456&state=ab12cd34";
    for args in [
        vec!["--json", "auth", "start", "--profile", "carol"],
        vec![
            "--json",
            "auth",
            "finish",
            "--profile",
            "carol",
            "--callback-url",
            cb,
        ],
        vec!["--json", "auth", "device", "--profile", "carol"],
    ] {
        let before = env.store_bytes();
        let r = env.run_with(&bad, &args);
        r.expect_code(5);
        assert_eq!(r.json()["error"], "untrusted_endpoint");
        assert_eq!(env.store_bytes(), before);
        r.assert_no_secret(&["ac_x123456", "ab12cd34"]);
    }
    let r = env.run_with(
        &[(
            "CODEX_PROFILER_AUTH_ISSUER",
            "https://auth.openai.com.evil.example",
        )],
        &["auth", "start", "--profile", "carol"],
    );
    r.expect_code(5);
    assert!(r.stderr.contains("not trusted"), "{}", r.stderr);
    assert_eq!(env.server.request_count(), 0, "the server saw nothing");
    assert!(!env.state.join("codex-profiler/pending.json").exists());
}

#[test]
fn a_profile_being_refreshed_is_not_overwritten() {
    let env = Env::new(Kind::StateDb);
    // Fence alice the way the gateway does while it refreshes her token.
    let conn = rusqlite::Connection::open(env.store_path()).unwrap();
    let mut store: Value = serde_json::from_str(
        &conn
            .query_row(
                "SELECT value_json FROM config_machine_state WHERE state_key = 'authProfiles.store'",
                [],
                |r| r.get::<_, String>(0),
            )
            .unwrap(),
    )
    .unwrap();
    let alice = &mut store["profiles"]["openai:alice@example.com"];
    alice["access"] = "openclaw-oauth-refresh-fence:v1:abc".into();
    alice["refresh"] = "openclaw-oauth-refresh-fence:v1:abc".into();
    alice["expires"] = 1.into();
    conn.execute(
        "UPDATE config_machine_state SET value_json = ?1 WHERE state_key = 'authProfiles.store'",
        [store.to_string()],
    )
    .unwrap();
    drop(conn);
    // The server's default account is alice's.
    let before = env.store_bytes();
    let cb = env.approved_callback("alice@example.com");
    let r = env.finish("alice@example.com", &cb);
    assert_ne!(r.code, 0);
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert_eq!(r.json()["error"], "profile_fenced", "{}", r.stderr);
    assert_eq!(env.store_bytes(), before);
    env.assert_clean(&r);
}

#[test]
fn an_unreachable_issuer_is_a_runtime_error_that_writes_nothing() {
    let env = Env::new(Kind::StateDb);
    carol(&env);
    let cb = env.approved_callback("carol");
    // A loopback port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let closed = format!("http://127.0.0.1:{port}");
    let before = env.store_bytes();
    let r = env.run_with(
        &[("CODEX_PROFILER_AUTH_ISSUER", closed.as_str())],
        &[
            "--json",
            "auth",
            "finish",
            "--profile",
            "carol",
            "--callback-url",
            &cb,
        ],
    );
    r.expect_code(1);
    assert_eq!(r.json()["error"], "connection_error");
    assert_eq!(env.store_bytes(), before);
    env.assert_clean_with(&r, &[&cb]);
}

/// A callback pasted without `--callback-url` (or with the flag misspelled) is a clap error;
/// clap quotes the stray word, so the binary must take it out before printing: exit 2, no
/// code or state on either stream, and the JSON error document with `--json`.
#[test]
fn a_callback_outside_its_flag_is_never_echoed() {
    let home = tempfile::tempdir().unwrap();
    let code = "ac_StrayCode0123456789";
    let state = "0123456789abcdef0123456789abcdef";
    let url = format!("http://localhost:1455/auth/callback?code={code}&state={state}");
    let pair = format!("{code}#{state}");
    let misspelled = format!("--callbak-url={url}");
    for args in [
        vec!["auth", "finish", "--profile", "a", url.as_str()],
        vec!["--json", "auth", "finish", "--profile", "a", pair.as_str()],
        vec!["auth", "finish", "--profile", "a", misspelled.as_str()],
    ] {
        let r = crate::support::cli::run(home.path(), &[], &args);
        r.expect_code(2).assert_no_secret(&[code, state]);
        assert!(r.stderr.contains("error:"), "{}", r.stderr);
        if args[0] == "--json" {
            assert_eq!(r.json()["error"], "usage");
        }
    }
}

#[test]
fn the_bad_callback_message_is_whole_and_clap_misuse_is_json_with_json() {
    let env = Env::new(Kind::StateDb);
    let r = env.run(&[
        "auth",
        "finish",
        "--profile",
        "x",
        "--callback-url",
        "http://localhost:1455/other",
    ]);
    r.expect_code(5);
    assert!(
        r.stderr
            .contains("(http://localhost:1455/auth/callback?code=…&state=…)"),
        "{}",
        r.stderr
    );
    // A command-line misuse with --json: the error document on stdout, exit 2.
    let r = env.run(&["--json", "order", "set", "--no-such-flag"]);
    r.expect_code(2);
    let j = r.json();
    assert_eq!(j["ok"], false, "{}", r.stdout);
    assert_eq!(j["error"], "usage");
    assert!(
        j["message"].as_str().unwrap().contains("--no-such-flag"),
        "{j}"
    );
    // Without --json: stdout stays empty.
    let r = env.run(&["order", "set", "--no-such-flag"]);
    r.expect_code(2);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
}

/// The token endpoint cutting the connection mid-reply, or answering a burst of 5xx: a clear
/// error (a connection error, exit 1; the server's refusal, exit 5), nothing written, no
/// secret shown. The exchange is never retried: an authorization code is single-use.
#[test]
fn a_cut_or_failing_token_endpoint_is_a_clear_error_and_writes_nothing() {
    for (reply, exit, code) in [
        (TokenReply::Cut, 1, "connection_error"),
        (TokenReply::ServerErrorBurst(3), 5, "token_server_error"),
    ] {
        let env = Env::new(Kind::StateDb);
        carol(&env);
        env.server.set_token_reply(reply);
        let cb = env.approved_callback("carol");
        let before = env.store_bytes();
        let r = env.finish("carol", &cb);
        assert_ne!(r.code, 0, "{reply:?}: {}", r.stderr);
        assert!(
            r.stderr.lines().any(|l| l.starts_with("codex-profiler: ")),
            "{}",
            r.stderr
        );
        assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
        assert_eq!(
            env.store_bytes(),
            before,
            "{reply:?}: nothing may be written"
        );
        env.assert_clean_with(&r, &[&cb]);
        assert_eq!(
            (r.code, r.json()["error"].clone()),
            (exit, code.into()),
            "{reply:?}"
        );
    }
}
