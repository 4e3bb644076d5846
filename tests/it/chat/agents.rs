//! Several agents under one state directory (issue 11 item 7), over the real engine: a shared
//! state-db store with alice, agent `main` without an overlay of its own and agent `work`
//! whose overlay adds wanda and holds its own order. Every message says whose view it is; an
//! admin switches their chat to `work` (by button and by name), sees and changes `work`'s
//! view (the retire lands in `work`'s overlay, the shared store untouched); an unknown agent
//! gets a clear answer; a user and the admin's other chats stay on the configured agent.

use std::sync::Arc;

use codex_profiler::chat::{ChatConfig, Conversation, StoreOptions};
use serde_json::json;

use super::recording::{ADMIN, Recording, USER, button, tap, text};
use crate::support::fixtures::{Fixture, oauth_profile};

const ALICE: &str = "openai:alice@example.com";
const WANDA: &str = "openai:wanda";

fn far() -> i64 {
    chrono::Utc::now().timestamp_millis() + 10 * 24 * 3600 * 1000
}

pub(crate) fn two_agents() -> Fixture {
    let fx = Fixture::new();
    let shared = json!({"version": 1, "profiles": {
        ALICE: oauth_profile("openai", "alice@example.com", "acc-alice", "plus", far()),
    }});
    fx.state_db(
        &shared,
        Some(&json!({"version": 1, "order": {"openai": [ALICE]}})),
    );
    fx.agent_db("main", None, None);
    let overlay = json!({"version": 1, "profiles": {
        WANDA: oauth_profile("openai", "wanda@example.com", "acc-wanda", "pro", far()),
    }});
    let order = json!({"version": 1, "order": {"openai": [ALICE, WANDA]}});
    fx.agent_db("work", Some(&overlay), Some(&order));
    fx
}

/// The real conversation over `fx`'s state directory (admin and user) and a recording
/// transport with buttons.
pub(super) fn chat_over(fx: &Fixture) -> (Arc<Conversation>, Arc<Recording>) {
    let config = ChatConfig {
        admins: [ADMIN].into_iter().collect(),
        users: [USER].into_iter().collect(),
        store: StoreOptions {
            state_dir: Some(fx.state_dir()),
            ..StoreOptions::default()
        },
        ..ChatConfig::default()
    };
    let conv = Conversation::new(config).expect("conversation");
    (conv, Arc::new(Recording::new(true)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_switches_their_chat_to_another_agent_and_changes_its_view() {
    let fx = two_agents();
    let (conv, t) = chat_over(&fx);
    let say = |user, s: &str| {
        let (e, _) = text(user, false, s);
        let (conv, t) = (conv.clone(), t.clone());
        async move { conv.handle(e, t).await }
    };

    say(ADMIN, "/codex_auth").await;
    let (_, shown, _) = t.last_send();
    assert!(shown.starts_with("Agent main\n"), "{shown}");
    assert!(
        shown.contains("alice@example.com") && !shown.contains("wanda"),
        "{shown}"
    );

    // A user may not switch, and sees the configured agent.
    say(USER, "/codex_auth agent work").await;
    assert!(
        t.last_send().1.contains("Only an admin"),
        "{}",
        t.last_send().1
    );

    say(ADMIN, "/codex_auth agent").await;
    let (menu, listed, kb) = t.last_send();
    assert!(listed.contains("this chat shows main"), "{listed}");
    let data = button(&kb, "work");
    assert!(
        data.len() <= 64 && data == "codex_auth_agent:work",
        "{data}"
    );
    conv.handle(tap(ADMIN, false, menu, &data), t.clone()).await;
    let switched = t.all_text();
    assert!(
        switched.contains("Agent work\nThis chat now shows and changes agent work."),
        "{switched}"
    );

    say(ADMIN, "/codex_auth").await;
    let (_, shown, _) = t.last_send();
    assert!(shown.starts_with("Agent work\n"), "{shown}");
    assert!(shown.contains("wanda@example.com"), "{shown}");

    say(ADMIN, "/codex_auth agent nope").await;
    let (_, unknown, _) = t.last_send();
    assert!(
        unknown.contains("There is no agent called nope; the agents here are main, work."),
        "{unknown}"
    );

    // The change goes through work's store: its overlay's order loses wanda.
    let shared_before = fx.state_db_cells();
    say(ADMIN, "/codex_auth retire wanda@example.com").await;
    let done = t.all_text();
    assert!(done.contains("Retired openai:wanda"), "{done}");
    let (_, state) = fx.agent_db_rows("work");
    assert_eq!(state.unwrap()["order"]["openai"], json!([ALICE]));
    assert_eq!(
        fx.state_db_cells(),
        shared_before,
        "the shared store is untouched"
    );

    // The user in the same chat still sees main; the admin's choice was theirs only.
    say(USER, "/codex_auth").await;
    let (_, user_view, _) = t.last_send();
    assert!(user_view.starts_with("Agent main\n"), "{user_view}");
    // Back to the configured agent.
    say(ADMIN, "/codex_auth agent main").await;
    say(ADMIN, "/codex_auth").await;
    assert!(t.last_send().1.starts_with("Agent main\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_agent_means_no_header() {
    let fx = Fixture::new();
    let shared = json!({"version": 1, "profiles": {
        ALICE: oauth_profile("openai", "alice@example.com", "acc-alice", "plus", far()),
    }});
    fx.state_db(&shared, None);
    fx.agent_db("main", None, None);
    let (conv, t) = chat_over(&fx);
    let (e, _) = text(ADMIN, false, "/codex_auth");
    conv.handle(e, t.clone()).await;
    assert!(
        t.last_send().1.starts_with("Codex logins"),
        "{}",
        t.last_send().1
    );
}

/// The same through the terminal adapter (`codex-profiler chat`, text fallback): the agent
/// menu offers the agents as reply words, and a bare reply switches.
#[test]
fn the_terminal_adapter_switches_by_reply_word() {
    let fx = two_agents();
    let state = fx.state_arg();
    let r = crate::support::cli::run_with_stdin(
        fx.home(),
        &[("RUST_LOG", "off")],
        &["--state-dir", &state, "chat"],
        "/codex_auth agent\nwork\n/codex_auth\n",
    );
    r.expect_code(0);
    let out = &r.stdout;
    // The terminal indents the lines after a message's first.
    assert!(
        out.contains("> Agent main\n    Agents of this gateway"),
        "{out}"
    );
    assert!(out.contains("Reply with: main | work"), "{out}");
    assert!(
        out.contains("> Agent work\n    This chat now shows and changes agent work."),
        "{out}"
    );
    let after = out.rsplit("> Agent work\n").next().unwrap_or_default();
    assert!(after.contains("wanda@example.com"), "{out}");
}
