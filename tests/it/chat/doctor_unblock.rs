//! `/codex_auth doctor`'s Unblock button for a stale block (issue 11 item 4), over the real
//! engine and a loopback usage endpoint: the watcher's button (`codex_auth_unblock:<key>`,
//! <= 64 bytes) and path. A profile the endpoint still reports limited is refused with the
//! window named and nothing written; one whose quota is back is cleared with a backup, the
//! store checked afterwards; a user's tap and a tap in a group are refused; the same button
//! again, its block gone, is out of date. Through the recording transport, the Telegram
//! adapter over the fake Bot API and the terminal adapter.

use std::sync::Arc;

use codex_profiler::chat::Conversation;
use codex_profiler::chat::transport::Keyboard;
use serde_json::{Value, json};

use super::backups::{ALICE, BOB, Telegram, WAIT, config, has, store_bytes, two_profiles};
use super::recording::{ADMIN, Recording, USER, tap, text};
use crate::support::cli::run_with_stdin;
use crate::support::fixtures::{Fixture, tokens_of};
use crate::support::usage_server::{self, UsageServer};
use crate::watch::used;

const STALE: &str = "This menu is out of date. Nothing was done; open it again.";

/// The gateway's block of a rate-limited profile, ending in 4 h.
fn block() -> Value {
    let until = chrono::Utc::now().timestamp_millis() + 4 * 3_600_000;
    json!({"blockedUntil": until, "blockedReason": "rate_limit", "cooldownUntil": until,
        "cooldownReason": "rate_limit", "errorCount": 3, "lastUsed": 1})
}

/// Alice and bob; the gateway blocks `blocked` of them.
fn gateway(blocked: &[&str]) -> (Fixture, Value) {
    let mut stats = json!({});
    for id in blocked {
        stats[*id] = block();
    }
    let fx = Fixture::new();
    let store = two_profiles();
    fx.state_db(
        &store,
        Some(&json!({"version": 1, "order": {"openai": [ALICE, BOB]}, "usageStats": stats})),
    );
    (fx, store)
}

/// Alice still at her limit, bob's quota back.
fn usage(s: &Value) -> UsageServer {
    let token = |id: &str| s["profiles"][id]["access"].as_str().unwrap().to_owned();
    usage_server::spawn([
        (token(ALICE).as_str(), used(100.0)),
        (token(BOB).as_str(), used(3.0)),
    ])
}

fn stats(fx: &Fixture, id: &str) -> Value {
    fx.state_db_cells().1.unwrap()["usageStats"][id].clone()
}

fn backups(fx: &Fixture) -> usize {
    std::fs::read_dir(fx.state_dir().join("codex-profiler/backups")).map_or(0, |d| d.count())
}

