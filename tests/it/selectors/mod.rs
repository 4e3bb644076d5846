//! Every name the product prints works when typed back (issue 9 §2): selectors by email,
//! label and account, ambiguity with candidates, "did you mean", same-email workspaces told
//! apart, logins under a new name for a stored account, and pending logins in `auth status`.
//! Through the real binary here; through the chat core in `chat::selectors`.

mod cli;
mod login;
mod property;

use serde_json::{Value, json};

use crate::support::cli::{self as runner, Run};
use crate::support::fixtures::{Fixture, oauth_profile, tokens_of};
use crate::support::usage_server::{self, Reply, UsageServer};

/// Alice's personal workspace (stored under her email).
pub const ALICE: &str = "openai:alice@example.com";
/// Alice's team workspace (the id login gives a second workspace of one email).
pub const ALICE_TEAM: &str = "openai:alice@example.com-22222222";
/// Ivy, stored under a name that is not her email.
pub const LAPTOP: &str = "openai:laptop";

/// The fixture: two workspaces of one email and a profile whose id differs from its email,
/// with a usage server answering for all three.
pub struct World {
    pub fx: Fixture,
    pub store: Value,
    pub server: UsageServer,
}

fn far_future() -> i64 {
    chrono::Utc::now().timestamp_millis() + 10 * 24 * 3600 * 1000
}

impl World {
    pub fn new() -> World {
        let fx = Fixture::new();
        let store = json!({"version": 1, "profiles": {
            ALICE: oauth_profile("openai", "alice@example.com",
                "11111111-aaaa-4bbb-8ccc-000000000001", "plus", far_future()),
            ALICE_TEAM: oauth_profile("openai", "alice@example.com",
                "22222222-aaaa-4bbb-8ccc-000000000002", "team", far_future()),
            LAPTOP: oauth_profile("openai", "ivy@example.com",
                "33333333-aaaa-4bbb-8ccc-000000000003", "pro", far_future()),
        }});
        let state = json!({"version": 1, "order": {"openai": [ALICE, ALICE_TEAM, LAPTOP]}});
        fx.state_db(&store, Some(&state));
        let tokens: Vec<String> = [ALICE, ALICE_TEAM, LAPTOP]
            .iter()
            .map(|id| store["profiles"][id]["access"].as_str().unwrap().to_owned())
            .collect();
        let server = usage_server::spawn(
            tokens
                .iter()
                .map(|t| (t.as_str(), Reply::Json(usage_server::full_payload()))),
        );
        World { fx, store, server }
    }

    /// Run the binary on this store with the usage server; checks no token leaked.
    pub fn run(&self, args: &[&str]) -> Run {
        let state = self.fx.state_arg();
        let mut full = vec!["--state-dir", state.as_str()];
        full.extend_from_slice(args);
        let env = [("CODEX_PROFILER_USAGE_URL", self.server.url.as_str())];
        let r = runner::run(self.fx.home(), &env, &full);
        let secrets = tokens_of(&self.store);
        let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
        r.assert_no_secret(&refs);
        r
    }

    /// The profile ids `usage --profile SEL --format json` checked (panics unless exit 0).
    pub fn usage_ids(&self, selector: &str) -> Vec<String> {
        let r = self.run(&["usage", "--profile", selector, "--format", "json"]);
        r.expect_code(0);
        r.json()["profiles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["profile"].as_str().unwrap().to_owned())
            .collect()
    }
}

/// The label part of a usage line (`label · plan · …`).
pub fn line_label(line: &str) -> &str {
    line.split(" · ").next().unwrap_or(line)
}
