//! `/codex_auth doctor` end to end over the real engine: the findings in chat words (no shell
//! command), a button for each safe fix; storing the suggested order applies at once (nobody
//! leaves service), retiring asks first; the store checked afterwards. A fix button whose
//! finding is gone is out of date, a confirmation never offered does nothing, users and
//! groups are refused: nothing written.

use serde_json::{Value, json};

use super::backups::{ALICE, BOB, Telegram, WAIT, World, config, far_future, has};
use super::recording::{ADMIN, USER, button};
use crate::support::cli::run_with_stdin;
use crate::support::fixtures::{Fixture, oauth_profile, tokens_of};

const CAROL: &str = "openai:carol@example.com";
const STALE: &str = "This menu is out of date. Nothing was done; open it again.";

/// Alice, bob and carol; the stored order leaves bob out; carol's refresh failed.
fn store() -> Value {
    let mut carol = oauth_profile("openai", "carol@example.com", "acc-carol", "plus", 1);
    carol["access"] = "openclaw-oauth-refresh-fence:v1:failed:0123456789abcdef".into();
    carol["refresh"] = "openclaw-oauth-refresh-fence:v1:failed:0123456789abcdef".into();
    let mut s = super::backups::two_profiles();
    s["profiles"][CAROL] = carol;
    s
}

fn state() -> Value {
    json!({"version": 1, "order": {"openai": [ALICE, CAROL]}, "lastGood": {"openai": ALICE},
        "usageStats": {ALICE: {"lastUsed": far_future() - 1}}})
}

fn order(w: &World) -> Value {
    w.fx.state_db_cells().1.unwrap()["order"]["openai"].clone()
}

fn label_ending(kb: &Option<codex_profiler::chat::transport::Keyboard>, end: &str) -> String {
    kb.iter()
        .flatten()
        .flatten()
        .find(|b| b.label.ends_with(end))
        .unwrap_or_else(|| panic!("no button ending {end:?} in {kb:?}"))
        .label
        .clone()
}

