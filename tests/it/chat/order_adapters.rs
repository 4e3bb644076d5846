//! `/codex_auth order` through both adapters: the terminal (`codex-profiler chat`, reply
//! words) and the `bot` binary against the fake Bot API (buttons on the wire), each over a
//! real state-db store read back afterwards, with the real `openclaw models auth order get`
//! agreeing and no secret on the wire.

use std::time::Duration;

use serde_json::json;

use super::order::{ALICE, BOB, CAROL, STALE, files, fixture, stored};
use crate::support::bot_api::{FakeBotApi, TOKEN};
use crate::support::cli::{assert_no_secret_in, run_with_stdin};
use crate::support::fixtures::tokens_of;
use crate::support::openclaw::openclaw;
use crate::telegram::process::BotProcess;

#[test]
fn order_through_the_terminal_adapter() {
    let fx = fixture(&[ALICE, BOB, CAROL]);
    let state = fx.state_arg();
    let run = run_with_stdin(
        fx.home(),
        &[("OPENCLAW_STATE_DIR", &state)],
        &["chat"],
        "/codex_auth order\nup 3\n/codex_auth order bob carol\nconfirm\n",
    );
    run.expect_code(0);
    assert!(
        run.stdout
            .contains("Reply with: first 1 | up 1 | down 1 | out 1"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("Order set: alice@example.com, carol@example.com, bob@example.com"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("alice@example.com leaves service"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("Order set: bob@example.com, carol@example.com."),
        "{}",
        run.stdout
    );
    assert_eq!(stored(&fx), json!([BOB, CAROL]));
    let theirs = openclaw().openai_order(fx.home());
    assert_eq!(theirs["order"], json!([BOB, CAROL]), "{theirs:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn order_through_the_bot_and_the_fake_bot_api() {
    const WAIT: Duration = Duration::from_secs(20);
    let fx = fixture(&[ALICE, BOB, CAROL]);
    let api = FakeBotApi::start().await;
    let state = fx.state_arg();
    let bot = BotProcess::start(fx.home(), &api, &[("OPENCLAW_STATE_DIR", &state)]);
    api.wait_calls("getUpdates", 1, WAIT).await;

    api.push_text(1, 1, "/codex_auth order");
    let menu = api.wait_text(1, "Stored openai order", WAIT).await;
    let first_carol = menu.button("carol@example.com");
    api.push_tap(1, 1, menu.message_id(), &first_carol);
    let done = api
        .wait_text(
            1,
            "Order set: carol@example.com, alice@example.com, bob@example.com",
            WAIT,
        )
        .await;
    assert_eq!(
        done.body["message_id"],
        json!(menu.message_id()),
        "edits the menu"
    );
    assert_eq!(stored(&fx), json!([CAROL, ALICE, BOB]));

    // Stale: the same button again.
    let before = files(&fx.state_dir());
    api.push_tap(1, 1, menu.message_id(), &first_carol);
    api.wait_until(WAIT, "a stale answer", |rs| {
        rs.iter().any(|r| {
            r.method.eq_ignore_ascii_case("answerCallbackQuery")
                && r.body["text"].as_str().is_some_and(|t| t.contains(STALE))
        })
    })
    .await;
    assert_eq!(files(&fx.state_dir()), before);

    api.push_text(1, 1, "/codex_auth order bob");
    let ask = api.wait_text(1, "leave service", WAIT).await;
    api.push_tap(1, 1, ask.message_id(), &ask.button("Yes, change the order"));
    api.wait_text(1, "Order set: bob@example.com.", WAIT).await;
    assert_eq!(stored(&fx), json!([BOB]));
    let theirs = openclaw().openai_order(fx.home());
    assert_eq!(theirs["order"], json!([BOB]), "{theirs:#}");
    let ended = bot.terminate(WAIT).await;
    assert_eq!(ended.code, Some(0), "{}", ended.stderr);
    let mut secrets = fx
        .state_db_cells()
        .0
        .map(|s| tokens_of(&s))
        .unwrap_or_default();
    secrets.push(TOKEN.to_owned());
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    assert_no_secret_in(&api.wire_text(), &secrets);
    assert_no_secret_in(&ended.stderr, &secrets);
}
