//! The real conversation core for the benchmark: a state-db fixture store with three Codex
//! profiles, a loopback usage server answering each after 200 ms (a realistic round trip to
//! chatgpt.com), and a `ChatConfig` that lets the benchmark's users check usage.

#[path = "../../tests/it/support/fixtures.rs"]
#[allow(dead_code)]
mod fixtures;
#[path = "../../tests/it/support/usage_server.rs"]
#[allow(dead_code)]
mod usage_server;

use std::time::Duration;

use codex_profiler::adapters::telegram::{Handler, cli::handler};
use codex_profiler::chat::{ChatConfig, Conversation};
use serde_json::json;

/// The users allowed to check usage: the latency and memory runs use ids from here.
const ALLOWED_USERS: std::ops::Range<u64> = 10_000..20_000;

/// The fixture and servers, kept alive for the whole run.
pub struct Setup {
    fixture: fixtures::Fixture,
    usage: usage_server::UsageServer,
}

impl Setup {
    /// The command menu and the core as a handler (a fresh core: no duplicate memory).
    pub async fn handler(&self) -> (Vec<(String, String)>, Handler) {
        let state_dir = self.fixture.state_arg();
        let usage_url = self.usage.url.clone();
        let users = ALLOWED_USERS
            .map(|u| u.to_string())
            .collect::<Vec<_>>()
            .join(",");
        let config = ChatConfig::from_lookup(|k| match k {
            "CODEX_PROFILER_ADMINS" => Some("1".into()),
            "CODEX_PROFILER_USERS" => Some(users.clone()),
            "OPENCLAW_STATE_DIR" => Some(state_dir.clone()),
            "CODEX_PROFILER_USAGE_URL" => Some(usage_url.clone()),
            _ => None,
        })
        .expect("chat config");
        let conversation = Conversation::new(config).expect("conversation");
        (Conversation::menu(), handler(conversation))
    }
}

/// Build the store and the usage server.
pub fn setup() -> Setup {
    let fixture = fixtures::Fixture::new();
    let now = chrono::Utc::now().timestamp_millis();
    let mut profiles = serde_json::Map::new();
    let mut builder = usage_server::builder().delay(Duration::from_millis(200));
    for name in ["alice", "bob", "carol"] {
        let email = format!("{name}@example.com");
        let p = fixtures::oauth_profile(
            "openai",
            &email,
            &format!("acct-{name}"),
            "plus",
            now + 86_400_000,
        );
        let access = p["access"].as_str().unwrap_or_default().to_owned();
        builder = builder.reply(
            &access,
            usage_server::Reply::Json(usage_server::full_payload()),
        );
        profiles.insert(format!("openai:{email}"), p);
    }
    fixture.state_db(&json!({"version": 1, "profiles": profiles}), None);
    Setup {
        fixture,
        usage: builder.spawn(),
    }
}
