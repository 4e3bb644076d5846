//! The CLI flows of the sweep, each a process of the real binary: both PKCE finishes (stdin
//! and argument), the device login, the Codex CLI import, every read command, every change
//! (one with a queued gateway restart), backups, the watcher.

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use serde_json::json;

use super::secrets::{LONG, SHORT};
use super::world::{ALICE, BOB, World, access_token, nonce};
use crate::support::oauth_server::{REDIRECT_URI, TokenReply};

fn pkce_login(w: &mut World, name: &str, by_stdin: bool) {
    w.next_account(name);
    let start = w.run(&["auth", "start", "--profile", name], None);
    start.expect_code(0);
    let url = w.authorize_url(&start.stdout);
    let callback = w.approve(&url);
    let line = format!("{callback}\n");
    let (arg, stdin) = if by_stdin {
        ("-", Some(line.as_str()))
    } else {
        // The operator chose to put it on the command line: the test's doing, not a leak.
        w.given.push(callback.clone());
        (callback.as_str(), None)
    };
    let args = ["--json", "auth", "finish", "--profile", name];
    let finish = w.run(&[&args[..], &["--callback-url", arg]].concat(), stdin);
    finish.expect_code(0);
    assert_eq!(finish.json()["profile"], format!("openai:{name}"));
}

/// The refusals, where an error message could quote what it refuses: a callback used twice,
/// one with a state nobody started, one with `error=`, a code the issuer rejects.
fn refusals(w: &mut World) {
    let finish = |w: &mut World, name: &str, input: &str| {
        let args = [
            "--json",
            "auth",
            "finish",
            "--profile",
            name,
            "--callback-url",
            "-",
        ];
        w.run(&args, Some(&format!("{input}\n")))
    };
    w.next_account("again");
    let start = w.run(&["auth", "start", "--profile", "again"], None);
    let url = w.authorize_url(&start.stdout);
    let callback = w.approve(&url);
    finish(w, "again", &callback).expect_code(0);
    finish(w, "again", &callback).expect_code(5);
    let (code, state) = (format!("ac_SWEEPforged{}", nonce()), nonce());
    w.secrets.add("authorization code", &code, SHORT);
    w.secrets.add("OAuth state", &state, SHORT);
    let forged = format!("{REDIRECT_URI}?code={code}&state={state}");
    w.secrets.add("callback URL", &forged, LONG);
    finish(w, "again", &forged).expect_code(5);
    finish(w, "again", &format!("{code}#{state}")).expect_code(5);

    let start = w.run(&["auth", "start", "--profile", "denied"], None);
    let url = w.authorize_url(&start.stdout);
    let callback = w.approve(&url);
    let state = callback
        .rsplit("state=")
        .next()
        .unwrap_or_default()
        .to_owned();
    let denied = format!("{REDIRECT_URI}?error=access_denied&state={state}");
    finish(w, "denied", &denied).expect_code(5);

    let start = w.run(&["auth", "start", "--profile", "rejected"], None);
    let url = w.authorize_url(&start.stdout);
    let callback = w.approve(&url);
    w.issuer.set_token_reply(TokenReply::InvalidGrant);
    let r = finish(w, "rejected", &callback);
    w.issuer.set_token_reply(TokenReply::Ok);
    assert_ne!(r.code, 0, "an invalid_grant is refused");
}

/// The Codex CLI's own login, imported.
fn import(w: &mut World) {
    let far = chrono::Utc::now().timestamp() + 10 * 86_400;
    let at = access_token("carol@example.com", "acct-carol", "team", far);
    let id = access_token("carol@example.com", "acct-carol", "team", far);
    let rt = "SWEEPref_codexcli_0123456789abcdef";
    let key = "SWEEPsk-codexcli-0123456789";
    w.secrets.add("access token", &at, LONG);
    w.secrets.add("id token", &id, LONG);
    w.secrets.add("refresh token", rt, SHORT);
    w.secrets.add("API key of another provider", key, SHORT);
    w.access.push(at.clone());
    let doc = json!({"auth_mode": "chatgpt", "OPENAI_API_KEY": key, "tokens":
        {"access_token": at, "refresh_token": rt, "id_token": id, "account_id": "acct-carol"}});
    crate::support::fixtures::write_json(&w.fx.home().join(".codex/auth.json"), &doc);
    w.run(&["auth", "import-codex-cli", "--profile", "carol"], None)
        .expect_code(0);
}

/// Wait for the queued restart (`sleep 0.3`) to have run, so its processes were sampled.
fn wait_for_the_restart(w: &World) {
    let path = w.fx.state_dir().join("codex-profiler/apply.json");
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let doc = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok());
        if doc
            .as_ref()
            .is_some_and(|d| d["last"].is_object() && d["state"] == "idle")
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the queued restart did not finish"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Every CLI flow.
pub fn run_all(w: &mut World) {
    pkce_login(w, "work", true);
    pkce_login(w, "work2", false);
    refusals(w);
    w.next_account("dev");
    w.run(&["--json", "auth", "device", "--profile", "dev"], None)
        .expect_code(0);
    import(w);
    for args in [
        &["usage"][..],
        &["usage", "--format", "json"],
        &["--json", "usage", "--debug"],
        &["profiles"],
        &["--json", "profiles"],
        &["auth", "status"],
        &["--json", "auth", "status"],
        &["order", "get"],
        &["--json", "order", "get"],
        &["layers"],
        &["--json", "layers"],
        &["doctor"],
        &["--json", "doctor"],
        &["rotation"],
        &["usage", "history"],
        &["watch", "--once"],
        &["watch", "--once", "--json"],
    ] {
        let r = w.run(args, None);
        assert!(
            r.code == 0 || r.code == 1,
            "`{args:?}` exit {}: {}",
            r.code,
            r.stderr
        );
    }
    w.run(
        &["--json", "order", "set", BOB, ALICE, "--queue-apply"],
        None,
    )
    .expect_code(0);
    wait_for_the_restart(w);
    // Gateway-native mode: `openclaw` is a stand-in that takes a moment and changes nothing
    // (the change then fails its verification, which is fine here: its process is sampled).
    let fake = w.fx.home().join("bin/openclaw");
    std::fs::create_dir_all(w.fx.home().join("bin")).expect("bin");
    std::fs::write(&fake, "#!/bin/sh\nsleep 0.3\n").expect("fake openclaw");
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    let bin = fake.to_string_lossy().into_owned();
    let r = w.run_env(
        &["--json", "order", "set", ALICE, BOB, "--via-gateway"],
        None,
        &[("CODEX_PROFILER_OPENCLAW_BIN", &bin)],
    );
    assert_ne!(
        r.code, 0,
        "the stand-in changed nothing, so nothing was verified"
    );
    w.run(&["--json", "unblock", BOB, "--force"], None);
    w.run(&["--json", "retire", "work2"], None).expect_code(0);
    w.run(&["--json", "delete", "dev", "--yes"], None)
        .expect_code(0);
    let list = w.run(&["--json", "backups", "list"], None);
    list.expect_code(0);
    let name = list.json()["backups"][0]["name"]
        .as_str()
        .expect("a backup name")
        .to_owned();
    w.run(&["--json", "backups", "restore", &name, "--yes"], None)
        .expect_code(0);
    w.run(&["usage", "history", "--png", "tmp/chart.png"], None);
    w.run(&["doctor"], None);
}