/// The data of the doctor's Unblock button of the finding naming `who`.
fn unblock_of(text: &str, kb: &Option<Keyboard>, who: &str) -> String {
    let n = text
        .lines()
        .find(|l| l.contains(&format!("{who} is ")))
        .and_then(|l| l.split('.').next())
        .unwrap_or_else(|| panic!("no finding of {who} in {text}"));
    let label = format!("{n}: Unblock");
    let data = super::recording::button(kb, &label);
    assert!(
        data.starts_with("codex_auth_unblock:") && data.len() <= 64,
        "{data}"
    );
    data
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_doctor_unblocks_a_stale_block_through_the_usage_gate() {
    let (fx, store) = gateway(&[ALICE, BOB]);
    let server = usage(&store);
    let mut cfg = config(&fx);
    cfg.usage_url = Some(server.url.clone());
    let conv = Conversation::new(cfg).unwrap();
    let t = Arc::new(Recording::new(true));
    let say = |user, group, s: &str| {
        let (e, _) = text(user, group, s);
        let (conv, t) = (conv.clone(), t.clone());
        async move { conv.handle(e, t).await }
    };
    let tap_as = |user, group, on, data: &str| {
        let e = tap(user, group, on, data);
        let (conv, t) = (conv.clone(), t.clone());
        async move { conv.handle(e, t).await }
    };

    say(ADMIN, false, "/codex_auth doctor").await;
    let (menu, shown, kb) = t.last_shown();
    has(&shown, &["(1: Unblock): its quota is checked first"]);
    let alice = unblock_of(&shown, &kb, ALICE);
    let bob = unblock_of(&shown, &kb, BOB);

    // A user, and an admin in a group: refused, nothing written, no usage request.
    let before = store_bytes(&fx);
    tap_as(USER, false, menu, &bob).await;
    tap_as(ADMIN, true, menu, &bob).await;
    let answers = t.answers();
    let n = answers.len();
    assert!(
        answers[n - 2]
            .as_deref()
            .unwrap()
            .starts_with("Only an admin")
    );
    assert!(answers[n - 1].as_deref().unwrap().contains("private chat"));
    assert_eq!(store_bytes(&fx), before);
    assert_eq!(server.requests().len(), 0, "nothing asked the endpoint");

    // Alice is still at her limit: refused with the window named, nothing written.
    tap_as(ADMIN, false, menu, &alice).await;
    let (on, refused, _) = t.last_shown();
    assert_eq!(on, menu, "the result lands on the doctor's message");
    has(
        &refused,
        &[
            "openai:alice@example.com is still limited",
            "5h",
            "nothing was changed",
        ],
    );
    assert!(!refused.contains("--force"), "{refused}");
    assert_eq!(store_bytes(&fx), before);
    assert_eq!(backups(&fx), 0);

    // Bob's quota is back: cleared, with a backup, his other fields kept.
    tap_as(ADMIN, false, menu, &bob).await;
    let (_, done, _) = t.last_shown();
    has(
        &done,
        &["Cleared the block of openai:bob@example.com", "Backup: "],
    );
    let bob_stats = stats(&fx, BOB);
    assert!(
        bob_stats.get("blockedUntil").is_none() && bob_stats.get("cooldownUntil").is_none(),
        "{bob_stats}"
    );
    assert_eq!(bob_stats["lastUsed"], 1, "{bob_stats}");
    assert!(
        stats(&fx, ALICE)["blockedUntil"].is_i64(),
        "alice untouched"
    );
    assert_eq!(backups(&fx), 1);

    // The same button again: the block is gone, so it is out of date; nothing written.
    let before = store_bytes(&fx);
    tap_as(ADMIN, false, menu, &bob).await;
    assert_eq!(
        t.answers().last().cloned().flatten().as_deref(),
        Some(STALE)
    );
    assert_eq!(store_bytes(&fx), before);
    assert_eq!(backups(&fx), 1);
    let secrets = tokens_of(&store);
    let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
    crate::support::cli::assert_no_secret_in(&t.all_text(), &refs);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_and_terminal_unblock_from_the_doctor() {
    let (fx, store) = gateway(&[BOB]);
    let server = usage(&store);
    let mut cfg = config(&fx);
    cfg.usage_url = Some(server.url.clone());
    let tg = Telegram::start(cfg).await;
    let admin = ADMIN.0 as i64;
    tg.api.push_text(ADMIN.0, admin, "/codex_auth doctor");
    let shown = tg
        .api
        .wait_text(admin, "Unblock it (1: Unblock)", WAIT)
        .await;
    let (_, data) = shown
        .buttons()
        .into_iter()
        .find(|(l, _)| l.ends_with(": Unblock"))
        .expect("an Unblock button");
    assert!(
        data.starts_with("codex_auth_unblock:") && data.len() <= 64,
        "{data}"
    );
    // A user in their chat, and the admin in a group: refused, nothing written.
    let before = store_bytes(&fx);
    tg.api
        .push_tap(USER.0, USER.0 as i64, shown.message_id(), &data);
    tg.api.push_tap(ADMIN.0, -100, shown.message_id(), &data);
    let answers = tg.api.wait_calls("answerCallbackQuery", 2, WAIT).await;
    let said: Vec<&str> = answers
        .iter()
        .map(|a| a.body["text"].as_str().unwrap_or_default())
        .collect();
    // Two users' taps run concurrently: either answer may come first.
    assert!(
        said.iter().any(|s| s.starts_with("Only an admin")),
        "{said:?}"
    );
    assert!(said.iter().any(|s| s.contains("private chat")), "{said:?}");
    assert_eq!(store_bytes(&fx), before);

    tg.api.push_tap(ADMIN.0, admin, shown.message_id(), &data);
    let done = tg
        .api
        .wait_text(admin, "Cleared the block of openai:bob@example.com", WAIT)
        .await;
    assert_eq!(done.message_id(), shown.message_id());
    assert!(stats(&fx, BOB).get("blockedUntil").is_none());
    assert_eq!(backups(&fx), 1);
    // Again: out of date.
    tg.api.push_tap(ADMIN.0, admin, shown.message_id(), &data);
    let answers = tg.api.wait_calls("answerCallbackQuery", 4, WAIT).await;
    assert_eq!(answers[3].body["text"], STALE);
    assert_eq!(backups(&fx), 1);
    tg.stop(&tokens_of(&store)).await;

    // The terminal: the reply word of the finding.
    let (fx, store) = gateway(&[BOB]);
    let server = usage(&store);
    let state = fx.state_arg();
    let probe = run_with_stdin(
        fx.home(),
        &[
            ("OPENCLAW_STATE_DIR", state.as_str()),
            ("CODEX_PROFILER_USAGE_URL", &server.url),
        ],
        &["chat"],
        "/codex_auth doctor\n",
    );
    let word = probe
        .stdout
        .split(|c: char| c.is_whitespace() || c == '|')
        .find(|w| w.starts_with("unblock"))
        .unwrap_or_else(|| panic!("no unblock reply word: {}", probe.stdout))
        .to_owned();
    let run = run_with_stdin(
        fx.home(),
        &[
            ("OPENCLAW_STATE_DIR", state.as_str()),
            ("CODEX_PROFILER_USAGE_URL", &server.url),
        ],
        &["chat"],
        &format!("/codex_auth doctor\n{word}\n{word}\n"),
    );
    run.expect_code(0);
    has(
        &run.stdout,
        &["Cleared the block of openai:bob@example.com"],
    );
    assert!(stats(&fx, BOB).get("blockedUntil").is_none());
    // The reply word was used up: the second is answered, and writes nothing.
    let after = run
        .stdout
        .rsplit("Cleared the block")
        .next()
        .unwrap_or_default();
    has(after, &["I did not understand that."]);
    assert_eq!(backups(&fx), 1);
    run.assert_no_secret(
        &tokens_of(&store)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
}
