//! `/codex_usage history [SEL]` in the conversation core over a recording transport: progress
//! first, then the photo and the caption on the progress message where photos exist, the
//! sparklines in its place where not, no history as a sentence, permissions as `/codex_usage`,
//! duplicates, a failed photo, and the selector's History button.

use codex_profiler::chat::backend::HistoryChart;
use codex_profiler::chat::transport::{MessageRef, TransportError};

use super::Harness;
use super::fake_backend::FAKE_PNG;
use super::recording::{ADMIN, Call, GROUP, PRIVATE, Recording, STRANGER, USER, button};

const ALICE: &str = "openai:alice@example.com";
const BOB: &str = "openai:bob@example.com";
const PROGRESS: &str = "Drawing the Codex usage history…";

fn two(photos: bool) -> Harness {
    let t = if photos {
        Recording::with_photos(true)
    } else {
        Recording::new(false)
    };
    Harness::with_transport(t, &[ALICE, BOB])
}

fn history_calls(h: &Harness) -> Vec<(Vec<String>, bool)> {
    h.fake.history_calls.lock().unwrap().clone()
}

#[tokio::test]
async fn with_photos_progress_first_then_the_photo_then_the_caption_on_the_progress() {
    let h = two(true);
    h.say(USER, true, "/codex_usage@codex_bot history").await;
    let calls = h.t.calls();
    let [
        Call::Send { message, text, .. },
        Call::Photo {
            message: photo,
            png,
            caption,
        },
        Call::Edit {
            message: edited,
            text: heading,
            ..
        },
    ] = calls.as_slice()
    else {
        panic!("expected progress, photo, edit: {calls:?}");
    };
    assert_eq!(text, PROGRESS);
    assert_eq!(message.chat, GROUP);
    assert_eq!(photo.chat, GROUP);
    assert!(photo.message_id > message.message_id, "the photo follows");
    assert_eq!(edited, message, "the result lands on the progress message");
    assert_eq!(png.as_slice(), FAKE_PNG);
    assert_eq!(heading, caption);
    assert!(
        caption.starts_with("Codex usage history, last 7 days (4 lines"),
        "{caption}"
    );
    assert!(caption.contains("alice@example.com, bob@example.com"));
    assert!(
        caption.contains("\nForecast: pool (2 usable profiles)"),
        "{caption}"
    );
    assert_eq!(
        history_calls(&h),
        vec![(vec![ALICE.to_owned(), BOB.to_owned()], true)],
        "`history` alone is every profile, a PNG asked for"
    );
}

#[tokio::test]
async fn without_photos_the_sparklines_replace_the_progress_and_no_png_is_drawn() {
    let h = two(false);
    h.say(ADMIN, false, "/codex_usage history bob@example.com")
        .await;
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
        panic!("expected progress then edit: {calls:?}");
    };
    assert_eq!(text, PROGRESS);
    assert_eq!(message, edited);
    assert!(
        result.starts_with("Codex usage history, last 7 days (oldest left):\nbob@example.com 5h"),
        "{result}"
    );
    assert!(result.contains("bob@example.com week ██▇▇▇ 88% left"));
    assert!(
        result.ends_with("Forecast: pool (2 usable profiles) · all usable quota runs out in ~3h")
    );
    assert_eq!(history_calls(&h), vec![(vec![BOB.to_owned()], false)]);
}

#[tokio::test]
async fn no_history_is_a_sentence_not_an_empty_chart() {
    let h = two(true);
    *h.fake.history.lock().unwrap() = Some(Ok(HistoryChart {
        days: 7,
        ..HistoryChart::default()
    }));
    h.say(ADMIN, false, "/codex_usage history").await;
    let calls = h.t.calls();
    assert!(
        !calls.iter().any(|c| matches!(c, Call::Photo { .. })),
        "{calls:?}"
    );
    let Some(Call::Edit { text, .. }) = calls.last() else {
        panic!("{calls:?}");
    };
    assert!(
        text.starts_with("No usage history yet for these profiles in the last 7 days"),
        "{text}"
    );
}

#[tokio::test]
async fn permissions_are_those_of_codex_usage() {
    let h = two(true);
    h.say(STRANGER, false, "/codex_usage history").await;
    h.say(STRANGER, true, "/codex_usage history all").await;
    assert!(history_calls(&h).is_empty(), "a stranger runs nothing");
    let refusals = h.t.all_text();
    assert_eq!(
        refusals
            .matches("You are not allowed to use this bot")
            .count(),
        2,
        "{refusals}"
    );
    h.t.clear();
    // A viewer (not an admin) may, in a group too, like `/codex_usage`.
    h.say(USER, true, "/codex_usage history").await;
    assert_eq!(history_calls(&h).len(), 1);
    assert!(h.t.calls().iter().any(|c| matches!(c, Call::Photo { .. })));
}

#[tokio::test]
async fn the_same_request_within_20_s_runs_nothing() {
    let h = two(true);
    h.say(ADMIN, false, "/codex_usage history all").await;
    h.t.clear();
    // `history` alone resolves to the same profiles: the same request.
    h.say(ADMIN, false, "/codex_usage history").await;
    assert_eq!(history_calls(&h).len(), 1, "no second run");
    let calls = h.t.calls();
    assert!(
        matches!(calls.as_slice(), [Call::Send { text, .. }] if text.contains("already running or just finished")),
        "{calls:?}"
    );
    // Another selection, or another user, is not a duplicate.
    h.say(ADMIN, false, "/codex_usage history bob@example.com")
        .await;
    h.say(USER, false, "/codex_usage history").await;
    assert_eq!(history_calls(&h).len(), 3);
}

