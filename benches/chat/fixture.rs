//! The world the benchmark's bots run in: a state-db fixture store with N Codex profiles, a
//! loopback usage server answering each after 200 ms (a realistic round trip to chatgpt.com),
//! and the environment that starts the real `codex-profiler bot` against them.

#[path = "../../tests/it/support/fixtures.rs"]
#[allow(dead_code)]
mod fixtures;
#[path = "../../tests/it/support/usage_server.rs"]
#[allow(dead_code)]
mod usage_server;

use std::path::Path;
use std::time::Duration;

use serde_json::json;

/// The users allowed to check usage: the latency and memory runs use ids from here.
pub const ALLOWED_USERS: std::ops::Range<u64> = 10_000..20_000;

/// The fixture and servers, kept alive for the whole run.
pub struct Setup {
    fixture: fixtures::Fixture,
    usage: usage_server::UsageServer,
}

impl Setup {
    /// Build a store with `profiles` Codex profiles and a usage server answering every one.
    pub fn new(profiles: usize) -> Setup {
        let fixture = fixtures::Fixture::new();
        let now = chrono::Utc::now().timestamp_millis();
        let mut store = serde_json::Map::new();
        let mut builder = usage_server::builder().delay(Duration::from_millis(200));
        for i in 0..profiles {
            let email = format!("user{i}@example.com");
            let p = fixtures::oauth_profile(
                "openai",
                &email,
                &format!("acct-{i}"),
                "plus",
                now + 86_400_000,
            );
            let access = p["access"].as_str().unwrap_or_default().to_owned();
            builder = builder.reply(
                &access,
                usage_server::Reply::Json(usage_server::full_payload()),
            );
            store.insert(format!("openai:{email}"), p);
        }
        fixture.state_db(&json!({"version": 1, "profiles": store}), None);
        Setup {
            fixture,
            usage: builder.spawn(),
        }
    }

    /// A scratch directory for the children (working directory, HOME, logs).
    pub fn home(&self) -> &Path {
        self.fixture.home()
    }

    /// Usage requests the server has answered so far.
    pub fn usage_hits(&self) -> usize {
        self.usage.total_hits()
    }

    /// The environment of `codex-profiler bot` against the fake Bot API at `api_url`.
    pub fn bot_env(&self, api_url: &str, token: &str) -> Vec<(String, String)> {
        let users = ALLOWED_USERS
            .map(|u| u.to_string())
            .collect::<Vec<_>>()
            .join(",");
        [
            ("TELEGRAM_BOT_TOKEN", token.to_owned()),
            ("TELEGRAM_API_URL", api_url.to_owned()),
            ("CODEX_PROFILER_ADMINS", "1".to_owned()),
            ("CODEX_PROFILER_USERS", users),
            ("CODEX_PROFILER_POLL_TIMEOUT_SEC", "1".to_owned()),
            ("OPENCLAW_STATE_DIR", self.fixture.state_arg()),
            ("CODEX_PROFILER_USAGE_URL", self.usage.url.clone()),
            // 1,000 chats x 50 profiles under the default cap of 16 would take 3,125 rounds of
            // 200 ms (10 min) per wave: the bench raises the cap (`BENCH_USAGE_CONCURRENCY`).
            (
                "CODEX_PROFILER_USAGE_CONCURRENCY",
                std::env::var("BENCH_USAGE_CONCURRENCY").unwrap_or_else(|_| "500".to_owned()),
            ),
            ("HOME", self.home().display().to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }
}
