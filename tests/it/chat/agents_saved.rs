//! Several agents, continued (issue 11 item 7): an admin's agent choice outlives a restart
//! (a new `Conversation` on the same state directory, and the real bot process started
//! again), kept in `<state>/codex-profiler/chat-agents.json` (0600); a chat whose saved
//! agent is gone falls back to the default with a one-line notice, once; a corrupt file is
//! set aside and ignored. And the usage history's photo caption carries the agent header.

use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use std::time::Duration;

use codex_profiler::chat::Conversation;
use codex_profiler::chat::transport::{Incoming, UserId};
use codex_profiler::engine::history::{HistoryStore, SqliteHistory};

use super::agents::{chat_over, two_agents};
use super::recording::{ADMIN, Call, Recording, USER, text};
use crate::support::bot_api::FakeBotApi;
use crate::support::fixtures::Fixture;
use crate::support::history::burning_to_58;
use crate::telegram::process::BotProcess;

const ALICE: &str = "openai:alice@example.com";
const GONE: &str = "Agent work, chosen for this chat, is gone: back to the default, main.";

fn conversation(fx: &Fixture) -> Arc<Conversation> {
    chat_over(fx).0
}

/// What `user` is shown (the last message sent) for `said`, in a fresh recording.
async fn ask(conv: &Arc<Conversation>, user: UserId, said: &str) -> String {
    let t = Arc::new(Recording::new(true));
    let (e, _): (Incoming, _) = text(user, false, said);
    conv.handle(e, t.clone()).await;
    t.last_send().1
}

fn memory(fx: &Fixture) -> std::path::PathBuf {
    fx.state_dir().join("codex-profiler/chat-agents.json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_choice_survives_a_restart_and_a_gone_agent_falls_back_once() {
    let fx = two_agents();
    let first = conversation(&fx);
    let switched = ask(&first, ADMIN, "/codex_auth agent work").await;
    assert!(
        switched.contains("now shows and changes agent work."),
        "{switched}"
    );
    assert!(!switched.contains("could not be saved"), "{switched}");
    let mode = std::fs::metadata(memory(&fx)).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    drop(first);

    // A restart: the admin's chat is still on work; the user is on the configured agent.
    let again = conversation(&fx);
    let shown = ask(&again, ADMIN, "/codex_auth").await;
    assert!(shown.starts_with("Agent work\n"), "{shown}");
    assert!(shown.contains("wanda@example.com"), "{shown}");
    assert!(
        ask(&again, USER, "/codex_auth")
            .await
            .starts_with("Agent main\n")
    );

    // Work goes away: the next request says so in one line, runs on main, and forgets it.
    std::fs::remove_dir_all(fx.state_dir().join("agents/work")).unwrap();
    let after = conversation(&fx);
    let shown = ask(&after, ADMIN, "/codex_auth").await;
    let first_line = shown.lines().next().unwrap_or_default();
    assert_eq!(first_line, GONE, "{shown}");
    assert!(!shown.contains("wanda"), "{shown}");
    let shown = ask(&after, ADMIN, "/codex_auth").await;
    assert!(!shown.contains("is gone"), "said once: {shown}");
    let saved = std::fs::read_to_string(memory(&fx)).unwrap();
    assert!(!saved.contains("work"), "forgotten on disk too: {saved}");

    // A corrupt file: set aside, ignored, every chat on the configured agent.
    std::fs::write(memory(&fx), b"{\"version\": 1, \"chats\": [").unwrap();
    let bad = conversation(&fx);
    let shown = ask(&bad, ADMIN, "/codex_auth").await;
    assert!(shown.starts_with("Codex logins"), "{shown}");
    assert!(
        fx.state_dir()
            .join("codex-profiler/chat-agents.json.bad")
            .exists()
    );
    // And the next switch writes a good file again.
    std::fs::create_dir_all(fx.state_dir().join("agents/work")).unwrap();
    ask(&bad, ADMIN, "/codex_auth agent work").await;
    assert!(
        ask(&conversation(&fx), ADMIN, "/codex_auth")
            .await
            .starts_with("Agent work\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bot_process_remembers_the_choice_across_a_restart() {
    const WAIT: Duration = Duration::from_secs(20);
    let fx = two_agents();
    let state = fx.state_arg();
    let env = [("OPENCLAW_STATE_DIR", state.as_str())];
    let api = FakeBotApi::start().await;
    let bot = BotProcess::start(fx.home(), &api, &env);
    api.push_text(1, 1, "/codex_auth agent work");
    api.wait_text(1, "now shows and changes agent work", WAIT)
        .await;
    let ended = bot.terminate(WAIT).await;
    assert_eq!(ended.code, Some(0), "{}", ended.stderr);

    let api = FakeBotApi::start().await;
    let bot = BotProcess::start(fx.home(), &api, &env);
    api.push_text(1, 1, "/codex_auth");
    let shown = api.wait_text(1, "Codex logins", WAIT).await;
    assert!(shown.text().starts_with("Agent work\n"), "{}", shown.text());
    let ended = bot.terminate(WAIT).await;
    assert_eq!(ended.code, Some(0), "{}", ended.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_history_photo_caption_says_whose_agent_it_is() {
    let fx = two_agents();
    let now = chrono::Utc::now().timestamp_millis();
    let mut h = SqliteHistory::open_in(&fx.state_dir()).unwrap();
    h.append(&burning_to_58(ALICE, now)).unwrap();
    let conv = conversation(&fx);
    let t = Arc::new(Recording::with_photos(true));
    let (e, _) = text(ADMIN, false, "/codex_usage history");
    conv.handle(e, t.clone()).await;
    let calls = t.calls();
    let caption = calls
        .iter()
        .find_map(|c| match c {
            Call::Photo { caption, .. } => Some(caption.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no photo: {calls:?}"));
    assert!(
        caption.starts_with("Agent main\nCodex usage history"),
        "{caption}"
    );
    // The progress message becomes the same caption, its header once.
    let Some(Call::Edit { text, .. }) = calls.last() else {
        panic!("{calls:?}")
    };
    assert_eq!(text, &caption);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_watchers_news_says_whose_agent_it_watched() {
    use codex_profiler::engine::watch::{ChangeSet, Event, Who};
    let fx = two_agents();
    let conv = conversation(&fx);
    // The admin's chat shows work; the watcher's news is about the configured agent.
    ask(&conv, ADMIN, "/codex_auth agent work").await;
    let t = Arc::new(Recording::new(true));
    let changes = ChangeSet {
        now_ms: chrono::Utc::now().timestamp_millis(),
        profiles_checked: 1,
        baseline: false,
        events: vec![Event::UsableAgain {
            who: Who {
                profile: ALICE.into(),
                label: "alice@example.com".into(),
            },
        }],
    };
    assert!(conv.notify(&changes, t.clone()).await);
    let (_, shown, _) = t.last_send();
    assert!(
        shown.starts_with("Agent main\nCodex watcher: one change"),
        "{shown}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_choice_that_cannot_be_saved_still_switches_and_says_so() {
    let fx = two_agents();
    // Our folder cannot be made: a file holds its name.
    let own = fx.state_dir().join("codex-profiler");
    let _ = std::fs::remove_dir_all(&own);
    std::fs::write(&own, b"not a folder").unwrap();
    let conv = conversation(&fx);
    let switched = ask(&conv, ADMIN, "/codex_auth agent work").await;
    assert!(
        switched.ends_with(
            "The choice could not be saved: after a restart this chat shows main again."
        ),
        "{switched}"
    );
    assert!(
        ask(&conv, ADMIN, "/codex_auth")
            .await
            .starts_with("Agent work\n")
    );
}
