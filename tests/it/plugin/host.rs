//! `plugin-host` over pipes, on a state-db fixture with the loopback usage server: the
//! handshake, malformed and oversize lines, progress then the result on the same message,
//! taps edited in place, duplicates, the gateway's owner as the only admin, a refused paste,
//! and nothing secret on either stream.

use serde_json::{Value, json};

use super::driver::{Host, command_event, from, of, tap_event};
use crate::support::cli::assert_no_secret_in;
use crate::support::fixtures::{Fixture, oauth_profile, tokens_of};
use crate::support::usage_server::{self, Reply, UsageServer};

const ALICE: &str = "openai:alice@example.com";
const BOB: &str = "openai:bob@example.com";
pub(super) const OWNER: u64 = 1001;
const FRIEND: u64 = 2002;

fn far_future() -> i64 {
    chrono::Utc::now().timestamp_millis() + 10 * 24 * 3600 * 1000
}

pub(super) struct Setup {
    pub fx: Fixture,
    pub store: Value,
    pub server: UsageServer,
}

/// Alice and Bob on a state-db fixture, both answered by the loopback usage server.
pub(super) fn setup() -> Setup {
    setup_replying(Reply::Json(usage_server::full_payload()))
}

/// The same, the usage server giving `alice` for Alice (a delay, an error).
pub(super) fn setup_replying(alice: Reply) -> Setup {
    let fx = Fixture::new();
    let store = json!({"version": 1, "profiles": {
        ALICE: oauth_profile("openai", "alice@example.com", "acc-alice", "plus", far_future()),
        BOB: oauth_profile("openai", "bob@example.com", "acc-bob", "pro", far_future()),
    }});
    fx.state_db(&store, None);
    let access = |id: &str| store["profiles"][id]["access"].as_str().unwrap().to_owned();
    let server = usage_server::spawn([
        (access(ALICE).as_str(), alice),
        (
            access(BOB).as_str(),
            Reply::Json(usage_server::full_payload()),
        ),
    ]);
    Setup { fx, store, server }
}

fn spawn(s: &Setup) -> Host {
    spawn_with(s, "http://127.0.0.1:9")
}

/// A host on `s` whose logins go to `issuer`.
pub(super) fn spawn_with(s: &Setup, issuer: &str) -> Host {
    let state = s.fx.state_dir();
    Host::spawn(
        s.fx.home(),
        &[
            ("OPENCLAW_STATE_DIR", state.to_str().unwrap()),
            ("CODEX_PROFILER_USAGE_URL", s.server.url.as_str()),
            ("CODEX_PROFILER_AUTH_ISSUER", issuer),
        ],
    )
}

