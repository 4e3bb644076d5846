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
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::bot_api::{FakeBotApi, Recorded, TOKEN};
use crate::support::cli::{assert_no_secret_in, bin};
use crate::support::fixtures::{Fixture, oauth_profile, tokens_of};
use crate::support::oauth_server;
use crate::support::openclaw::openclaw;
use crate::support::usage_server::{self, Reply};
use crate::telegram::process::BotProcess;

const INSIDE: &str = "CODEX_PROFILER_TEST_IN_NETNS";
const OWNER: u64 = 1001;
const FRIEND: u64 = 2002;
const ALICE: &str = "openai:alice@example.com";
const BOB: &str = "openai:bob@example.com";
const SLOW: Duration = Duration::from_secs(60);

#[test]
fn the_plugin_in_the_real_gateway() {
    let oc = openclaw();
    let me = std::env::current_exe().unwrap();
    let out = Command::new("unshare")
        .args(["-n", "sh", "-c", r#"ip link set lo up && exec "$0" "$@""#])
        .arg(&me)
        .args([
            "plugin::gateway::inside",
            "--exact",
            "--ignored",
            "--nocapture",
        ])
        .env(INSIDE, "1")
        .env(
            "CODEX_PROFILER_TEST_OPENCLAW_DIR",
            oc.bin()
                .parent()
                .unwrap()
                .parent()
                .unwrap()
                .parent()
                .unwrap(),
        )
        .output()
        .expect("unshare (util-linux) runs the gateway test in its own network namespace");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "the gateway test failed:\n{stdout}\n{stderr}"
    );
    println!("{stdout}");
}

struct Gateway {
    child: Child,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn config(home: &Path, api: &str, state: &Path, env: Value) -> Value {
    json!({
        "gateway": {"mode": "local", "port": 18789, "bind": "loopback",
                    "auth": {"mode": "token", "token": "gw-test-token-0123456789abcdef"}},
        "commands": {"ownerAllowFrom": [format!("telegram:{OWNER}")]},
        "channels": {"telegram": {
            "enabled": true, "botToken": TOKEN, "apiRoot": api.trim_end_matches('/'),
            "dmPolicy": "allowlist", "allowFrom": [OWNER.to_string(), FRIEND.to_string()],
            "capabilities": {"inlineButtons": "dm"},
        }},
        "logging": {"file": home.join("gateway-file.log"), "level": "debug"},
        "plugins": {
            "allow": ["codex-profiler"],
            "load": {"paths": [concat!(env!("CARGO_MANIFEST_DIR"), "/openclaw-plugin")]},
            "entries": {"codex-profiler": {"enabled": true, "config": {
                "binary": bin(), "env": env,
            }}},
        },
        "_state": state,
    })
}

fn is_to(r: &Recorded, chat: u64) -> bool {
    r.body["chat_id"] == json!(chat) || r.body["chat_id"] == json!(chat.to_string())
}

/// A typed command, with the `bot_command` entity Telegram adds (so it is dispatched as a
/// native command, with the progress placeholder).
fn push_command(api: &FakeBotApi, user: u64, text: &str) {
    let len = text.split_whitespace().next().unwrap().len();
    api.push_update(json!({"message": {
        "message_id": 10_000 + api.pending_updates() as i64 + api.requests().len() as i64,
        "date": 1_700_000_000,
        "chat": {"id": user, "type": "private", "first_name": "U"},
        "from": {"id": user, "is_bot": false, "first_name": "U"},
        "text": text,
        "entities": [{"type": "bot_command", "offset": 0, "length": len}],
    }}));
}

/// Wait for a message to `chat` (sent or edited) whose text contains `needle`, after `from`
/// requests.
async fn wait_for(api: &FakeBotApi, from: usize, chat: u64, needle: &str) -> Recorded {
    let n = needle.to_owned();
    api.wait_until(SLOW, &format!("{needle:?} to {chat}"), move |rs| {
        rs.iter()
            .skip(from)
            .any(|r| is_to(r, chat) && r.text().contains(&n))
    })
    .await;
    api.requests()
        .into_iter()
        .skip(from)
        .find(|r| is_to(r, chat) && r.text().contains(needle))
        .unwrap()
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
    if std::env::var_os(INSIDE).is_none() {
        return;
    }
    let oc = openclaw();
    let fx = Fixture::new();
    let far = chrono::Utc::now().timestamp_millis() + 10 * 24 * 3600 * 1000;
    let store = json!({"version": 1, "profiles": {
        ALICE: oauth_profile("openai", "alice@example.com", "acc-alice", "plus", far),
        BOB: oauth_profile("openai", "bob@example.com", "acc-bob", "pro", far),
    }});
    fx.state_db(&store, None);
    let access = |id: &str| store["profiles"][id]["access"].as_str().unwrap().to_owned();
    let usage = usage_server::spawn([
        (
            access(ALICE).as_str(),
            Reply::Json(usage_server::full_payload()),
        ),
        (
            access(BOB).as_str(),
            Reply::Json(usage_server::full_payload()),
        ),
    ]);
    let issuer = oauth_server::spawn();
    let api = FakeBotApi::start().await;
    let home = fx.home().to_path_buf();
    let state = fx.state_dir();
    let cfg_path = home.join("openclaw.json");
    let env = json!({
        "OPENCLAW_STATE_DIR": state, "CODEX_PROFILER_USAGE_URL": usage.url,
        "CODEX_PROFILER_AUTH_ISSUER": issuer.issuer_url, "RUST_LOG": "debug",
    });
    let mut cfg = config(&home, &api.url, &state, env);
    cfg.as_object_mut().unwrap().remove("_state");
    std::fs::write(&cfg_path, serde_json::to_vec_pretty(&cfg).unwrap()).unwrap();
    let log = std::fs::File::create(home.join("gateway-stdout.log")).unwrap();
    let started = Instant::now();
    let _gw = Gateway {
        child: Command::new(oc.bin())
            .args(["gateway", "run"])
            .env_clear()
            .env("PATH", oc.path_env())
            .env("HOME", &home)
            .env("OPENCLAW_STATE_DIR", &state)
            .env("OPENCLAW_CONFIG_PATH", &cfg_path)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("openclaw gateway run"),
    };
    // Ready once it polls for updates.
    api.wait_calls("getUpdates", 1, Duration::from_secs(240))
        .await;
    println!("gateway polling after {:?}", started.elapsed());

    // `/codex_usage all`: OpenClaw's placeholder at once, then edited into the result.
    let mark = api.requests().len();
    let t0 = Instant::now();
    push_command(&api, OWNER, "/codex_usage all");
    let placeholder = wait_for(&api, mark, OWNER, "Running Codex usage check").await;
    assert!(placeholder.is("sendMessage"));
    let to_placeholder = t0.elapsed();
    let id = placeholder.message_id();
    let result = wait_for(&api, mark, OWNER, "bob@example.com").await;
    let to_result = t0.elapsed();
    assert!(result.is("editMessageText"), "{}", api.wire_text());
    assert_eq!(result.message_id(), id, "the placeholder itself is edited");
    assert!(result.text().contains("alice@example.com"));
    println!("plugin: /codex_usage all -> placeholder {to_placeholder:?}, -> result {to_result:?}");
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

    // The owner's device login: the code on the placeholder, the outcome after.
    let mark = api.requests().len();
    push_command(&api, OWNER, "/codex_auth device laptop");
    let code = wait_for(&api, mark, OWNER, "/codex/device").await;
    assert!(code.is("editMessageText"));
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

    // The same request through our own Telegram adapter, in the same run (docs/PERFORMANCE.md).
    let host_rss = plugin_host_pid().map(rss_kib);
    drop(_gw);
    let api2 = FakeBotApi::start().await;
    let owner = OWNER.to_string();
    let bot = BotProcess::start(
        &home,
        &api2,
        &[
            ("OPENCLAW_STATE_DIR", state.to_str().unwrap()),
            ("CODEX_PROFILER_USAGE_URL", usage.url.as_str()),
            ("CODEX_PROFILER_ADMINS", owner.as_str()),
        ],
    );
    api2.wait_calls("getUpdates", 1, SLOW).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let bot_rss = rss_kib(bot.id());
    let t0 = Instant::now();
    api2.push_text(OWNER, OWNER as i64, "/codex_usage all");
    wait_for(&api2, 0, OWNER, "Running Codex usage check").await;
    let bot_placeholder = t0.elapsed();
    wait_for(&api2, 0, OWNER, "bob@example.com").await;
    let bot_result = t0.elapsed();
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64().max(1e-6);
    println!(
        "bot adapter: /codex_usage all -> placeholder {bot_placeholder:?}, -> result {bot_result:?}"
    );
    println!(
        "plugin / bot: placeholder x{:.2}, result x{:.2}",
        ratio(to_placeholder, bot_placeholder),
        ratio(to_result, bot_result)
    );
    println!("idle RSS: plugin-host {host_rss:?} KiB, bot {bot_rss} KiB");
}

/// The `plugin-host` child the gateway's plugin started.
fn plugin_host_pid() -> Option<u32> {
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let pid: u32 = e.file_name().to_str()?.parse().ok()?;
        let cmd = std::fs::read(e.path().join("cmdline")).ok()?;
        let cmd = String::from_utf8_lossy(&cmd);
        (cmd.contains("codex-profiler") && cmd.contains("plugin-host")).then_some(pid)
    })
}

/// Resident memory of `pid`, in KiB (0 when it cannot be read).
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}
