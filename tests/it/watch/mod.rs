//! The watcher (issue 10 item 3): `watch --once` processes over a scripted usage endpoint
//! (each change once, nothing when nothing changed, state across restarts, a crash mid-check,
//! a corrupt state file, a dry run), the bot's watcher through the fake Bot API (one message
//! to each admin, the Unblock button, refused for a non-admin), and the notification through
//! the terminal adapter.

mod auto_order;
mod bot;
mod cli;
mod terminal;

use serde_json::{Value, json};

use crate::support::cli::{Run, run};
use crate::support::fixtures::{Fixture, oauth_profile, tokens_of};
use crate::support::usage_server::{self, Reply, UsageServer};

pub const ALICE: &str = "openai:alice@example.com";
pub const BOB: &str = "openai:bob@example.com";

/// A usage reply with the 5h window at `used` percent (limited at 100), resetting in 3 h
/// (or `reset_in_s`).
pub fn used_at(used: f64, reset_in_s: i64) -> Value {
    let now = chrono::Utc::now().timestamp();
    let full = used >= 100.0;
    json!({
        "plan_type": "plus",
        "rate_limit": {
            "allowed": !full,
            "limit_reached": full,
            "primary_window": {"used_percent": used, "limit_window_seconds": 18000,
                "reset_after_seconds": reset_in_s, "reset_at": now + reset_in_s},
            "secondary_window": {"used_percent": 5, "limit_window_seconds": 604800,
                "reset_after_seconds": 400_000, "reset_at": now + 400_000}
        },
        "credits": {"has_credits": false, "unlimited": false, "balance": "0"}
    })
}

/// [`used_at`] resetting in 3 h.
pub fn used(pct: f64) -> Reply {
    Reply::Json(used_at(pct, 3 * 3600))
}

/// A state-db gateway with alice and bob (alice blocked until `alice_blocked_until`, ms).
pub struct Gateway {
    pub fx: Fixture,
    pub store: Value,
}

impl Gateway {
    pub fn new(alice_blocked_until: Option<i64>) -> Gateway {
        let far = chrono::Utc::now().timestamp_millis() + 30 * 86_400_000;
        let p = |n: &str| {
            oauth_profile(
                "openai",
                &format!("{n}@example.com"),
                &format!("acct-{n}"),
                "plus",
                far,
            )
        };
        let store = json!({"version": 1, "profiles": {ALICE: p("alice"), BOB: p("bob")}});
        let mut stats = json!({});
        if let Some(until) = alice_blocked_until {
            stats[ALICE] = json!({"blockedUntil": until, "blockedReason": "rate_limit",
                "cooldownUntil": until, "cooldownReason": "rate_limit", "errorCount": 3, "lastUsed": 1});
        }
        let state = json!({"version": 1, "order": {"openai": [ALICE, BOB]}, "usageStats": stats});
        let fx = Fixture::new();
        fx.state_db(&store, Some(&state));
        Gateway { fx, store }
    }

    /// The access token of `id`.
    pub fn token(&self, id: &str) -> String {
        self.store["profiles"][id]["access"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Every secret in the store.
    pub fn secrets(&self) -> Vec<String> {
        tokens_of(&self.store)
    }

    /// A usage endpoint answering alice and bob with these replies.
    pub fn server(&self, alice: Reply, bob: Reply) -> UsageServer {
        usage_server::spawn([
            (self.token(ALICE).as_str(), alice),
            (self.token(BOB).as_str(), bob),
        ])
    }

    /// The state file.
    pub fn state_file(&self) -> std::path::PathBuf {
        self.fx.state_dir().join("codex-profiler/watch.json")
    }

    /// `watch --once` with `args` against `server`; no secret in its output.
    pub fn once(&self, server: &UsageServer, args: &[&str]) -> Run {
        let state = self.fx.state_arg();
        let mut all = vec!["--state-dir", state.as_str(), "watch", "--once"];
        all.extend_from_slice(args);
        let r = run(
            self.fx.home(),
            &[("CODEX_PROFILER_USAGE_URL", &server.url)],
            &all,
        );
        let secrets = self.secrets();
        let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
        r.assert_no_secret(&refs);
        r
    }

    /// alice's `usageStats` entry as the gateway reads it.
    pub fn alice_stats(&self) -> Value {
        let (_, state, _) = self.fx.state_db_cells();
        state
            .map(|s| s["usageStats"][ALICE].clone())
            .unwrap_or(Value::Null)
    }
}
