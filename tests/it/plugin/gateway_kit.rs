//! What the end-to-end test (`gateway`) and the bench (`bench`) share: re-running a test of
//! this binary inside its own network namespace (only loopback), the real OpenClaw gateway
//! with its Telegram channel at the fake Bot API and this repository's plugin loaded, typed
//! commands, waiting for a message, and the memory of a process.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::bot_api::{FakeBotApi, Recorded, TOKEN};
use crate::support::cli::bin;
use crate::support::openclaw::openclaw;

/// Set for the inner test, which returns at once without it.
pub const INSIDE: &str = "CODEX_PROFILER_TEST_IN_NETNS";

/// How long one expected message may take.
pub const SLOW: Duration = Duration::from_secs(60);

/// Whether this is the inner run (inside the namespace).
pub fn inside() -> bool {
    std::env::var_os(INSIDE).is_some()
}

/// Run the ignored test `test` of this binary under `unshare -n` with loopback up and `env`
/// on top; panics unless it passed. Gives back its stdout.
pub fn rerun_in_netns(test: &str, env: &[(&str, String)]) -> String {
    let oc = openclaw();
    let me = std::env::current_exe().unwrap();
    let dir = oc
        .bin()
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .parent()
        .unwrap();
    let out = Command::new("unshare")
        .args(["-n", "sh", "-c", r#"ip link set lo up && exec "$0" "$@""#])
        .arg(&me)
        .args([test, "--exact", "--ignored", "--nocapture"])
        .env(INSIDE, "1")
        .env("CODEX_PROFILER_TEST_OPENCLAW_DIR", dir)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .expect("unshare (util-linux) runs the gateway in its own network namespace");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{test} failed:\n{stdout}\n{stderr}"
    );
    stdout
}

/// A running `openclaw gateway run`, killed on drop.
pub struct Gateway {
    child: Child,
    /// Its `openclaw.json`.
    pub config: PathBuf,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Who the gateway lets in: its owner, and every sender on the Telegram allowlist.
pub struct Senders<'a> {
    /// `commands.ownerAllowFrom` (as `telegram:<id>`).
    pub owner: u64,
    /// `channels.telegram.allowFrom`.
    pub allow: &'a [u64],
}

/// The gateway's config: Telegram at `api` for `who`, buttons in private chats, logs at
/// `level`, the plugin from this repository with the host's `env`.
fn config(home: &Path, api: &str, who: &Senders<'_>, level: &str, env: Value) -> Value {
    let owner = who.owner;
    let allow = who.allow;
    let allow: Vec<String> = allow.iter().map(u64::to_string).collect();
    json!({
        "gateway": {"mode": "local", "port": 18789, "bind": "loopback",
                    "auth": {"mode": "token", "token": "gw-test-token-0123456789abcdef"}},
        "commands": {"ownerAllowFrom": [format!("telegram:{owner}")]},
        "channels": {"telegram": {
            "enabled": true, "botToken": TOKEN, "apiRoot": api.trim_end_matches('/'),
            "dmPolicy": "allowlist", "allowFrom": allow,
            "capabilities": {"inlineButtons": "dm"},
        }},
        "logging": {"file": home.join("gateway-file.log"), "level": level},
        "plugins": {
            "allow": ["codex-profiler"],
            "load": {"paths": [concat!(env!("CARGO_MANIFEST_DIR"), "/openclaw-plugin")]},
            "entries": {"codex-profiler": {"enabled": true, "config": {
                "binary": bin(), "env": env,
            }}},
        },
    })
}

/// Start the real gateway under `home` (state in `state`) against `api`, and wait until it
/// polls for updates.
pub async fn start_gateway(
    (home, state): (&Path, &Path),
    api: &FakeBotApi,
    who: &Senders<'_>,
    level: &str,
    env: Value,
) -> Gateway {
    let oc = openclaw();
    let cfg_path = home.join("openclaw.json");
    let cfg = config(home, &api.url, who, level, env);
    std::fs::write(&cfg_path, serde_json::to_vec_pretty(&cfg).unwrap()).unwrap();
    let log = std::fs::File::create(home.join("gateway-stdout.log")).unwrap();
    let gw = Gateway {
        child: Command::new(oc.bin())
            .args(["gateway", "run"])
            .env_clear()
            .env("PATH", oc.path_env())
            .env("HOME", home)
            .env("OPENCLAW_STATE_DIR", state)
            .env("OPENCLAW_CONFIG_PATH", &cfg_path)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("openclaw gateway run"),
        config: cfg_path,
    };
    api.wait_calls("getUpdates", 1, Duration::from_secs(240))
        .await;
    gw
}

/// Whether `r` goes to `chat`.
pub fn is_to(r: &Recorded, chat: u64) -> bool {
    r.body["chat_id"] == json!(chat) || r.body["chat_id"] == json!(chat.to_string())
}

/// A typed command in `user`'s private chat, with the `bot_command` entity Telegram adds (so
/// OpenClaw dispatches it as a native command, with the progress placeholder).
pub fn push_command(api: &FakeBotApi, user: u64, text: &str) {
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
pub async fn wait_for(api: &FakeBotApi, from: usize, chat: u64, needle: &str) -> Recorded {
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

/// The `plugin-host` child the gateway's plugin started.
pub fn plugin_host_pid() -> Option<u32> {
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let pid: u32 = e.file_name().to_str()?.parse().ok()?;
        let cmd = std::fs::read(e.path().join("cmdline")).ok()?;
        let cmd = String::from_utf8_lossy(&cmd);
        (cmd.contains("codex-profiler") && cmd.contains("plugin-host")).then_some(pid)
    })
}

/// Resident memory of `pid`, in KiB (0 when it cannot be read).
pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}
