//! The conversation over the real engine: a state-db fixture store, the loopback usage
//! server, and the real change pipeline. Proves the chat paths end to end and that no token
//! reaches any transport call.

use std::sync::Arc;

use codex_profiler::chat::transport::Transport;
use codex_profiler::chat::{ChatConfig, Conversation, StoreOptions};
use serde_json::{Value, json};

use super::recording::{ADMIN, Call, Recording, button, tap, text};
use crate::support::cli::{assert_no_secret_in, run_with_stdin};
use crate::support::fixtures::{Fixture, oauth_profile, tokens_of};
use crate::support::usage_server::{self, Reply, UsageServer, relative_resets};

const ALICE: &str = "openai:alice@example.com";
const BOB: &str = "openai:bob@example.com";
const ALICE_LINE: &str =
    "alice@example.com · plus · 5h 42% left (resets 2h 13m) · week 88% left (resets 4d 15h)";

pub(super) struct Real {
    pub fx: Fixture,
    pub store: Value,
    pub server: UsageServer,
    pub conv: Arc<Conversation>,
    pub t: Arc<Recording>,
}

fn far_future() -> i64 {
    chrono::Utc::now().timestamp_millis() + 10 * 24 * 3600 * 1000
}

fn real(buttons: bool) -> Real {
    real_with(buttons, "http://127.0.0.1:9")
}

/// A real conversation over a state-db fixture with alice and bob, the loopback usage server
/// and `issuer` as the OAuth issuer.
pub(super) fn real_with(buttons: bool, issuer: &str) -> Real {
    let fx = Fixture::new();
    let store = json!({"version": 1, "profiles": {
        ALICE: oauth_profile("openai", "alice@example.com", "acc-alice", "plus", far_future()),
        BOB: oauth_profile("openai", "bob@example.com", "acc-bob", "pro", far_future()),
    }});
    let state =
        json!({"version": 1, "order": {"openai": [ALICE, BOB]}, "lastGood": {"openai": ALICE}});
    fx.state_db(&store, Some(&state));
    let access = |id: &str| store["profiles"][id]["access"].as_str().unwrap().to_owned();
    let server = usage_server::spawn([
        (
            access(ALICE).as_str(),
            Reply::Json(usage_server::full_payload()),
        ),
        (access(BOB).as_str(), Reply::Status(429)),
    ]);
    let config = ChatConfig {
        admins: [ADMIN].into_iter().collect(),
        store: StoreOptions {
            state_dir: Some(fx.state_dir()),
            ..StoreOptions::default()
        },
        usage_url: Some(server.url.clone()),
        auth_issuer: Some(issuer.to_owned()),
        ..ChatConfig::default()
    };
    let conv = Conversation::new(config).expect("conversation");
    Real {
        fx,
        store,
        server,
        conv,
        t: Arc::new(Recording::new(buttons)),
    }
}

