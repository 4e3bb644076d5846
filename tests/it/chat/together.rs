//! Many chats asking the same at the same time, over the real engine: they share one usage
//! check (one request per profile, one history append), every one of them still gets its
//! progress and its own result, and a request after that check has finished checks afresh.

use std::sync::Arc;
use std::time::Duration;

use codex_profiler::chat::transport::UserId;
use codex_profiler::chat::{ChatConfig, Conversation, StoreOptions};
use serde_json::json;

use super::recording::{Call, Recording, text};
use crate::support::fixtures::{Fixture, oauth_profile};
use crate::support::usage_server::{self, Reply};

const CHATS: u64 = 40;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chats_asking_the_same_usage_at_once_share_one_check_and_each_get_the_result() {
    let fx = Fixture::new();
    let far = chrono::Utc::now().timestamp_millis() + 10 * 24 * 3600 * 1000;
    let mut profiles = serde_json::Map::new();
    let mut server = usage_server::builder().delay(Duration::from_millis(300));
    for name in ["alice", "bob", "carol"] {
        let email = format!("{name}@example.com");
        let p = oauth_profile("openai", &email, &format!("acc-{name}"), "plus", far);
        let access = p["access"].as_str().unwrap().to_owned();
        server = server.reply(&access, Reply::Json(usage_server::full_payload()));
        profiles.insert(format!("openai:{email}"), p);
    }
    fx.state_db(&json!({"version": 1, "profiles": profiles}), None);
    let server = server.spawn();
    let users = (100..100 + CHATS).map(UserId);
    let config = ChatConfig {
        admins: [UserId(1)].into_iter().collect(),
        users: users.clone().collect(),
        store: StoreOptions {
            state_dir: Some(fx.state_dir()),
            ..StoreOptions::default()
        },
        usage_url: Some(server.url.clone()),
        ..ChatConfig::default()
    };
    let conv = Conversation::new(config).expect("conversation");
    let t = Arc::new(Recording::new(false));
    let mut chats = tokio::task::JoinSet::new();
    for user in users {
        let (conv, t) = (conv.clone(), t.clone());
        chats.spawn(async move {
            let (event, _) = text(user, false, "/codex_usage all");
            conv.handle(event, t).await;
        });
    }
    while let Some(done) = chats.join_next().await {
        done.unwrap();
    }
    assert_eq!(server.total_hits(), 3, "one check for all {CHATS} chats");
    let calls = t.calls();
    let results = calls
        .iter()
        .filter(|c| matches!(c, Call::Edit { text, .. } if text.starts_with("Codex usage")))
        .count();
    let progress = calls
        .iter()
        .filter(|c| matches!(c, Call::Send { text, .. } if text == "Running Codex usage check…"))
        .count();
    assert_eq!(
        (progress, results),
        (CHATS as usize, CHATS as usize),
        "{calls:?}"
    );
    // Once that check has finished, the next request is a check of its own.
    let (event, _) = text(UserId(1), false, "/codex_usage all");
    conv.handle(event, t.clone()).await;
    assert_eq!(server.total_hits(), 6);
}
