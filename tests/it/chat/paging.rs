//! Paged selectors with 30 profiles over the real engine: the `/codex_usage` and `/codex_auth`
//! selectors and the `/codex_auth order` view show at most 8 profiles a page with ◀ ▶,
//! every page is reachable, every callback fits in 64 bytes, a page of a list that has
//! changed since is refused as out of date (nothing written), and the text fallback pages
//! with `next`/`back`.

use std::collections::BTreeSet;
use std::time::Duration;

use codex_profiler::chat::transport::Keyboard;
use serde_json::{Map, Value, json};

use super::order::{World, files};
use super::recording::{ADMIN, Call, button};
use crate::support::cli;
use crate::support::fixtures::{Fixture, plus_oauth};

const N: usize = 30;

fn id(i: usize) -> String {
    format!("openai:p{i:02}")
}

fn thirty() -> Fixture {
    let fx = Fixture::new();
    let far = chrono::Utc::now().timestamp_millis() + 10 * 86_400_000;
    let profiles: Map<String, Value> = (0..N)
        .map(|i| (id(i), plus_oauth(&format!("p{i:02}"), far)))
        .collect();
    let order: Vec<String> = (0..N).map(id).collect();
    fx.state_db(
        &json!({"version": 1, "profiles": profiles}),
        Some(&json!({"version": 1, "order": {"openai": order}})),
    );
    fx
}

/// The text and keyboard of the last message sent or edited.
fn last(w: &World) -> (String, Option<Keyboard>) {
    w.t.calls()
        .into_iter()
        .rev()
        .find_map(|c| match c {
            Call::Send { text, keyboard, .. } | Call::Edit { text, keyboard, .. } => {
                Some((text, keyboard))
            }
            _ => None,
        })
        .expect("something shown")
}

fn has(kb: &Option<Keyboard>, label: &str) -> bool {
    kb.iter().flatten().flatten().any(|b| b.label == label)
}

/// Walk a menu from its first page with ▶ and back one page with ◀: the emails its
/// buttons name, each page's.
async fn walk(w: &World, command: &str) -> Vec<BTreeSet<String>> {
    w.say(command).await;
    let (menu, _, _) = w.t.last_send();
    let mut pages = Vec::new();
    loop {
        let (text, kb) = last(w);
        let k = pages.len() + 1;
        assert!(
            text.contains(&format!("Page {k} of 4.")),
            "{command}: {text}"
        );
        let mut names = BTreeSet::new();
        for b in kb.iter().flatten().flatten() {
            assert!(b.data.len() <= 64, "{command}: {} is too long", b.data);
            if let Some(at) = b.label.find("p") {
                let name = &b.label[at..];
                if name.ends_with("@example.com") {
                    names.insert(name.to_owned());
                }
            }
        }
        assert!(names.len() <= 8, "{command} page {k}: {names:?}");
        pages.push(names);
        if !has(&kb, "▶") {
            assert!(has(&kb, "◀"), "{command}: the last page goes back");
            w.tap_as(ADMIN, false, menu, &button(&kb, "◀")).await;
            assert!(last(w).0.contains("Page 3 of 4."), "{}", last(w).0);
            return pages;
        }
        w.tap_as(ADMIN, false, menu, &button(&kb, "▶")).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_profiles_page_through_every_selector() {
    let w = World::new(thirty(), true);
    let before = files(&w.fx.state_dir());
    let all: BTreeSet<String> = (0..N).map(|i| format!("p{i:02}@example.com")).collect();
    for command in ["/codex_usage", "/codex_auth", "/codex_auth order"] {
        let pages = walk(&w, command).await;
        assert_eq!(pages.len(), 4, "{command}");
        let seen: BTreeSet<String> = pages.iter().flatten().cloned().collect();
        assert_eq!(seen, all, "{command}: every profile on some page");
        assert_eq!(
            pages.iter().map(BTreeSet::len).sum::<usize>(),
            N,
            "{command}: once each"
        );
    }
    assert_eq!(files(&w.fx.state_dir()), before, "paging wrote something");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_of_a_changed_list_is_refused() {
    let w = World::new(thirty(), true);
    w.say("/codex_usage").await;
    let (usage_menu, _, usage_kb) = w.t.last_send();
    w.say("/codex_auth order").await;
    let (order_menu, _, order_kb) = w.t.last_send();

    // Another admin (or the gateway) changes the store behind both menus.
    let state = w.fx.state_arg();
    let args = [
        "--state-dir",
        state.as_str(),
        "delete",
        "p29@example.com",
        "--yes",
    ];
    cli::run(w.fx.home(), &[], &args).expect_code(0);
    // The chat shares a store read for up to a second.
    tokio::time::sleep(Duration::from_millis(1100)).await;

    let before = files(&w.fx.state_dir());
    w.t.clear();
    w.tap_as(ADMIN, false, usage_menu, &button(&usage_kb, "▶"))
        .await;
    assert!(w.stale(), "{:?}", w.t.calls());
    w.t.clear();
    w.tap_as(ADMIN, false, order_menu, &button(&order_kb, "▶"))
        .await;
    assert!(w.stale(), "{:?}", w.t.calls());
    assert!(
        !w.t.calls().iter().any(|c| matches!(c, Call::Edit { .. })),
        "a stale page leaves the menu as it was: {:?}",
        w.t.calls()
    );
    assert_eq!(
        files(&w.fx.state_dir()),
        before,
        "a stale page wrote something"
    );

    // A fresh menu pages again.
    w.say("/codex_usage").await;
    let (menu, text, kb) = w.t.last_send();
    assert!(text.contains("Page 1 of 4."), "{text}");
    w.tap_as(ADMIN, false, menu, &button(&kb, "▶")).await;
    assert!(last(&w).0.contains("Page 2 of 4."), "{}", last(&w).0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_text_fallback_pages_with_next_and_back() {
    let w = World::new(thirty(), false);
    w.say("/codex_auth").await;
    let (text, _) = last(&w);
    assert!(
        text.contains("Page 1 of 4.") && text.contains("| next |"),
        "{text}"
    );
    assert!(!text.contains("p08@example.com"), "page 1 only: {text}");
    w.say("next").await;
    let (text, _) = last(&w);
    assert!(
        text.contains("Page 2 of 4.") && text.contains("p08@example.com"),
        "{text}"
    );
    assert!(text.contains("back | next"), "{text}");
    w.say("back").await;
    assert!(last(&w).0.contains("Page 1 of 4."), "{}", last(&w).0);
}
