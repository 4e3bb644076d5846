//! `/codex_rotation` and `/codex_rotation deep` through the chat core over the real engine
//! (a state-db fixture with four usable profiles, a blocked fifth, a session pin and a model
//! fallback in `openclaw.json`), with the recording transport: chat words from the templates,
//! the usage button in the long form, no token anywhere. The terminal adapter's run of the
//! same command is in `terminal_rotation`.

use std::sync::Arc;

use codex_profiler::chat::Conversation;
use rusqlite::Connection;
use serde_json::{Value, json};

use super::recording::{ADMIN, Recording, USER, text};
use crate::support::cli::{assert_no_secret_in, run_with_stdin};
use crate::support::fixtures::{Fixture, oauth_profile, tokens_of, write_json};

const FAR: i64 = 4_102_444_800_000; // 2100-01-01

fn fixture() -> (Fixture, Value) {
    let fx = Fixture::new();
    let profiles: serde_json::Map<String, Value> = ["a", "b", "c", "d", "e"]
        .iter()
        .map(|n| {
            let p = oauth_profile(
                "openai",
                &format!("{n}@example.com"),
                &format!("acct-{n}"),
                "plus",
                FAR,
            );
            (format!("openai:{n}"), p)
        })
        .collect();
    let store = json!({"version": 1, "profiles": profiles});
    let state = json!({"version": 1, "usageStats": {"openai:e": {"blockedUntil": FAR}}});
    fx.state_db(&store, Some(&state));
    let db = fx.agent_db("main", None, None);
    let entry = json!({"sessionId": "s", "authProfileOverride": "openai:b", "authProfileOverrideSource": "user"});
    Connection::open(db)
        .unwrap()
        .execute(
            "INSERT INTO session_nodes (session_key, current_session_id, entry_json, updated_at) VALUES ('agent:main:telegram:7', 'sid', ?1, 1)",
            [entry.to_string()],
        )
        .unwrap();
    write_json(
        &fx.state_dir().join("openclaw.json"),
        &json!({"agents": {"defaults": {"model": {"primary": "openai/gpt-5.5", "fallbacks": ["anthropic/claude-sonnet-4-6"]}}}}),
    );
    (fx, store)
}

fn conversation(fx: &Fixture) -> Arc<Conversation> {
    super::engine_conversation(fx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_and_deep_rotation_in_chat_words() {
    let (fx, store) = fixture();
    let conv = conversation(&fx);
    let t = Arc::new(Recording::new(true));

    // A plain user may look (it is a view), in a group too.
    let (e, _) = text(USER, true, "/codex_rotation");
    conv.handle(e, t.clone()).await;
    let (_, short, kb) = t.last_send();
    assert!(short.contains("4 of 5 profiles usable now"), "{short}");
    assert!(
        short.contains("the third and fourth are never tried on that turn"),
        "{short}"
    );
    assert!(short.contains("anthropic/claude-sonnet-4-6"), "{short}");
    assert!(short.contains("/codex_usage all"), "chat actions: {short}");
    // Session keys name other chats: a plain user in a group reads that a session pins the
    // profile, not which.
    assert!(short.contains("A session pins openai:b"), "{short}");
    assert!(!short.contains("agent:main:telegram:7"), "{short}");
    assert!(
        // In the operator's zone (UTC here), not as RFC 3339.
        short.contains("openai:e is blocked until Jan 1 2100 00:00 UTC"),
        "{short}"
    );
    assert!(
        !short.contains("codex-profiler"),
        "the chat names chat actions: {short}"
    );
    assert!(!short.contains("How the gateway fails over"), "{short}");
    assert!(kb.is_none());

    let (e, _) = text(ADMIN, false, "/codex_rotation deep");
    conv.handle(e, t.clone()).await;
    let (_, deep, kb) = t.last_send();
    for needle in [
        "Session agent:main:telegram:7 pins openai:b",
        "How the gateway fails over",
        "401/403",
        "only 1 other profile",
        "Last good",
        "/codex_auth PROFILE",
    ] {
        assert!(deep.contains(needle), "{needle}: {deep}");
    }
    let kb = kb.expect("the usage check as a button");
    assert_eq!(kb[0][0].label, "All profiles");
    assert!(kb[0][0].data.contains("usage"), "{:?}", kb[0][0].data);

    let (e, _) = text(ADMIN, false, "/codex_rotation sideways");
    conv.handle(e, t.clone()).await;
    assert!(t.last_send().1.contains("/codex_rotation [deep]"));

    let tokens = tokens_of(&store);
    let refs: Vec<&str> = tokens.iter().map(String::as_str).collect();
    assert_no_secret_in(&t.all_text(), &refs);
}

#[test]
fn terminal_rotation() {
    let (fx, store) = fixture();
    let state = fx.state_arg();
    let run = run_with_stdin(
        fx.home(),
        &[],
        &["--state-dir", &state, "chat"],
        "/codex_rotation deep\n",
    );
    let out = format!("{}{}", run.stdout, run.stderr);
    assert!(
        out.contains("the third and fourth are never tried on that turn"),
        "{out}"
    );
    assert!(out.contains("How the gateway fails over"), "{out}");
    let tokens = tokens_of(&store);
    let refs: Vec<&str> = tokens.iter().map(String::as_str).collect();
    assert_no_secret_in(&out, &refs);
}
