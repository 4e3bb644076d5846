//! The conversation core end to end over a recording transport: selectors and taps, progress
//! first on one path, duplicates, stale and forged buttons, permissions, login by pasted URL,
//! delete confirmation, the text fallback and over-long reports.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use codex_profiler::chat::transport::MessageRef;
use tokio::sync::Semaphore;

use super::Harness;
use super::fake_backend::{CODE, STATE, callback_url, line};
use super::recording::{ADMIN, Call, GROUP, PRIVATE, Recording, STRANGER, USER, button};
use crate::support::cli::assert_no_secret_in;

const ALICE: &str = "openai:alice@example.com";
const BOB: &str = "openai:bob@example.com";
const PROGRESS: &str = "Running Codex usage check…";
const STALE: &str = "This menu is out of date. Nothing was done; open it again.";

fn two() -> Harness {
    Harness::new(true, &[ALICE, BOB])
}

#[tokio::test]
async fn usage_selector_tap_edits_progress_then_result_on_the_same_message() {
    let h = two();
    h.say(ADMIN, false, "/codex_usage").await;
    let (menu, text, kb) = h.t.last_send();
    assert!(text.contains("Which Codex profiles"), "{text}");
    let labels: Vec<String> = kb
        .iter()
        .flatten()
        .flatten()
        .map(|b| b.label.clone())
        .collect();
    assert_eq!(
        labels,
        [
            "Default",
            "All profiles",
            "alice@example.com",
            "bob@example.com",
            "History"
        ]
    );
    assert!(
        kb.iter()
            .flatten()
            .flatten()
            .all(|b| b.data.len() <= 64 && b.data.starts_with("codex_auth_"))
    );
    h.t.clear();

    h.tap(ADMIN, false, menu, &button(&kb, "alice@example.com"))
        .await;
    let calls = h.t.calls();
    assert_eq!(h.t.answers(), vec![None], "answered exactly once");
    let edits: Vec<(MessageRef, String)> = calls
        .iter()
        .filter_map(|c| match c {
            Call::Edit { message, text, .. } => Some((*message, text.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(edits.len(), 2, "{calls:?}");
    assert_eq!(edits[0], (menu, PROGRESS.to_owned()));
    assert_eq!(edits[1].0, menu);
    assert!(
        edits[1].1.contains(&line("alice@example.com")),
        "{}",
        edits[1].1
    );
    assert!(!edits[1].1.contains("bob@"));
    assert!(
        !calls.iter().any(|c| matches!(c, Call::Send { .. })),
        "no other path: {calls:?}"
    );
    // The answer came before any remote work's result.
    assert!(matches!(calls[0], Call::Answer { .. }));
}

#[tokio::test]
async fn usage_all_sends_progress_first_then_edits_it() {
    let h = two();
    h.say(USER, true, "/codex_usage@codex_bot all").await;
    let calls = h.t.calls();
    let [
        Call::Send { message, text, .. },
        Call::Edit {
            message: edited,
            text: result,
            ..
        },
    ] = calls.as_slice()
    else {
        panic!("expected send then edit: {calls:?}");
    };
    assert_eq!(text, PROGRESS);
    assert_eq!(message, edited);
    assert_eq!(message.chat, GROUP);
    assert!(
        result.contains(&line("alice@example.com")) && result.contains(&line("bob@example.com"))
    );
    assert_eq!(h.fake.usage_calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn the_same_request_within_20_s_runs_once() {
    let h = two();
    // While it runs.
    let gate = Arc::new(Semaphore::new(0));
    *h.fake.gate.lock().unwrap() = Some(gate.clone());
    let first = {
        let (conv, t) = (h.conv.clone(), h.transport());
        let (e, _) = super::recording::text(ADMIN, false, "/codex_usage all");
        tokio::spawn(async move { conv.handle(e, t).await })
    };
    while h.fake.usage_calls.load(Ordering::SeqCst) == 0 {
        tokio::task::yield_now().await;
    }
    h.say(ADMIN, false, "/codex_usage all").await;
    assert!(h.t.all_text().contains("already running or just finished"));
    gate.add_permits(10);
    first.await.unwrap();
    // And after it finished: `/codex_usage openai:alice...` and `alice...` resolve the same.
    h.say(ADMIN, false, "/codex_usage alice@example.com").await;
    h.say(ADMIN, false, &format!("/codex_usage {ALICE}")).await;
    assert_eq!(h.fake.usage_calls.load(Ordering::SeqCst), 2);
    // Another user is not a duplicate.
    h.say(USER, false, "/codex_usage all").await;
    assert_eq!(h.fake.usage_calls.load(Ordering::SeqCst), 3);

    // The same button twice: the second tap gets a short answer and no run.
    h.say(ADMIN, false, "/codex_usage").await;
    let (menu, _, kb) = h.t.last_send();
    let bob = button(&kb, "bob@example.com");
    h.t.clear();
    h.tap(ADMIN, false, menu, &bob).await;
    h.tap(ADMIN, false, menu, &bob).await;
    assert_eq!(h.fake.usage_calls.load(Ordering::SeqCst), 4);
    assert_eq!(
        h.t.answers(),
        vec![
            None,
            Some("Already running (or just done); see the message above.".to_owned())
        ]
    );
}

#[tokio::test]
async fn stale_forged_and_unknown_buttons_do_nothing() {
    let h = two();
    h.say(ADMIN, false, "/codex_usage").await;
    let (menu, _, kb) = h.t.last_send();
    let bob = button(&kb, "bob@example.com");
    h.fake.remove(BOB);
    h.t.clear();
    for data in [
        bob.as_str(),
        "codex_auth_usage:000000000000",
        "codex_auth_delete:openai:alice@example.com",
        "codex_auth_launch:all",
        "hello",
        &format!("codex_auth_usage:{}", "a".repeat(80)),
    ] {
        h.tap(ADMIN, false, menu, data).await;
    }
    assert_eq!(h.t.answers(), vec![Some(STALE.to_owned()); 6]);
    assert_eq!(
        h.t.calls().len(),
        6,
        "nothing but the answers: {:?}",
        h.t.calls()
    );
    assert_eq!(h.fake.usage_calls.load(Ordering::SeqCst), 0);
    assert_eq!(h.fake.delete_calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn strangers_are_refused_with_their_id() {
    let h = two();
    h.say(STRANGER, false, "/codex_usage all").await;
    h.say(STRANGER, false, "/start").await;
    h.tap(
        STRANGER,
        false,
        MessageRef {
            chat: PRIVATE,
            message_id: 1,
        },
        "codex_auth_usage:all",
    )
    .await;
    // Chatter in a group is not for us.
    h.say(STRANGER, true, "hello everyone").await;
    let texts: Vec<String> =
        h.t.calls()
            .iter()
            .filter_map(|c| c.text().map(str::to_owned))
            .collect();
    assert_eq!(texts.len(), 3, "{texts:?}");
    assert!(
        texts
            .iter()
            .all(|t| t.contains("not allowed") && t.contains("Your user id is 3"))
    );
    assert_eq!(h.t.answers().len(), 1);
    assert_eq!(h.fake.usage_calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn users_view_but_do_not_change_and_admins_change_only_in_private() {
    let h = two();
    h.say(USER, false, "/codex_auth alice@example.com").await;
    let (_, status, kb) = h.t.last_send();
    assert!(
        status.contains("token: ok") && status.contains(ALICE),
        "{status}"
    );
    assert!(kb.is_none(), "no actions for a viewer");

    for cmd in [
        "/codex_auth login work",
        "/codex_auth retire alice@example.com",
        "/codex_auth delete bob@example.com confirm",
    ] {
        h.say(USER, false, cmd).await;
        assert!(
            h.t.last_send()
                .1
                .starts_with("Only an admin may do that. Your user id is 2"),
            "{cmd}"
        );
        h.say(ADMIN, true, cmd).await;
        assert!(
            h.t.last_send().1.contains("only work in a private chat"),
            "{cmd}"
        );
    }
    // A forged admin button from a user is refused in the answer.
    let key = {
        h.say(ADMIN, false, "/codex_auth alice@example.com").await;
        let (_, _, kb) = h.t.last_send();
        button(&kb, "Retire")
    };
    h.t.clear();
    h.tap(
        USER,
        false,
        MessageRef {
            chat: PRIVATE,
            message_id: 5,
        },
        &key,
    )
    .await;
    assert_eq!(h.t.answers().len(), 1);
    assert!(
        h.t.answers()[0]
            .as_deref()
            .unwrap_or("")
            .starts_with("Only an admin")
    );
    assert_eq!(h.fake.retire_calls.load(Ordering::SeqCst), 0);
    assert_eq!(h.fake.delete_calls.load(Ordering::SeqCst), 0);
    assert!(h.fake.pending.lock().unwrap().is_empty());

    // The admin in private may.
    h.tap(
        ADMIN,
        false,
        MessageRef {
            chat: PRIVATE,
            message_id: 5,
        },
        &key,
    )
    .await;
    assert_eq!(h.fake.retire_calls.load(Ordering::SeqCst), 1);
    assert!(h.t.all_text().contains("Retired openai:alice@example.com"));
}

#[tokio::test]
async fn login_by_pasted_url_in_private_deletes_it_and_leaks_nothing() {
    let h = two();
    h.say(ADMIN, false, "/codex_auth login work").await;
    let (_, started, _) = h.t.last_send();
    assert!(
        started.contains("/oauth/authorize") && started.contains("openai:work"),
        "{started}"
    );
    h.t.clear();

    let pasted = h.say(ADMIN, false, &callback_url()).await;
    let calls = h.t.calls();
    assert_eq!(calls[0], Call::Delete(pasted), "deleted first: {calls:?}");
    let [
        _,
        Call::Send { message, text, .. },
        Call::Edit {
            message: edited,
            text: result,
            ..
        },
    ] = calls.as_slice()
    else {
        panic!("expected delete, progress, result: {calls:?}");
    };
    assert_eq!(message, edited);
    assert!(
        text.contains("http://localhost:1455/auth/callback?code=…&state=…"),
        "{text}"
    );
    assert!(
        result.contains("Added openai:work (work@example.com, plus)"),
        "{result}"
    );
    assert_eq!(h.fake.finish_calls.load(Ordering::SeqCst), 1);
    assert_no_secret_in(&h.t.all_text(), &[CODE, STATE]);

    // With no login pending: deleted, explained, nothing finished.
    h.t.clear();
    let again = h.say(ADMIN, false, &callback_url()).await;
    assert_eq!(h.t.calls()[0], Call::Delete(again));
    assert!(h.t.all_text().contains("no login is waiting for you"));
    assert_eq!(h.fake.finish_calls.load(Ordering::SeqCst), 1);
    assert_no_secret_in(&h.t.all_text(), &[CODE, STATE]);
}

#[tokio::test]
async fn a_callback_url_in_a_group_is_refused_and_deleted() {
    let h = two();
    h.say(ADMIN, false, "/codex_auth login work").await;
    h.t.clear();
    let pasted = h
        .say(
            ADMIN,
            true,
            &format!("/codex_auth finish work {}", callback_url()),
        )
        .await;
    let calls = h.t.calls();
    assert_eq!(calls[0], Call::Delete(pasted));
    assert!(
        h.t.all_text()
            .contains("Never paste a login address in a group")
    );
    assert_eq!(h.fake.finish_calls.load(Ordering::SeqCst), 0);
    assert_no_secret_in(&h.t.all_text(), &[CODE, STATE]);
    // Even a stranger's URL is deleted.
    let theirs = h.say(STRANGER, true, &callback_url()).await;
    assert!(h.t.calls().contains(&Call::Delete(theirs)));
}

#[tokio::test]
async fn delete_needs_a_confirmation_tap_or_confirm() {
    let h = two();
    h.say(ADMIN, false, "/codex_auth delete bob@example.com")
        .await;
    let (menu, text, kb) = h.t.last_send();
    assert!(text.starts_with("Delete openai:bob@example.com?"), "{text}");
    assert_eq!(h.fake.delete_calls.load(Ordering::SeqCst), 0);
    let confirm = button(&kb, "Yes, delete it");

    // Cancel, then the old confirm button is stale.
    h.tap(ADMIN, false, menu, &button(&kb, "Cancel")).await;
    h.tap(ADMIN, false, menu, &confirm).await;
    assert_eq!(
        h.t.answers().last().cloned().flatten().as_deref(),
        Some(STALE)
    );
    assert_eq!(h.fake.delete_calls.load(Ordering::SeqCst), 0);

    // Asked again, confirmed: deleted once, result on the same message.
    h.say(ADMIN, false, "/codex_auth delete bob@example.com")
        .await;
    let (menu, _, _) = h.t.last_send();
    h.t.clear();
    h.tap(ADMIN, false, menu, &confirm).await;
    assert_eq!(h.fake.delete_calls.load(Ordering::SeqCst), 1);
    assert!(h.t.calls().iter().any(|c| matches!(c, Call::Edit { message, text, .. } if *message == menu && text.starts_with("Deleted openai:bob@example.com"))));

    // The command with `confirm` deletes at once.
    h.say(ADMIN, false, "/codex_auth delete alice@example.com confirm")
        .await;
    assert_eq!(h.fake.delete_calls.load(Ordering::SeqCst), 2);
    assert_eq!(h.t.answers().len(), 1);
}

#[tokio::test]
async fn text_fallback_takes_a_bare_reply_from_the_same_user() {
    let h = Harness::new(false, &[ALICE, BOB]);
    h.say(ADMIN, false, "/codex_usage").await;
    let (_, text, kb) = h.t.last_send();
    assert!(kb.is_none());
    assert!(
        text.ends_with("Reply with: default | all | alice@example.com | bob@example.com | history"),
        "{text}"
    );
    // Someone else's reply is not the choice.
    h.say(USER, false, "bob@example.com").await;
    assert_eq!(h.fake.usage_calls.load(Ordering::SeqCst), 0);
    h.t.clear();
    h.say(ADMIN, false, "bob@example.com").await;
    assert_eq!(h.fake.usage_calls.load(Ordering::SeqCst), 1);
    let calls = h.t.calls();
    assert!(
        matches!(&calls[0], Call::Send { text, .. } if text == PROGRESS),
        "{calls:?}"
    );
    assert!(h.t.all_text().contains(&line("bob@example.com")));
    // Used up: the same word again is not understood.
    h.t.clear();
    h.say(ADMIN, false, "bob@example.com").await;
    assert!(h.t.all_text().contains("I did not understand"));

    // Delete confirmation by reply.
    h.say(ADMIN, false, "/codex_auth delete alice@example.com")
        .await;
    assert!(h.t.last_send().1.contains("Reply with: confirm | cancel"));
    h.say(ADMIN, false, "confirm").await;
    assert_eq!(h.fake.delete_calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_long_report_continues_in_follow_up_messages() {
    let ids: Vec<String> = (0..40)
        .map(|i| format!("openai:user{i:02}@example.com"))
        .collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let h = Harness::with_transport(Recording::with_max_len(true, 500), &refs);
    h.say(ADMIN, false, "/codex_usage all").await;
    let calls = h.t.calls();
    let Call::Send {
        message: progress, ..
    } = &calls[0]
    else {
        panic!("{calls:?}")
    };
    assert!(matches!(&calls[1], Call::Edit { message, .. } if message == progress));
    let follow_ups = calls[2..]
        .iter()
        .filter(|c| matches!(c, Call::Send { .. }))
        .count();
    assert!(follow_ups >= 5, "{follow_ups}");
    let all = h.t.all_text();
    for i in 0..40 {
        assert!(
            all.contains(&line(&format!("user{i:02}@example.com"))),
            "line {i} lost"
        );
    }
}

#[tokio::test]
async fn bad_input_gets_a_short_answer_and_changes_nothing() {
    let h = two();
    for (input, expect) in [
        // The rest of the line is one selector (labels have spaces).
        ("/codex_usage a b", "no Codex profile matches `a b`"),
        ("/codex_auth login", "Wrong arguments"),
        ("/frobnicate", "I do not know /frobnicate"),
        ("/codex_usage carol", "no Codex profile matches `carol`"),
        ("/codex_auth example.com", "matches more than one profile"),
        ("/codex_auth all", "names 2 profiles"),
        ("hello", "I did not understand"),
    ] {
        h.t.clear();
        h.say(ADMIN, false, input).await;
        assert!(
            h.t.all_text().contains(expect),
            "{input}: {}",
            h.t.all_text()
        );
    }
    h.t.clear();
    h.say(ADMIN, false, &"x".repeat(5000)).await;
    assert!(
        h.t.all_text()
            .contains("too long (5000 characters; at most 4096)")
    );
    assert_eq!(h.fake.usage_calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn device_login_edits_its_message_when_it_completes() {
    let h = two();
    h.say(ADMIN, false, "/codex_auth device work").await;
    let calls = h.t.calls();
    let Call::Send { message, .. } = &calls[0] else {
        panic!("{calls:?}")
    };
    assert!(
        matches!(&calls[1], Call::Edit { message: m, text, .. } if m == message && text.contains("ABCD-1234"))
    );
    let tx = h.fake.device_done.lock().unwrap().take().unwrap();
    tx.send(Ok(codex_profiler::chat::backend::LoginDone {
        profile: "openai:work".into(),
        email: Some("work@example.com".into()),
        plan: None,
        updated: true,
        requested: None,
        account: None,
    }))
    .unwrap();
    for _ in 0..200 {
        if h.t.calls().len() >= 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let calls = h.t.calls();
    assert!(
        matches!(&calls[2], Call::Edit { message: m, text, .. } if m == message && text.contains("Device login finished: updated openai:work")),
        "{calls:?}"
    );
}

#[tokio::test]
async fn start_help_and_menu() {
    let h = two();
    h.say(USER, false, "/start").await;
    assert!(h.t.last_send().1.contains("You may check usage"));
    h.say(USER, false, "/help").await;
    assert!(
        !h.t.last_send().1.contains("login NAME"),
        "admin commands hidden from viewers"
    );
    h.say(ADMIN, false, "/help").await;
    assert!(h.t.last_send().1.contains("/codex_auth login NAME"));
    let menu = codex_profiler::chat::Conversation::menu();
    assert!(menu.iter().any(|(c, _)| c == "codex_usage"));
    assert!(menu.iter().any(|(c, _)| c == "codex_auth"));
}

#[tokio::test]
async fn a_bug_in_a_flow_still_answers_the_tap_once_and_the_core_goes_on() {
    let h = two();
    h.say(ADMIN, false, "/codex_usage").await;
    let (menu, _, kb) = h.t.last_send();
    h.fake.panic_on_profiles.store(true, Ordering::SeqCst);
    h.t.clear();
    h.tap(ADMIN, false, menu, &button(&kb, "alice@example.com"))
        .await;
    assert_eq!(h.t.answers(), vec![None], "answered exactly once");
    h.fake.panic_on_profiles.store(false, Ordering::SeqCst);
    h.say(ADMIN, false, "/codex_usage all").await;
    assert!(h.t.all_text().contains(&line("alice@example.com")));
}
