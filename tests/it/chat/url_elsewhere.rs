//! A callback URL pasted after the wrong command, or inside chatter, in a private chat: the
//! message is deleted and the reply never quotes it back (it used to: `No profile is called
//! `http://…?code=…``, `I do not know /?code=…`).

use super::Harness;
use super::fake_backend::{CODE, STATE, callback_url};
use super::recording::{ADMIN, Call};
use crate::support::cli::assert_no_secret_in;

#[tokio::test]
async fn a_url_after_another_command_is_deleted_and_never_quoted() {
    let h = Harness::new(true, &["openai:alice@example.com"]);
    let url = callback_url();
    for text in [
        format!("/codex_usage {url}"),
        format!("/codex_auth {url}"),
        format!("/codex_auth login {url}"),
        format!("/codex_auth retire {url}"),
        format!("here it is {url}"),
        format!("/?code={CODE}&state={STATE}"),
    ] {
        h.t.clear();
        let pasted = h.say(ADMIN, false, &text).await;
        assert_eq!(h.t.calls()[0], Call::Delete(pasted), "{text}");
        let said = h.t.all_text();
        assert_no_secret_in(&said, &[CODE, STATE]);
        assert!(said.contains("/codex_auth finish NAME"), "{text}: {said}");
    }
}
