//! Integration tests: the chat conversation core (with a recording transport) and the
//! terminal adapter (`codex-profiler chat` driven through stdin); `agents`: several agents.

pub(crate) mod agents;
mod agents_saved;
mod backups;
mod doctor;
mod doctor_unblock;
mod engine;
mod engine_login;
mod fake_backend;
mod flows;
mod history;
mod layers;
mod order;
mod order_adapters;
mod paging;
mod recording;
mod rotation;
mod selectors;
mod terminal;
mod times;
mod together;
mod url_elsewhere;

use std::sync::Arc;

use crate::support::fixtures::Fixture;
use codex_profiler::chat::StoreOptions;

use codex_profiler::chat::transport::{Incoming, MessageRef, Transport, UserId};
use codex_profiler::chat::{ChatConfig, Conversation};

use fake_backend::Fake;
use recording::{ADMIN, Recording, USER};

/// A conversation over the fake backend and a recording transport.
pub struct Harness {
    pub conv: Arc<Conversation>,
    pub fake: Arc<Fake>,
    pub t: Arc<Recording>,
}

impl Harness {
    pub fn new(buttons: bool, ids: &[&str]) -> Harness {
        Harness::with_transport(Recording::new(buttons), ids)
    }

    pub fn with_transport(t: Recording, ids: &[&str]) -> Harness {
        let config = ChatConfig {
            admins: [ADMIN].into_iter().collect(),
            users: [USER].into_iter().collect(),
            ..ChatConfig::default()
        };
        let fake = Arc::new(Fake::with(ids));
        let conv = Conversation::with_backend(config, fake.clone());
        Harness {
            conv,
            fake,
            t: Arc::new(t),
        }
    }

    pub fn transport(&self) -> Arc<dyn Transport> {
        self.t.clone()
    }

    pub async fn event(&self, e: Incoming) {
        self.conv.handle(e, self.transport()).await;
    }

    /// Send a text message; returns its ref.
    pub async fn say(&self, user: UserId, group: bool, text: &str) -> MessageRef {
        let (e, m) = recording::text(user, group, text);
        self.event(e).await;
        m
    }

    /// Tap `data` on `message`.
    pub async fn tap(&self, user: UserId, group: bool, message: MessageRef, data: &str) {
        self.event(recording::tap(user, group, message, data)).await;
    }
}

/// A conversation over the real engine and `fx`'s store: admin [`ADMIN`], user [`USER`],
/// remote endpoints on a closed loopback port (nothing here talks to OpenAI).
pub fn engine_conversation(fx: &Fixture) -> Arc<Conversation> {
    let config = ChatConfig {
        admins: [ADMIN].into_iter().collect(),
        users: [USER].into_iter().collect(),
        store: StoreOptions {
            state_dir: Some(fx.state_dir()),
            ..StoreOptions::default()
        },
        usage_url: Some("http://127.0.0.1:9".into()),
        auth_issuer: Some("http://127.0.0.1:9".into()),
        ..ChatConfig::default()
    };
    Conversation::new(config).expect("conversation")
}
