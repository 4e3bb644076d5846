//! End to end with the real OpenClaw 2026.9.6 gateway (`openclaw gateway run`), offline: its
//! Telegram channel at the fake Bot API (`channels.telegram.apiRoot`), this repository's
//! plugin loaded from `openclaw-plugin/`, the real binary's `plugin-host` on a state-db
//! fixture, the loopback usage and OAuth servers. The gateway is slow to start, so one test
//! runs the whole story on one gateway.
//!
//! The gateway runs in its own network namespace with only loopback (a message that fell
//! through to the agent would make it call the model provider with the store's tokens): the
//! outer test re-runs this test binary under `unshare -n`, and the inner test does the work.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;

use super::gateway_kit::{
    Senders, inside as is_inside, push_command, rerun_in_netns, start_gateway, wait_for,
};
use super::host::{Setup, setup};
use crate::support::bot_api::FakeBotApi;
use crate::support::cli::assert_no_secret_in;
use crate::support::fixtures::tokens_of;
use crate::support::oauth_server;

const OWNER: u64 = 1001;
const FRIEND: u64 = 2002;

#[test]
fn the_plugin_in_the_real_gateway() {
    println!("{}", rerun_in_netns("plugin::gateway::inside", &[]));
}

/// Every file under `dir` but `skip`, with its text (binary files lossily).
fn files(dir: &Path, skip: &dyn Fn(&Path) -> bool) -> Vec<(std::path::PathBuf, String)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if skip(&p) {
            continue;
        }
        if p.is_dir() {
            out.extend(files(&p, skip));
        } else if let Ok(bytes) = std::fs::read(&p) {
            out.push((p, String::from_utf8_lossy(&bytes).into_owned()));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by the_plugin_in_the_real_gateway inside its own network namespace"]
async fn inside() {
    if !is_inside() {
        return;
    }
    let Setup {
        fx,
        store,
        server: usage,
    } = setup();
    let issuer = oauth_server::spawn();
    let api = FakeBotApi::start().await;
    let home = fx.home().to_path_buf();
    let state = fx.state_dir();
    let env = json!({
        "OPENCLAW_STATE_DIR": state, "CODEX_PROFILER_USAGE_URL": usage.url,
        "CODEX_PROFILER_AUTH_ISSUER": issuer.issuer_url, "RUST_LOG": "debug",
    });
    let started = Instant::now();
    let who = Senders {
        owner: OWNER,
        allow: &[OWNER, FRIEND],
    };
    let gw = start_gateway((&home, &state), &api, &who, "debug", env).await;
    let cfg_path = gw.config.clone();
    println!("gateway polling after {:?}", started.elapsed());

    // `/codex_usage all`: OpenClaw's placeholder at once, then edited into the result.
    // (Its timing against our own adapter: `bench.rs`, docs/PERFORMANCE.md.)
    let mark = api.requests().len();
    push_command(&api, OWNER, "/codex_usage all");
    let placeholder = wait_for(&api, mark, OWNER, "Running Codex usage check").await;
    assert!(placeholder.is("sendMessage"));
    let id = placeholder.message_id();
    let result = wait_for(&api, mark, OWNER, "bob@example.com").await;
    assert!(result.is("editMessageText"), "{}", api.wire_text());
    assert_eq!(result.message_id(), id, "the placeholder itself is edited");
    assert!(result.text().contains("alice@example.com"));
    assert_eq!(usage.total_hits(), 2);

    // `/codex_usage`: the menu, with callback buttons on the edited placeholder.
    let mark = api.requests().len();
    push_command(&api, OWNER, "/codex_usage");
    let menu = wait_for(&api, mark, OWNER, "Which Codex profiles").await;
    assert!(menu.is("editMessageText"));
    let default = menu.button("Default");
    assert!(default.starts_with("codex_auth_usage:"), "{default}");

    // A tap runs the check and edits the menu message in place.
    let mark = api.requests().len();
    api.push_tap(OWNER, OWNER as i64, menu.message_id(), &default);
    let tapped = wait_for(&api, mark, OWNER, "alice@example.com").await;
    assert!(tapped.is("editMessageText"));
    assert_eq!(tapped.message_id(), menu.message_id());
    assert_eq!(usage.total_hits(), 3);

    // The same tap within 20 s runs nothing; `/codex_usage all` again neither.
    let mark = api.requests().len();
    api.push_tap(OWNER, OWNER as i64, menu.message_id(), &default);
    wait_for(&api, mark, OWNER, "Already running").await;
    let mark = api.requests().len();
    push_command(&api, OWNER, "/codex_usage all");
    wait_for(&api, mark, OWNER, "already").await;
    assert_eq!(usage.total_hits(), 3, "duplicates ran nothing");

    // An allowlisted sender who is not the gateway's owner may not log in.
    let mark = api.requests().len();
    push_command(&api, FRIEND, "/codex_auth login carol");
    let refused = wait_for(&api, mark, FRIEND, &FRIEND.to_string()).await;
    assert!(
        !refused.text().contains("auth.openai") && !refused.text().contains("http://127.0.0.1"),
        "{}",
        refused.text()
    );

    // The owner's login is the device login (a pasted address would stay in the gateway's
    // files), saying why: the code on the placeholder, the outcome after.
    let mark = api.requests().len();
    push_command(&api, OWNER, "/codex_auth login laptop");
    let code = wait_for(&api, mark, OWNER, "/codex/device").await;
    assert!(code.is("editMessageText"));
    assert!(
        code.text().contains("Logins here use a device code"),
        "{}",
        code.text()
    );
    wait_for(&api, mark, OWNER, "Device login finished").await;

    // Paste-back is refused (OpenClaw keeps the command's text), the device login offered.
    let url = "http://localhost:1455/auth/callback?code=ac_GATEWAYSECRET55&state=0ddba11cafe77";
    let mark = api.requests().len();
    push_command(&api, OWNER, &format!("/codex_auth finish laptop {url}"));
    let refusal = wait_for(&api, mark, OWNER, "device").await;
    assert!(
        refusal.text().contains("can't take a login address"),
        "{}",
        refusal.text()
    );

    // Secrets: none on the Bot API wire, in the gateway's logs, or in any file it wrote;
    // the state database holds the tokens by design (it is the auth store), and OpenClaw's
    // Telegram ingress queue keeps each raw update there, the pasted URL included: the
    // reason paste-back is refused in this mode.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut secrets = tokens_of(&store);
    secrets.extend(issuer.secrets());
    secrets.extend(["ac_GATEWAYSECRET55".to_owned(), "0ddba11cafe77".to_owned()]);
    let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let wire: String = api
        .requests()
        .iter()
        .filter(|r| !r.is("getUpdates"))
        .map(|r| r.raw.clone())
        .collect::<Vec<_>>()
        .join("\n");
    assert_no_secret_in(&wire, &refs);
    // OpenClaw's SQLite databases are its credential stores (and its ingress queue), and our
    // backups are snapshots of the store before a change (owner-only, by design); every other
    // file (logs, sessions, transcripts, caches) must be clean.
    let is_db = |p: &Path| {
        p.ends_with("codex-profiler/backups")
            || p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.contains(".sqlite"))
    };
    let written = files(&home, &|p| is_db(p) || p == cfg_path.as_path());
    let written = written
        .into_iter()
        .chain(files(Path::new("/tmp/openclaw"), &|_| false));
    let mut logs = 0;
    for (path, text) in written {
        logs += usize::from(text.contains("[gateway]"));
        for s in &refs {
            assert!(!text.contains(s), "a secret is in {}", path.display());
        }
    }
    assert!(logs > 0, "the gateway's logs were read");
    drop(gw);
}
