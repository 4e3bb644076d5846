//! The watcher's notification through the terminal adapter: the same words, no buttons, a
//! reply word for the unblock that works.

use std::io::Write;
use std::sync::atomic::AtomicI64;
use std::sync::{Arc, Mutex};

use codex_profiler::adapters::terminal::{CHAT, OPERATOR, TerminalTransport};
use codex_profiler::chat::transport::{ChatKind, Incoming, MessageRef, Origin, Transport};
use codex_profiler::chat::{ChatConfig, Conversation, StoreOptions};
use codex_profiler::engine::watch::{ChangeSet, Event, Who};

use super::*;

#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Shared {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_terminal_prints_the_notification_and_its_reply_word_unblocks() {
    let until = chrono::Utc::now().timestamp_millis() + 3_600_000;
    let g = Gateway::new(Some(until));
    let server = g.server(used(3.0), used(20.0));
    let mut config = ChatConfig {
        inline_buttons: false,
        usage_url: Some(server.url.clone()),
        store: StoreOptions {
            state_dir: Some(g.fx.state_dir()),
            agent: "main".into(),
            format: None,
            auth_path: None,
        },
        ..ChatConfig::default()
    };
    config.admins.insert(OPERATOR);
    let conv = Conversation::new(config).unwrap();
    let out = Shared::default();
    let t: Arc<dyn Transport> = Arc::new(TerminalTransport::new(
        Box::new(out.clone()),
        Arc::new(AtomicI64::new(1)),
    ));
    let who = Who {
        profile: ALICE.into(),
        label: "alice@example.com".into(),
    };
    let changes = ChangeSet {
        now_ms: chrono::Utc::now().timestamp_millis(),
        profiles_checked: 2,
        baseline: false,
        events: vec![
            Event::UsableAgain { who: who.clone() },
            Event::StaleBlock {
                who,
                until_ms: until,
            },
        ],
    };
    assert!(conv.notify(&changes, t.clone()).await);
    let shown = out.text();
    assert!(
        shown.contains("Codex watcher: 2 changes since the last check."),
        "{shown}"
    );
    assert!(
        shown.contains("alice@example.com is usable again."),
        "{shown}"
    );
    assert!(
        shown.contains("keeps alice@example.com out until"),
        "{shown}"
    );
    assert!(shown.contains("unblock"), "a reply word: {shown}");
    assert!(!shown.contains('['), "no buttons on a terminal: {shown}");

    let origin = Origin {
        chat: CHAT,
        kind: ChatKind::Private,
        user: OPERATOR,
    };
    let message = MessageRef {
        chat: CHAT,
        message_id: 99,
    };
    conv.handle(
        Incoming::Text {
            origin,
            message,
            text: "unblock".into(),
        },
        t,
    )
    .await;
    let shown = out.text();
    assert!(
        shown.contains("Cleared the block of openai:alice@example.com"),
        "{shown}"
    );
    assert!(
        g.alice_stats().get("blockedUntil").is_none(),
        "{}",
        g.alice_stats()
    );
    let secrets = g.secrets();
    crate::support::cli::assert_no_secret_in(
        &shown,
        &secrets.iter().map(String::as_str).collect::<Vec<_>>(),
    );
}
