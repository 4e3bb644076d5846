//! End to end with everything real: the `codex-profiler bot` binary, its conversation core
//! and engine, a state-db fixture store, the loopback usage server and OAuth issuer, and the
//! fake Bot API. What the bot sent is checked at wire level, and neither the wire nor the
//! bot's debug log may hold a token, code, verifier or the bot token.

use std::time::Duration;

use serde_json::{Value, json};

use super::process::BotProcess;
use crate::support::bot_api::{FakeBotApi, Recorded, TOKEN};
use crate::support::cli::assert_no_secret_in;
use crate::support::fixtures::{Fixture, oauth_profile, tokens_of};
use crate::support::oauth_server::{self, OAuthServer};
use crate::support::usage_server::{self, Reply, UsageServer};

const WAIT: Duration = Duration::from_secs(20);
const ADMIN: i64 = 1;
const GROUP: i64 = -900;
const ALICE: &str = "openai:alice@example.com";
const BOB: &str = "openai:bob@example.com";
/// Alice's usage line up to its first reset (shown in the zone: `resets 14:25 UTC, in 2h 13m`).
const ALICE_LINE: &str = "alice@example.com · plus · 5h 42% left (resets ";

struct World {
    fx: Fixture,
    store: Value,
    usage: UsageServer,
    issuer: OAuthServer,
    api: FakeBotApi,
    bot: Option<BotProcess>,
}

