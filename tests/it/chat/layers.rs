//! `/codex_auth layers` end to end over the real engine: the profile really in use first,
//! one block per layer, ⚠ on the layers something disagrees about and what disagrees in chat
//! words; through the recording transport, the Telegram adapter and the terminal. Admins
//! only; read-only (the store's bytes are unchanged).

use serde_json::{Value, json};

use super::backups::{
    ALICE, BOB, Telegram, WAIT, World, config, far_future, has, store_bytes, two_profiles,
};
use super::recording::{ADMIN, STRANGER, USER};
use crate::support::cli::run_with_stdin;
use crate::support::fixtures::{Fixture, tokens_of};

/// Bob is preferred by the stored order but blocked, so the gateway tries alice first.
fn state() -> Value {
    json!({"version": 1, "order": {"openai": [BOB, ALICE]}, "lastGood": {"openai": ALICE},
        "usageStats": {BOB: {"blockedUntil": far_future()}}})
}

fn check_view(text: &str) {
    let first = text.lines().next().unwrap_or_default();
    assert_eq!(
        first, "In use now: alice@example.com (openai:alice@example.com)",
        "{text}"
    );
    has(text, &["\n1. ⚠ Stored preference (disagrees)\n"]);
    has(text, &["\n2. ⚠ Auth order (disagrees)\n"]);
    has(
        text,
        &["\n4. Profile in use\n   openai:alice@example.com (OAuth profile)"],
    );
    has(text, &["\n⚠ What disagrees:\n"]);
    has(
        text,
        &[
            "• The stored order prefers openai:bob@example.com, but the gateway tries openai:alice@example.com first.",
        ],
    );
    has(
        text,
        &["• openai:bob@example.com is in the order but unusable until "],
    );
    assert!(
        !text.contains("codex-profiler") && !text.contains(" --"),
        "{text}"
    );
    // One block per layer, no table: seven numbered blocks of short lines.
    assert_eq!(
        (1..=7)
            .filter(|n| text.contains(&format!("\n{n}. ")))
            .count(),
        7
    );
    assert!(!text.contains(" | "), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn layers_side_by_side_for_a_phone_admins_only() {
    let w = World::new(two_profiles(), state(), true);
    let before = w.bytes();
    w.say("/codex_auth layers").await;
    let (_, text, kb) = w.last_shown();
    check_view(&text);
    assert!(kb.is_none());
    // An admin in a group sees it too; a user and a stranger are refused.
    w.say_as(ADMIN, true, "/codex_auth layers").await;
    check_view(&w.last_shown().1);
    w.say_as(USER, false, "/codex_auth layers").await;
    assert!(
        w.last_shown().1.starts_with("Only an admin"),
        "{}",
        w.last_shown().1
    );
    w.say_as(STRANGER, true, "/codex_auth layers").await;
    assert!(
        w.last_shown().1.contains("user id is 3"),
        "{}",
        w.last_shown().1
    );
    assert_eq!(w.bytes(), before, "read-only");
    w.assert_no_token();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_and_terminal_show_the_same_layers() {
    let fx = Fixture::new();
    fx.state_db(&two_profiles(), Some(&state()));
    let tg = Telegram::start(config(&fx)).await;
    let admin = ADMIN.0 as i64;
    tg.api.push_text(ADMIN.0, admin, "/codex_auth layers");
    let shown = tg.api.wait_text(admin, "In use now", WAIT).await;
    check_view(shown.text());
    tg.stop(&tokens_of(&two_profiles())).await;

    let before = store_bytes(&fx);
    let state_dir = fx.state_arg();
    let run = run_with_stdin(
        fx.home(),
        &[("OPENCLAW_STATE_DIR", state_dir.as_str())],
        &["chat"],
        "/codex_auth layers\n",
    );
    run.expect_code(0);
    has(&run.stdout, &["In use now: alice@example.com"]);
    has(&run.stdout, &["⚠ What disagrees:"]);
    assert_eq!(store_bytes(&fx), before);
}