#[tokio::test]
async fn a_failed_photo_is_said_on_the_progress_message_with_the_text_chart() {
    let h = two(true);
    *h.t.photo_error.lock().unwrap() = Some(TransportError("Internal Server Error".into()));
    h.say(ADMIN, false, "/codex_usage history").await;
    let calls = h.t.calls();
    let Call::Send { message, .. } = &calls[0] else {
        panic!("{calls:?}");
    };
    let Some(Call::Edit {
        message: edited,
        text,
        ..
    }) = calls.last()
    else {
        panic!("{calls:?}");
    };
    assert_eq!(edited, message);
    assert!(
        text.starts_with(
            "Sending the usage history chart failed: Internal Server Error. Here it is as text instead.\nCodex usage history, last 7 days (oldest left):\nalice@example.com 5h"
        ),
        "{text}"
    );
}

#[tokio::test]
async fn the_usage_selector_has_a_history_button_on_the_same_message() {
    let h = two(true);
    h.say(ADMIN, false, "/codex_usage").await;
    let (menu, _, kb) = h.t.last_send();
    let data = button(&kb, "History");
    assert_eq!(data, "codex_auth_history:all");
    h.t.clear();
    h.tap(ADMIN, false, menu, &data).await;
    let calls = h.t.calls();
    assert_eq!(h.t.answers(), vec![None], "answered once: {calls:?}");
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
    assert!(edits[1].1.starts_with("Codex usage history"), "{edits:?}");
    assert!(
        calls
            .iter()
            .any(|c| matches!(c, Call::Photo { message, .. } if message.chat == PRIVATE))
    );
    // The same tap again while fresh: "already running", nothing run.
    h.tap(ADMIN, false, menu, &data).await;
    assert_eq!(history_calls(&h).len(), 1);
    // A forged history button does nothing.
    h.tap(ADMIN, false, menu, "codex_auth_history:nobody").await;
    assert_eq!(history_calls(&h).len(), 1);
}

#[tokio::test]
async fn a_selector_that_names_nothing_is_said_and_nothing_is_drawn() {
    let h = two(true);
    h.say(ADMIN, false, "/codex_usage history carol@example.com")
        .await;
    assert!(history_calls(&h).is_empty());
    let text = h.t.all_text();
    assert!(!text.contains(PROGRESS), "{text}");
    assert!(!text.is_empty());
}

/// The terminal adapter (`codex-profiler chat`) has no photos: the chart comes as one
/// sparkline per profile and window, from the real engine over a seeded history.
#[test]
fn the_terminal_shows_sparklines_per_profile_and_window() {
    use codex_profiler::engine::history::{HistoryStore, SqliteHistory};

    use crate::support::cli::run_with_stdin;
    use crate::support::history::burning_to_58;

    let r = super::engine::real_with(false, "http://127.0.0.1:9");
    let now = chrono::Utc::now().timestamp_millis();
    let mut store = SqliteHistory::open_in(&r.fx.state_dir()).unwrap();
    store.append(&burning_to_58(ALICE, now)).unwrap();
    drop(store);
    let state_dir = r.fx.state_arg();
    let run = run_with_stdin(
        r.fx.home(),
        &[],
        &["--state-dir", &state_dir, "chat"],
        "/codex_usage history\n",
    );
    run.expect_code(0);
    let out = &run.stdout;
    assert!(out.contains(PROGRESS), "{out}");
    assert!(
        out.contains("(edited)> Codex usage history, last 7 days (oldest left):"),
        "{out}"
    );
    let spark = |window: &str| {
        out.lines()
            .find(|l| {
                l.trim_start()
                    .starts_with(&format!("alice@example.com {window}"))
            })
            .unwrap_or_else(|| panic!("no {window} line in {out}"))
            .to_owned()
    };
    assert!(spark("5h").ends_with("% left"), "{out}");
    assert!(spark("week").contains('▇'), "{out}");
    // bob has no history: no line is drawn for him.
    assert!(!out.contains("bob@example.com"), "{out}");
    assert!(!out.contains("PNG"), "{out}");
}

/// Without buttons the selector offers `history` as a reply word, which runs the chart.
#[tokio::test]
async fn the_text_fallback_takes_history_as_a_reply() {
    let h = two(false);
    h.say(ADMIN, false, "/codex_usage").await;
    let (_, text, _) = h.t.last_send();
    assert!(text.ends_with("| history"), "{text}");
    h.t.clear();
    h.say(ADMIN, false, "History").await;
    assert_eq!(
        history_calls(&h),
        vec![(vec![ALICE.to_owned(), BOB.to_owned()], false)]
    );
    assert!(h.t.all_text().contains("Codex usage history, last 7 days"));
}

/// A transport that claims photos but answers "photos not supported" gets the text chart in
/// the progress message's place, not a failure.
#[tokio::test]
async fn photos_unsupported_at_send_time_falls_back_to_the_sparklines() {
    let h = two(true);
    *h.t.photo_error.lock().unwrap() = Some(TransportError::photos_unsupported());
    h.say(ADMIN, false, "/codex_usage history").await;
    let calls = h.t.calls();
    let Some(Call::Edit { text, .. }) = calls.last() else {
        panic!("{calls:?}");
    };
    assert!(
        text.starts_with("Codex usage history, last 7 days (oldest left):\nalice@example.com 5h"),
        "{text}"
    );
    assert!(!text.contains("failed"), "{text}");
}
