//! Logins from the chat against the real OAuth engine and the loopback issuer: a pasted
//! callback URL in a private chat (deleted, finished, stored, nothing secret shown), the same
//! in a group (refused, deleted, nothing finished), and a device login whose message is edited
//! when it completes.

use std::time::Duration;

use super::engine::real_with;
use super::recording::{ADMIN, Call, text};
use crate::support::cli::assert_no_secret_in;
use crate::support::oauth_server;

/// The authorize URL the chat showed.
fn authorize_url(all: &str, issuer: &str) -> String {
    all.split_whitespace()
        .find(|w| w.starts_with(&format!("{issuer}/oauth/authorize?")))
        .unwrap_or_else(|| panic!("no authorize URL in {all}"))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pasted_callback_url_in_private_finishes_the_login() {
    let issuer = oauth_server::spawn();
    let r = real_with(true, &issuer.issuer_url);
    r.say("/codex_auth login work").await;
    let url = authorize_url(&r.t.all_text(), &issuer.issuer_url);
    let callback = issuer.approve(&url);
    r.t.clear();

    let (e, pasted) = text(ADMIN, false, &callback);
    r.conv.handle(e, r.transport()).await;
    let calls = r.t.calls();
    assert_eq!(calls[0], Call::Delete(pasted), "{calls:?}");
    let all = r.t.all_text();
    assert!(
        all.contains("Added openai:work (alice@example.com, plus)"),
        "{all}"
    );
    let (store, _, _) = r.fx.state_db_cells();
    assert!(store.unwrap()["profiles"].get("openai:work").is_some());
    // Codes, verifiers and tokens never reach the chat (the state was in the link we showed).
    let state = url
        .split("state=")
        .nth(1)
        .unwrap_or("")
        .split('&')
        .next()
        .unwrap_or("")
        .to_owned();
    let secrets: Vec<String> = issuer
        .secrets()
        .into_iter()
        .filter(|s| *s != state)
        .collect();
    let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
    assert!(!refs.is_empty());
    assert_no_secret_in(&all, &refs);
    r.assert_no_token();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pasted_callback_url_in_a_group_is_refused_and_deleted() {
    let issuer = oauth_server::spawn();
    let r = real_with(true, &issuer.issuer_url);
    r.say("/codex_auth login work").await;
    let callback = issuer.approve(&authorize_url(&r.t.all_text(), &issuer.issuer_url));
    r.t.clear();
    let (e, pasted) = text(ADMIN, true, &callback);
    r.conv.handle(e, r.transport()).await;
    assert_eq!(r.t.calls()[0], Call::Delete(pasted));
    assert!(
        r.t.all_text()
            .contains("Never paste a login address in a group")
    );
    assert_eq!(issuer.request_count(), 0, "nothing was exchanged");
    let (store, _, _) = r.fx.state_db_cells();
    assert!(store.unwrap()["profiles"].get("openai:work").is_none());
    let secrets = issuer.secrets();
    let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
    assert_no_secret_in(&r.t.all_text(), &refs);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_login_edits_its_message_when_it_completes() {
    let issuer = oauth_server::spawn();
    let r = real_with(true, &issuer.issuer_url);
    r.say("/codex_auth device laptop").await;
    let calls = r.t.calls();
    let Call::Send { message, .. } = &calls[0] else {
        panic!("{calls:?}")
    };
    assert!(
        matches!(&calls[1], Call::Edit { message: m, text, .. } if m == message && text.contains("/codex/device")),
        "{calls:?}"
    );
    let mut finished = None;
    for _ in 0..300 {
        finished = r.t.calls().into_iter().skip(2).find_map(|c| match c {
            Call::Edit {
                message: m, text, ..
            } if m == *message => Some(text),
            _ => None,
        });
        if finished.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let finished = finished.expect("the device login edited its message");
    assert!(
        finished.contains("Device login finished: added openai:laptop"),
        "{finished}"
    );
    let (store, _, _) = r.fx.state_db_cells();
    assert!(store.unwrap()["profiles"].get("openai:laptop").is_some());
    let secrets = issuer.secrets();
    let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
    assert_no_secret_in(&r.t.all_text(), &refs);
}

/// `/codex_auth finish NAME code#state` (SPEC section 4's third form) finishes the login, and
/// the message is deleted like one holding a URL: the code would stay usable in the history.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finish_with_code_hash_state_deletes_the_message_and_logs_in() {
    let issuer = oauth_server::spawn();
    let r = real_with(true, &issuer.issuer_url);
    r.say("/codex_auth login work").await;
    let callback = issuer.approve(&authorize_url(&r.t.all_text(), &issuer.issuer_url));
    let q: std::collections::HashMap<String, String> = url::Url::parse(&callback)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    let (code, state) = (&q["code"], &q["state"]);
    r.t.clear();
    let (e, pasted) = text(
        ADMIN,
        false,
        &format!("/codex_auth finish work {code}#{state}"),
    );
    r.conv.handle(e, r.transport()).await;
    assert_eq!(r.t.calls()[0], Call::Delete(pasted), "{:?}", r.t.calls());
    let all = r.t.all_text();
    assert!(all.contains("Added openai:work"), "{all}");
    assert_no_secret_in(&all, &[code.as_str(), state.as_str()]);
    r.assert_no_token();
}