impl World {
    async fn start() -> World {
        let fx = Fixture::new();
        let far = chrono::Utc::now().timestamp_millis() + 10 * 24 * 3600 * 1000;
        let store = json!({"version": 1, "profiles": {
            ALICE: oauth_profile("openai", "alice@example.com", "acc-alice", "plus", far),
            BOB: oauth_profile("openai", "bob@example.com", "acc-bob", "pro", far),
        }});
        let state =
            json!({"version": 1, "order": {"openai": [ALICE, BOB]}, "lastGood": {"openai": ALICE}});
        fx.state_db(&store, Some(&state));
        let access = |id: &str| {
            store["profiles"][id]["access"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        };
        let usage = usage_server::spawn([
            (
                access(ALICE).as_str(),
                Reply::Json(usage_server::full_payload()),
            ),
            (access(BOB).as_str(), Reply::Status(429)),
        ]);
        let issuer = oauth_server::spawn();
        let api = FakeBotApi::start().await;
        let state_dir = fx.state_arg();
        let bot = BotProcess::start(
            fx.home(),
            &api,
            &[
                ("OPENCLAW_STATE_DIR", &state_dir),
                ("CODEX_PROFILER_USAGE_URL", &usage.url),
                ("CODEX_PROFILER_AUTH_ISSUER", &issuer.issuer_url),
            ],
        );
        api.wait_calls("getUpdates", 1, WAIT).await;
        World {
            fx,
            store,
            usage,
            issuer,
            api,
            bot: Some(bot),
        }
    }

    /// Stop with SIGTERM (exit 0) and check that no secret reached the wire or the log.
    async fn finish(&mut self, more_secrets: &[String]) {
        let ended = self.bot.take().expect("running").terminate(WAIT).await;
        assert_eq!(ended.code, Some(0), "stderr:\n{}", ended.stderr);
        let mut secrets = tokens_of(&self.store);
        if let (Some(s), _, _) = self.fx.state_db_cells() {
            secrets.extend(tokens_of(&s));
        }
        secrets.extend(more_secrets.iter().cloned());
        secrets.push(TOKEN.to_owned());
        let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
        assert_no_secret_in(&self.api.wire_text(), &refs);
        assert_no_secret_in(&ended.stderr, &refs);
        assert_no_secret_in(&ended.stdout, &refs);
    }

    fn to(&self, chat: i64) -> Vec<Recorded> {
        self.api.messages_to(chat)
    }

    async fn wait_text(&self, chat: i64, needle: &str) -> Recorded {
        self.api.wait_text(chat, needle, WAIT).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_selector_tap_progress_and_result_then_a_typed_duplicate() {
    let mut w = World::start().await;
    w.api.push_text(1, ADMIN, "/codex_usage");
    let selector = w.wait_text(ADMIN, "Which Codex profiles").await;
    let all = selector.button("All profiles");
    w.api.push_tap(1, ADMIN, selector.message_id(), &all);
    let result = w.wait_text(ADMIN, ALICE_LINE).await;
    assert_eq!(
        result.body["message_id"],
        json!(selector.message_id()),
        "result edits the selector"
    );
    let edits: Vec<Recorded> = w
        .to(ADMIN)
        .into_iter()
        .filter(|r| r.method.eq_ignore_ascii_case("editMessageText"))
        .collect();
    assert!(
        edits[0].text().contains("Running Codex usage check"),
        "progress first: {}",
        edits[0].text()
    );
    assert!(
        result.text().contains("bob@example.com"),
        "{}",
        result.text()
    );
    assert_eq!(w.api.calls("answerCallbackQuery").len(), 1);

    // Typed, twice within 20 s: one more run, then a duplicate notice.
    w.api.push_text(1, ADMIN, "/codex_usage all");
    w.api.push_text(1, ADMIN, "/codex_usage all");
    w.wait_text(ADMIN, "already running or just finished").await;
    let alice = w.store["profiles"][ALICE]["access"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    // The tap ran "all" already: the typed "all" within 20 s is that same request.
    assert_eq!(w.usage.hits(&alice), 1, "no second run");
    w.finish(&[]).await;
}

fn authorize_url(all: &str, issuer: &str) -> String {
    all.split_whitespace()
        .find(|w| w.starts_with(&format!("{issuer}/oauth/authorize?")))
        .unwrap_or_else(|| panic!("no authorize URL in {all}"))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_by_pasted_url_in_private_then_the_same_in_a_group() {
    let mut w = World::start().await;
    w.api.push_text(1, ADMIN, "/codex_auth login work");
    let started = w.wait_text(ADMIN, "/oauth/authorize?").await;
    let url = authorize_url(started.text(), &w.issuer.issuer_url);
    let callback = w.issuer.approve(&url);
    let pasted = w.api.push_text(1, ADMIN, &callback);
    w.wait_text(ADMIN, "Added openai:work").await;
    let deletes = w.api.calls("deleteMessage");
    assert_eq!(deletes.len(), 1);
    assert_eq!(
        (
            deletes[0].body["chat_id"].clone(),
            deletes[0].body["message_id"].clone()
        ),
        (json!(ADMIN), json!(pasted))
    );
    let (store, _, _) = w.fx.state_db_cells();
    assert!(
        store.unwrap_or_default()["profiles"]
            .get("openai:work")
            .is_some()
    );

    // A second login, its URL pasted in a group: deleted, refused, nothing exchanged.
    w.api.push_text(1, ADMIN, "/codex_auth login other");
    w.api
        .wait_until(WAIT, "second authorize URL", |rs| {
            rs.iter()
                .filter(|r| r.text().contains("/oauth/authorize?"))
                .count()
                >= 2
        })
        .await;
    let second = w
        .to(ADMIN)
        .into_iter()
        .rev()
        .find(|r| r.text().contains("/oauth/authorize?"))
        .expect("second");
    let exchanges = w.issuer.request_count();
    let callback2 = w
        .issuer
        .approve(&authorize_url(second.text(), &w.issuer.issuer_url));
    let pasted2 = w.api.push_text(1, GROUP, &callback2);
    w.wait_text(GROUP, "Never paste a login address in a group")
        .await;
    assert!(
        w.api
            .calls("deleteMessage")
            .iter()
            .any(|d| d.body["message_id"] == json!(pasted2) && d.body["chat_id"] == json!(GROUP))
    );
    assert_eq!(
        w.issuer.request_count(),
        exchanges,
        "nothing exchanged for the group paste"
    );

    // The state travels in the authorize link by OAuth's design; everything else is secret.
    let states: Vec<String> = [&url, &second.text().to_owned()]
        .iter()
        .filter_map(|u| u.split("state=").nth(1))
        .map(|s| {
            s.split(['&', ' ', '\n'])
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    let mut secrets: Vec<String> = w
        .issuer
        .secrets()
        .into_iter()
        .filter(|s| !states.contains(s))
        .collect();
    secrets.push(callback);
    secrets.push(callback2);
    w.finish(&secrets).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_asks_for_confirmation_then_removes_the_profile() {
    let mut w = World::start().await;
    w.api.push_text(1, ADMIN, "/codex_auth bob@example.com");
    w.api
        .wait_until(WAIT, "status with a Delete button", |rs| {
            rs.iter()
                .any(|r| r.body["reply_markup"].to_string().contains("Delete"))
        })
        .await;
    let status = w
        .to(ADMIN)
        .into_iter()
        .rev()
        .find(|r| r.body["reply_markup"].to_string().contains("Delete"))
        .expect("status");
    w.api
        .push_tap(1, ADMIN, status.message_id(), &status.button("Delete"));
    w.api
        .wait_until(WAIT, "confirmation", |rs| {
            rs.iter().any(|r| {
                r.body["reply_markup"]
                    .to_string()
                    .contains("Yes, delete it")
            })
        })
        .await;
    let (store, _, _) = w.fx.state_db_cells();
    assert!(
        store.unwrap_or_default()["profiles"].get(BOB).is_some(),
        "not deleted before confirming"
    );
    let confirm = w
        .to(ADMIN)
        .into_iter()
        .rev()
        .find(|r| {
            r.body["reply_markup"]
                .to_string()
                .contains("Yes, delete it")
        })
        .expect("confirm");
    w.api.push_tap(
        1,
        ADMIN,
        confirm.message_id(),
        &confirm.button("Yes, delete it"),
    );
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let (store, _, _) = w.fx.state_db_cells();
        if store.unwrap_or_default()["profiles"].get(BOB).is_none() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "bob was not deleted:\n{}",
            w.api.wire_text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Every tap was answered exactly once.
    let answers = w.api.calls("answerCallbackQuery");
    assert_eq!(answers.len(), 2);
    w.finish(&[]).await;
}
