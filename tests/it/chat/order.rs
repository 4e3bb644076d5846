//! `/codex_auth order` end to end over the real engine and a real state-db store: the view
//! (stored and effective order), each button (move up, make first, take out, clear) and
//! `/codex_auth order A B`, through the conversation core with a recording transport (the
//! terminal adapter and the `bot` binary: `order_adapters`).
//! The store is read back after every change and the real `openclaw models auth order get`
//! agrees; bad input (unknown or duplicate id, `all`, a user, a group, a stale menu or
//! confirmation, forged data) leaves every file of the state directory byte for byte as it was.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use codex_profiler::chat::Conversation;
use codex_profiler::chat::transport::{Keyboard, MessageRef, Transport};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::recording::{ADMIN, Call, Recording, USER, button, tap, text};
use crate::support::fixtures::{Fixture, plus_oauth};
use crate::support::openclaw::openclaw;

pub(super) const ALICE: &str = "openai:alice";
pub(super) const BOB: &str = "openai:bob";
pub(super) const CAROL: &str = "openai:carol";

fn far() -> i64 {
    chrono::Utc::now().timestamp_millis() + 10 * 86_400_000
}

/// A state-db fixture with alice, bob and carol, stored order `order` (none if empty).
pub(super) fn fixture(order: &[&str]) -> Fixture {
    let fx = Fixture::new();
    let store = json!({"version": 1, "profiles": {
        ALICE: plus_oauth("alice", far()),
        BOB: plus_oauth("bob", far()),
        CAROL: plus_oauth("carol", far()),
    }});
    let state = if order.is_empty() {
        json!({"version": 1})
    } else {
        json!({"version": 1, "order": {"openai": order}})
    };
    fx.state_db(&store, Some(&state));
    fx
}

/// The stored openai order as the state database holds it now.
pub(super) fn stored(fx: &Fixture) -> Value {
    let (_, state, _) = fx.state_db_cells();
    state.map_or(Value::Null, |s| s["order"]["openai"].clone())
}

/// Every file under `dir` with a digest of its bytes: "nothing written" means this does not
/// change. SQLite's shared-memory index (`-shm`) and an empty write-ahead log, which a mere
/// read of a WAL database leaves, are not writes.
pub(super) fn files(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else {
                let bytes = std::fs::read(&p).unwrap_or_default();
                let name = p.to_string_lossy();
                if name.ends_with("-shm") || (name.ends_with("-wal") && bytes.is_empty()) {
                    continue;
                }
                out.insert(p.clone(), hex::encode(Sha256::digest(bytes)));
            }
        }
    }
    out
}

pub(super) struct World {
    pub fx: Fixture,
    pub conv: Arc<Conversation>,
    pub t: Arc<Recording>,
}

impl World {
    pub fn new(fx: Fixture, buttons: bool) -> World {
        World {
            conv: super::engine_conversation(&fx),
            fx,
            t: Arc::new(Recording::new(buttons)),
        }
    }

    fn transport(&self) -> Arc<dyn Transport> {
        self.t.clone()
    }

    pub async fn say_as(
        &self,
        user: codex_profiler::chat::transport::UserId,
        group: bool,
        s: &str,
    ) {
        let (e, _) = text(user, group, s);
        self.conv.handle(e, self.transport()).await;
    }

    pub async fn say(&self, s: &str) {
        self.say_as(ADMIN, false, s).await;
    }

    pub async fn tap_as(
        &self,
        user: codex_profiler::chat::transport::UserId,
        group: bool,
        on: MessageRef,
        data: &str,
    ) {
        self.conv
            .handle(tap(user, group, on, data), self.transport())
            .await;
    }

    /// The text of the last message sent or edited.
    pub fn last_text(&self) -> String {
        self.t
            .calls()
            .iter()
            .rev()
            .find_map(|c| match c {
                Call::Send { text, .. } | Call::Edit { text, .. } => Some(text.clone()),
                _ => None,
            })
            .unwrap_or_default()
    }

    /// Whether the last tap or reply was refused as out of date.
    pub fn stale(&self) -> bool {
        let notice = self.last_notice().unwrap_or_default();
        notice.contains(STALE) || self.last_text().contains(STALE)
    }

    /// Tap `data` on `on`: refused as out of date, and nothing written.
    pub async fn tap_stale(&self, on: MessageRef, data: &str) {
        let before = files(&self.fx.state_dir());
        self.tap_as(ADMIN, false, on, data).await;
        assert!(self.stale(), "{data}: {:?}", self.t.calls());
        assert_eq!(
            files(&self.fx.state_dir()),
            before,
            "{data} wrote something"
        );
    }