impl Real {
    pub fn transport(&self) -> Arc<dyn Transport> {
        self.t.clone()
    }
    pub async fn say(&self, s: &str) {
        let (e, _) = text(ADMIN, false, s);
        self.conv.handle(e, self.transport()).await;
    }
    pub fn secrets(&self) -> Vec<String> {
        tokens_of(&self.store)
    }
    pub fn assert_no_token(&self) {
        let secrets = self.secrets();
        let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
        assert_no_secret_in(&self.t.all_text(), &refs);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_selector_tap_all_shows_real_lines_on_the_same_message() {
    let r = real(true);
    r.say("/codex_usage").await;
    let (menu, _, kb) = r.t.last_send();
    r.t.clear();
    r.conv
        .handle(
            tap(ADMIN, false, menu, &button(&kb, "All profiles")),
            r.transport(),
        )
        .await;
    let calls = r.t.calls();
    assert!(
        matches!(&calls[0], Call::Answer { notice: None, .. }),
        "{calls:?}"
    );
    assert!(
        matches!(&calls[1], Call::Edit { message, text, .. } if *message == menu && text == "Running Codex usage check…")
    );
    let Call::Edit {
        message,
        text: result,
        ..
    } = &calls[2]
    else {
        panic!("{calls:?}")
    };
    assert_eq!(*message, menu);
    assert!(relative_resets(result).contains(ALICE_LINE), "{result}");
    assert!(
        result.contains("bob@example.com") && result.contains("429"),
        "{result}"
    );
    assert_eq!(calls.len(), 3);
    assert_eq!(r.server.total_hits(), 2);
    r.assert_no_token();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_retire_and_confirmed_delete_change_the_real_store() {
    let r = real(true);
    r.say("/codex_auth alice@example.com").await;
    let (_, status, kb) = r.t.last_send();
    assert!(
        status.contains("token: ok") && status.contains("last good"),
        "{status}"
    );
    assert!(kb.is_some());

    r.say("/codex_auth retire bob@example.com").await;
    let all = r.t.all_text();
    assert!(
        all.contains("Retired openai:bob@example.com") && all.contains("; verified."),
        "{all}"
    );
    let (_, state, _) = r.fx.state_db_cells();
    assert_eq!(state.unwrap()["order"]["openai"], json!([ALICE]));

    r.say("/codex_auth delete bob@example.com").await;
    let (menu, _, kb) = r.t.last_send();
    let (store_before, _, _) = r.fx.state_db_cells();
    assert!(
        store_before.unwrap()["profiles"].get(BOB).is_some(),
        "not deleted before the tap"
    );
    r.conv
        .handle(
            tap(ADMIN, false, menu, &button(&kb, "Yes, delete it")),
            r.transport(),
        )
        .await;
    let (store_after, _, _) = r.fx.state_db_cells();
    let store_after = store_after.unwrap();
    assert!(store_after["profiles"].get(BOB).is_none());
    assert!(store_after["profiles"].get(ALICE).is_some());
    assert!(r.t.all_text().contains("Deleted openai:bob@example.com"));
    // The menu that named bob is stale now.
    r.t.clear();
    r.conv
        .handle(
            tap(ADMIN, false, menu, &button(&kb, "Yes, delete it")),
            r.transport(),
        )
        .await;
    assert_eq!(
        r.t.answers(),
        vec![Some(
            "This menu is out of date. Nothing was done; open it again.".to_owned()
        )]
    );
    r.assert_no_token();
}

#[test]
fn terminal_runs_the_usage_fallback_against_a_real_store() {
    let r = real(false);
    let state_dir = r.fx.state_arg();
    let run = run_with_stdin(
        r.fx.home(),
        &[("CODEX_PROFILER_USAGE_URL", r.server.url.as_str())],
        &["--state-dir", &state_dir, "chat"],
        "/codex_usage\nalice@example.com\n/codex_auth\n",
    );
    run.expect_code(0);
    let secrets = r.secrets();
    let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
    run.assert_no_secret(&refs);
    let out = &run.stdout;
    assert!(
        out.contains("Reply with: default | all | alice@example.com | bob@example.com"),
        "{out}"
    );
    assert!(out.contains("> Running Codex usage check…"), "{out}");
    assert!(out.contains("(edited)> Codex usage:"), "{out}");
    assert!(relative_resets(out).contains(ALICE_LINE), "{out}");
    assert!(
        out.contains("Reply with: alice@example.com | bob@example.com | new"),
        "{out}"
    );
}

#[test]
fn terminal_retires_and_deletes_through_reply_words() {
    let r = real(false);
    let state_dir = r.fx.state_arg();
    let run = run_with_stdin(
        r.fx.home(),
        &[("CODEX_PROFILER_USAGE_URL", r.server.url.as_str())],
        &["--state-dir", &state_dir, "chat"],
        "/codex_auth bob@example.com\nretire\n/codex_auth alice@example.com\ndelete\nconfirm\n",
    );
    run.expect_code(0);
    let out = &run.stdout;
    assert!(
        out.contains("Reply with: login | device | retire | delete"),
        "{out}"
    );
    assert!(out.contains("Retired openai:bob@example.com"), "{out}");
    assert!(out.contains("Reply with: confirm | cancel"), "{out}");
    assert!(out.contains("Deleted openai:alice@example.com"), "{out}");
    let (store, state, _) = r.fx.state_db_cells();
    assert!(store.unwrap()["profiles"].get(ALICE).is_none());
    assert_eq!(state.unwrap()["order"]["openai"], json!([]));
    let secrets = r.secrets();
    let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
    run.assert_no_secret(&refs);
}

/// A chat usage check appends one history row per profile, like the CLI's, and its result
/// carries the forecast block from the template.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_usage_checks_append_history_and_show_the_forecast() {
    use codex_profiler::engine::history::{HistoryStore, SqliteHistory};
    let r = real(false);
    let now = chrono::Utc::now().timestamp_millis();
    let seeded = crate::support::history::burning_to_58(ALICE, now);
    SqliteHistory::open_in(&r.fx.state_dir())
        .unwrap()
        .append(&seeded)
        .unwrap();

    r.say("/codex_usage all").await;
    let shown = relative_resets(&r.t.all_text());
    assert!(
        shown.contains(&format!(
            "{ALICE_LINE} · credits 17.5 · codex_other 5h 97% left (resets 1m)\nbob@example.com · ⚠ rate limited (429)\n\nForecast:\nalice@example.com · 5h runs out in ~1h 45m ("
        )),
        "{shown}"
    );
    assert!(
        shown.contains("pool (1 usable profile) · all usable quota runs out in ~1h 45m"),
        "{shown}"
    );
    r.say("/codex_usage bob@example.com").await;

    let h = SqliteHistory::open_in(&r.fx.state_dir()).unwrap();
    assert_eq!(h.rows(ALICE, 0).unwrap().len(), seeded.len() + 1);
    let bob = h.rows(BOB, 0).unwrap();
    assert_eq!(bob.len(), 2);
    assert!(
        bob.iter()
            .all(|b| b.remote_error.as_deref() == Some("rate_limited"))
    );
    r.assert_no_token();
}

/// A bad `CODEX_PROFILER_HISTORY_DAYS` stops the chat at startup with one clear sentence, as
/// every other bad chat setting does.
#[test]
fn a_bad_history_retention_refuses_to_start_the_chat() {
    let config = ChatConfig::from_lookup(|k| {
        (k == "CODEX_PROFILER_HISTORY_DAYS").then(|| "soon".to_owned())
    })
    .unwrap();
    let e = Conversation::new(config).err().expect("refused");
    assert!(
        e.to_string()
            .contains("CODEX_PROFILER_HISTORY_DAYS must be a whole number of days"),
        "{e}"
    );
}

/// A corrupt history does not stop the chat's usage result; it only loses its forecast.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_usage_with_a_corrupt_history_still_reports() {
    let r = real(false);
    let path = codex_profiler::engine::history::history_path(&r.fx.state_dir());
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let junk = b"not a database at all. ".repeat(200);
    std::fs::write(&path, &junk).unwrap();
    r.say("/codex_usage all").await;
    let shown = relative_resets(&r.t.all_text());
    assert!(shown.contains(ALICE_LINE), "{shown}");
    assert!(!shown.contains("Forecast"), "{shown}");
    assert_eq!(std::fs::read(&path).unwrap(), junk);
}