#[test]
fn the_conversation_runs_over_the_protocol_with_the_gateways_owner_as_admin() {
    let s = setup();
    let mut host = spawn(&s);
    let hello = host.next();
    assert_eq!(
        (hello["type"].as_str(), hello["protocol"].as_u64()),
        (Some("hello"), Some(1))
    );

    // Before the plugin's hello, events are refused (with their id, so the plugin can fail
    // that request); junk and oversize lines get an error line and the host keeps going.
    let owner = from(OWNER, true);
    host.send(&command_event("early", &owner, "/help"));
    let e = host.next();
    assert_eq!(
        (e["type"].as_str(), e["code"].as_str(), e["event"].as_str()),
        (Some("error"), Some("hello_first"), Some("early"))
    );
    host.raw(b"{not json");
    assert_eq!(host.next()["code"], "malformed");
    host.raw(&vec![b'x'; 64 * 1024]);
    assert_eq!(host.next()["code"], "oversize");
    host.raw(br#"{"type":"teleport","id":"u1"}"#);
    let e = host.next();
    assert_eq!(
        (e["code"].as_str(), e["event"].as_str()),
        (Some("unknown_type"), Some("u1"))
    );
    host.send(&json!({"type": "hello", "protocol": 1, "plugin": "test", "extra": [1]}));

    // `/codex_usage bob`: progress first, then the result edits that same message.
    host.send(&command_event("c1", &owner, "/codex_usage bob@example.com"));
    let lines = host.until_done("c1");
    let sends = of(&lines, "send");
    assert_eq!(sends.len(), 1, "{lines:#?}");
    assert!(
        sends[0]["text"]
            .as_str()
            .unwrap()
            .contains("Running Codex usage check"),
        "{lines:#?}"
    );
    let progress_ref = sends[0]["ref"].as_i64().unwrap();
    assert!(progress_ref < 0, "our own messages have negative refs");
    let edits = of(&lines, "edit");
    let result = edits.last().expect("the result is an edit");
    assert_eq!(result["ref"].as_i64(), Some(progress_ref));
    let text = result["text"].as_str().unwrap();
    assert!(text.contains("bob@example.com"), "{text}");
    let hits = s.server.total_hits();
    assert_eq!(hits, 1);

    // A tap edits the message it was on; every tap is answered once.
    host.send(&command_event("c2", &owner, "/codex_usage"));
    let lines = host.until_done("c2");
    let menu = of(&lines, "send")[0].clone();
    let all = menu["buttons"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r.as_array().unwrap().iter())
        .find(|b| b["data"].as_str().unwrap().ends_with(":all"))
        .expect("an `all` button")["data"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(all.starts_with("codex_auth_") && all.len() <= 64);
    host.send(&tap_event("t1", &owner, &all, 501));
    let lines = host.until_done("t1");
    assert_eq!(of(&lines, "answer").len(), 1, "{lines:#?}");
    assert!(of(&lines, "send").is_empty(), "{lines:#?}");
    let edits = of(&lines, "edit");
    assert!(
        edits.len() >= 2 && edits.iter().all(|e| e["ref"] == 501),
        "{lines:#?}"
    );
    assert_eq!(s.server.total_hits(), hits + 2);

    // The same tap within 20 s runs nothing and says so.
    host.send(&tap_event("t2", &owner, &all, 501));
    let lines = host.until_done("t2");
    let answers = of(&lines, "answer");
    assert_eq!(answers.len(), 1);
    assert!(answers[0]["notice"].is_string(), "{lines:#?}");
    assert!(of(&lines, "edit").is_empty());
    assert_eq!(s.server.total_hits(), hits + 2);

    // An allowlisted non-owner may look but not change; a sender the gateway does not vouch
    // for is a stranger (also on a tap); a change in a group is refused even to the owner.
    let friend = from(FRIEND, false);
    host.send(&command_event("c3", &friend, "/codex_auth login bob"));
    let lines = host.until_done("c3");
    let refusal = of(&lines, "send")[0]["text"].as_str().unwrap().to_owned();
    assert!(refusal.contains(&FRIEND.to_string()), "{refusal}");
    let mut stranger = from(3003, false);
    stranger["authorized"] = false.into();
    host.send(&tap_event("t3", &stranger, &all, 501));
    let lines = host.until_done("t3");
    assert!(
        of(&lines, "answer")[0]["notice"]
            .as_str()
            .unwrap()
            .contains("3003"),
        "{lines:#?}"
    );
    assert!(of(&lines, "edit").is_empty());
    let mut group = from(OWNER, true);
    group["chat"] = "-100500".into();
    group["private"] = false.into();
    host.send(&command_event("c4", &group, "/codex_auth login bob"));
    let lines = host.until_done("c4");
    assert!(
        of(&lines, "send")[0]["text"]
            .as_str()
            .unwrap()
            .contains("private"),
        "{lines:#?}"
    );

    // A pasted callback URL is refused, the device login offered, and the URL goes nowhere.
    let url = "http://localhost:1455/auth/callback?code=ac_PLUGINSECRET77&state=feedc0ffee99";
    host.send(&command_event(
        "c5",
        &owner,
        &format!("/codex_auth finish bob {url}"),
    ));
    let lines = host.until_done("c5");
    let text = of(&lines, "send")[0]["text"].as_str().unwrap().to_owned();
    assert!(text.contains("/codex_auth device"), "{text}");
    let mut paste = owner.clone();
    paste["type"] = "paste".into();
    paste["id"] = "p1".into();
    paste["url"] = url.into();
    host.send(&paste);
    host.until_done("p1");

    let (code, stdout, stderr) = host.close();
    assert_eq!(code, 0, "{stderr}");
    let mut secrets = tokens_of(&s.store);
    secrets.extend(["ac_PLUGINSECRET77".to_owned(), "feedc0ffee99".to_owned()]);
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    assert_no_secret_in(&stdout.join("\n"), &secrets);
    assert_no_secret_in(&stderr, &secrets);
}

#[test]
fn another_protocol_version_is_refused_with_exit_2() {
    let s = setup();
    let mut host = spawn(&s);
    host.next();
    host.send(&json!({"type": "hello", "protocol": 99}));
    let e = host.next();
    assert_eq!(e["code"], "protocol_mismatch");
    let (code, _, stderr) = host.close();
    assert_eq!(code, 2, "{stderr}");
}