    /// The last answer to a tap.
    pub fn last_notice(&self) -> Option<String> {
        self.t.answers().pop().flatten()
    }
}

/// The callback data of button `index` in the row whose first button names `who`.
pub(super) fn row_button(kb: &Option<Keyboard>, who: &str, index: usize) -> String {
    kb.iter()
        .flatten()
        .find(|row| row.first().is_some_and(|b| b.label.contains(who)))
        .and_then(|row| row.get(index))
        .unwrap_or_else(|| panic!("no row for {who:?} in {kb:?}"))
        .data
        .clone()
}

pub(super) const STALE: &str = "This menu is out of date. Nothing was done";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn order_view_buttons_and_command_change_the_store_and_openclaw_agrees() {
    let w = World::new(fixture(&[ALICE, BOB, CAROL]), true);
    w.say("/codex_auth order").await;
    let (menu, view, kb) = w.t.last_send();
    assert!(
        view.contains("Stored openai order")
            && view.contains("1. alice@example.com\n2. bob@example.com\n3. carol@example.com"),
        "{view}"
    );
    assert!(
        view.contains("The gateway tries now (the stored order):"),
        "{view}"
    );
    for row in kb.iter().flatten() {
        for b in row {
            assert!(b.data.len() <= 64, "{}", b.data);
        }
    }

    // Move bob up: nobody leaves service, so it is written at once, on the same message.
    let up_bob = row_button(&kb, "bob@example.com", 1);
    w.t.clear();
    w.tap_as(ADMIN, false, menu, &up_bob).await;
    let done = w.last_text();
    assert!(
        done.contains("Order set: bob@example.com, alice@example.com, carol@example.com")
            && done.contains("; verified.")
            && done.contains("Backup: "),
        "{done}"
    );
    assert!(
        w.t.calls()
            .iter()
            .any(|c| matches!(c, Call::Edit { message, text, .. } if *message == menu && text == "Changing the order…")),
        "progress first, on the menu: {:?}",
        w.t.calls()
    );
    assert_eq!(stored(&w.fx), json!([BOB, ALICE, CAROL]));

    // The same button again: the menu was drawn from the old order.
    w.tap_stale(menu, &up_bob).await;

    // Take carol out: she leaves service, so it asks first.
    w.say("/codex_auth order").await;
    let (menu, _, kb) = w.t.last_send();
    w.tap_as(ADMIN, false, menu, &row_button(&kb, "carol@example.com", 3))
        .await;
    let ask = w.last_text();
    assert!(
        ask.contains("New order: bob@example.com, alice@example.com")
            && ask.contains("carol@example.com leaves service"),
        "{ask}"
    );
    assert_eq!(
        stored(&w.fx),
        json!([BOB, ALICE, CAROL]),
        "asked, not written"
    );
    let kb = w.t.calls().iter().rev().find_map(|c| match c {
        Call::Edit { keyboard, .. } => Some(keyboard.clone()),
        _ => None,
    });
    let confirm = button(&kb.flatten(), "Yes, change the order");
    w.tap_as(ADMIN, false, menu, &confirm).await;
    assert!(
        w.last_text()
            .contains("Out of service now: carol@example.com"),
        "{}",
        w.last_text()
    );
    assert_eq!(stored(&w.fx), json!([BOB, ALICE]));

    // The command, with a name, an email and an id; bob leaves service: confirm.
    w.say("/codex_auth order carol alice@example.com").await;
    let (ask_msg, ask, kb) = w.t.last_send();
    assert!(ask.contains("bob@example.com leaves service"), "{ask}");
    let confirm = button(&kb, "Yes, change the order");
    w.tap_as(ADMIN, false, ask_msg, &confirm).await;
    assert_eq!(stored(&w.fx), json!([CAROL, ALICE]));
    let theirs = openclaw().openai_order(w.fx.home());
    assert_eq!(theirs["order"], json!([CAROL, ALICE]), "{theirs:#}");

    // A confirmation drawn before the order changed is refused.
    w.say("/codex_auth order bob").await;
    let (old_ask, _, kb) = w.t.last_send();
    let old_confirm = button(&kb, "Yes, change the order");
    w.say("/codex_auth order alice carol bob").await;
    assert!(
        w.last_text()
            .contains("Order set: alice@example.com, carol@example.com, bob@example.com"),
        "{}",
        w.last_text()
    );
    w.tap_stale(old_ask, &old_confirm).await;

    // Clear: always asked first.
    w.say("/codex_auth order").await;
    let (menu, _, kb) = w.t.last_send();
    w.tap_as(ADMIN, false, menu, &button(&kb, "Clear stored order"))
        .await;
    assert!(
        w.last_text().contains("Clear the stored order?"),
        "{}",
        w.last_text()
    );
    assert_eq!(stored(&w.fx), json!([ALICE, CAROL, BOB]));
    let kb = w.t.calls().iter().rev().find_map(|c| match c {
        Call::Edit { keyboard, .. } => keyboard.clone(),
        _ => None,
    });
    w.tap_as(ADMIN, false, menu, &button(&kb, "Yes, change the order"))
        .await;
    assert!(
        w.last_text().contains("Cleared the stored order."),
        "{}",
        w.last_text()
    );
    assert_eq!(stored(&w.fx), Value::Null);
    let theirs = openclaw().openai_order(w.fx.home());
    assert_eq!(theirs["order"], Value::Null, "{theirs:#}");

    // Nothing stored: the view says so, and where an order would live.
    w.say("/codex_auth order").await;
    let (_, view, _) = w.t.last_send();
    assert!(
        view.contains("No openai order is stored (one would be kept in the shared state-db store")
            && view.contains("tries every stored openai profile"),
        "{view}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_order_input_writes_nothing() {
    let w = World::new(fixture(&[ALICE, BOB, CAROL]), true);
    w.say("/codex_auth order").await;
    let (menu, _, kb) = w.t.last_send();
    let up_bob = row_button(&kb, "bob@example.com", 1);
    let before = files(&w.fx.state_dir());
    let unchanged = |what: &str| {
        assert_eq!(files(&w.fx.state_dir()), before, "{what} wrote something");
    };

    w.say("/codex_auth order alice nobody").await;
    assert!(w.last_text().contains("nobody"), "{}", w.last_text());
    unchanged("an unknown profile");

    w.say("/codex_auth order alice bob openai:alice").await;
    assert!(
        w.last_text()
            .contains("openai:alice names openai:alice a second time"),
        "{}",
        w.last_text()
    );
    unchanged("a duplicate");

    w.say("/codex_auth order all").await;
    assert!(
        w.last_text().contains("all names no single profile"),
        "{}",
        w.last_text()
    );
    unchanged("all");

    w.say_as(USER, false, "/codex_auth order bob alice").await;
    assert!(w.last_text().contains("admin"), "{}", w.last_text());
    w.tap_as(USER, false, menu, &up_bob).await;
    assert!(
        w.last_notice().is_some_and(|n| n.contains("admin")),
        "{:?}",
        w.t.answers()
    );
    unchanged("a user");

    w.say_as(ADMIN, true, "/codex_auth order bob alice").await;
    assert!(
        w.last_text().contains("only work in a private chat"),
        "{}",
        w.last_text()
    );
    w.tap_as(ADMIN, true, menu, &up_bob).await;
    assert!(
        w.last_notice()
            .is_some_and(|n| n.contains("only work in a private chat")),
        "{:?}",
        w.t.answers()
    );
    w.say_as(ADMIN, true, "/codex_auth order clear").await;
    assert!(
        w.last_text().contains("only work in a private chat"),
        "{}",
        w.last_text()
    );
    unchanged("a group chat");

    // Viewing is fine in a group, without buttons.
    w.say_as(USER, true, "/codex_auth order").await;
    let (_, view, kb) = w.t.last_send();
    assert!(view.contains("Stored openai order"), "{view}");
    assert!(kb.is_none(), "{kb:?}");

    // Forged and stale data.
    for data in [
        "codex_auth_oup:00000000.000000000000",
        "codex_auth_oconfirm:00000000.00000000",
        "codex_auth_oclear:zzzzzzzz",
        "codex_auth_page:o9.00000000",
    ] {
        w.tap_as(ADMIN, false, menu, data).await;
        assert!(w.stale(), "{data}: {:?}", w.t.calls());
    }
    unchanged("forged data");

    // The order changed behind the menu (the gateway, another admin): the menu is stale.
    w.say("/codex_auth order carol alice bob").await;
    assert_eq!(stored(&w.fx), json!([CAROL, ALICE, BOB]));
    w.tap_stale(menu, &up_bob).await;
}