fn no_shell_words(text: &str) {
    for bad in [
        "codex-profiler",
        "openclaw doctor",
        " --",
        "openclaw gateway",
    ] {
        assert!(!text.contains(bad), "{bad:?} in {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_fixes_from_the_chat_order_at_once_retire_after_a_confirmation() {
    let w = World::new(store(), state(), true);
    w.say("/codex_auth doctor").await;
    let (menu, text, kb) = w.last_shown();
    assert!(
        text.starts_with("Doctor: something needs action."),
        "{text}"
    );
    has(
        &text,
        &["openai:carol@example.com: the gateway's token refresh failed"],
    );
    has(
        &text,
        &[
            "store the order openai:alice@example.com, openai:carol@example.com, openai:bob@example.com.",
        ],
    );
    has(&text, &["→ Log it in again ("]);
    no_shell_words(&text);
    let set = button(&kb, &label_ending(&kb, ": Set the order"));
    let retire = button(&kb, &label_ending(&kb, ": Retire"));
    let login = button(&kb, &label_ending(&kb, ": Login again"));
    for d in [&set, &retire, &login] {
        assert!(d.starts_with("codex_auth_") && d.len() <= 64, "{d}");
    }

    // Not an admin, or in a group: refused, nothing written.
    let before = w.bytes();
    w.tap_as(USER, false, menu, &set).await;
    assert!(w.last_notice().starts_with("Only an admin"));
    w.tap_as(ADMIN, true, menu, &set).await;
    assert!(w.last_notice().contains("private chat"));
    w.say_as(ADMIN, true, "/codex_auth doctor").await;
    let (_, in_group, kb_group) = w.last_shown();
    assert!(
        kb_group.is_none()
            && in_group.ends_with("Fixes can be applied by an admin in a private chat."),
        "{in_group}"
    );
    w.say_as(USER, false, "/codex_auth doctor").await;
    assert!(w.last_shown().1.starts_with("Only an admin"));
    assert_eq!(w.bytes(), before);

    // The order fix: nobody leaves service, so it applies on the tap.
    w.t.clear();
    w.tap_as(ADMIN, false, menu, &set).await;
    let calls = w.t.calls();
    assert!(
        calls.iter().any(|c| c.text() == Some("Applying the fix…")),
        "{calls:?}"
    );
    let (on, done, _) = w.last_shown();
    assert_eq!(on, menu);
    assert!(done.starts_with("Stored the order openai:alice@example.com, openai:carol@example.com, openai:bob@example.com."), "{done}");
    assert!(done.contains("verified") && !done.contains("NOT"), "{done}");
    assert_eq!(order(&w), json!([ALICE, CAROL, BOB]));
    // The same button again: that finding is gone, so it is out of date.
    let before = w.bytes();
    w.tap_as(ADMIN, false, menu, &set).await;
    assert_eq!(
        w.notices().last().cloned().flatten().as_deref(),
        Some(STALE)
    );
    // A confirmation tap never offered does nothing.
    let forged = retire.replace("codex_auth_fix:", "codex_auth_fixok:");
    w.tap_as(ADMIN, false, menu, &forged).await;
    assert_eq!(
        w.notices().last().cloned().flatten().as_deref(),
        Some(STALE)
    );
    assert_eq!(w.bytes(), before);

    // Retire: carol leaves service, so it asks first.
    w.tap_as(ADMIN, false, menu, &retire).await;
    let (_, ask, kb) = w.last_shown();
    assert!(
        ask.starts_with("Retire openai:carol@example.com? The gateway stops using it"),
        "{ask}"
    );
    has(&ask, &["Leaves service: openai:carol@example.com."]);
    assert_eq!(w.bytes(), before, "nothing before the confirmation");
    w.tap_as(ADMIN, false, menu, &button(&kb, "Yes, do it"))
        .await;
    let (_, done, _) = w.last_shown();
    assert!(
        done.starts_with("Retired openai:carol@example.com: out of the order, its login is kept."),
        "{done}"
    );
    assert_eq!(order(&w), json!([ALICE, BOB]));
    assert!(
        w.fx.state_db_cells().0.unwrap()["profiles"]
            .get(CAROL)
            .is_some(),
        "credential kept"
    );
    w.assert_no_token();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_and_terminal_apply_the_order_fix() {
    let fx = Fixture::new();
    fx.state_db(&store(), Some(&state()));
    let tg = Telegram::start(config(&fx)).await;
    let admin = ADMIN.0 as i64;
    tg.api.push_text(ADMIN.0, admin, "/codex_auth doctor");
    let shown = tg
        .api
        .wait_text(admin, "Doctor: something needs action", WAIT)
        .await;
    no_shell_words(shown.text());
    let (_, set) = shown
        .buttons()
        .into_iter()
        .find(|(l, _)| l.ends_with(": Set the order"))
        .expect("a set-order button");
    tg.api.push_tap(ADMIN.0, admin, shown.message_id(), &set);
    let done = tg.api.wait_text(admin, "Stored the order", WAIT).await;
    assert_eq!(done.message_id(), shown.message_id());
    assert_eq!(
        fx.state_db_cells().1.unwrap()["order"]["openai"],
        json!([ALICE, CAROL, BOB])
    );
    tg.stop(&tokens_of(&store())).await;

    // The terminal: retire by reply words, after the confirmation.
    let state_dir = fx.state_arg();
    let run = run_with_stdin(
        fx.home(),
        &[("OPENCLAW_STATE_DIR", state_dir.as_str())],
        &["chat"],
        "/codex_auth doctor\nretire1\nconfirm\n",
    );
    run.expect_code(0);
    has(&run.stdout, &["Reply with: login1 | retire1"]);
    has(&run.stdout, &["Leaves service: openai:carol@example.com."]);
    has(&run.stdout, &["Retired openai:carol@example.com"]);
    assert_eq!(
        fx.state_db_cells().1.unwrap()["order"]["openai"],
        json!([ALICE, BOB])
    );
}
