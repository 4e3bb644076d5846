//! Chat commands: parsing any message is total, and a callback URL pasted in any position of
//! any command (or of chatter) is detected, so the message is deleted, and never shows in the
//! `Debug` of the parse.

use codex_profiler::chat::command::{holds_callback_url, parse};
use proptest::prelude::*;

use super::config;
use super::strategies::{hostile_text, pasted_callback};

/// The start of a message: every command, with and without a bot name, and none.
fn head() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "",
        "/start",
        "/help",
        "/codex_usage",
        "/codex_usage@codex_bot",
        "/codex_rotation",
        "/codex_auth",
        "/codex_auth@codex_bot",
        "/codex_auth login",
        "/codex_auth device",
        "/codex_auth finish",
        "/codex_auth finish work",
        "/codex_auth retire",
        "/codex_auth delete",
        "/codex_unknown",
        "/",
    ])
}

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z@.()0-9]{1,12}",
        Just("confirm".to_owned()),
        Just("deep".to_owned())
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn never_panics(s in hostile_text()) {
        let _ = format!("{:?}", parse(&s));
        let _ = holds_callback_url(&s);
    }

    #[test]
    fn a_pasted_callback_is_found_and_hidden_anywhere(
        head in head(),
        words in prop::collection::vec(word(), 0..4),
        at in any::<prop::sample::Index>(),
        cb in pasted_callback(),
        space in prop::sample::select(vec![" ", "  ", "\n", "\t"]),
    ) {
        let mut parts: Vec<String> = words;
        parts.insert(at.index(parts.len() + 1), cb.text.clone());
        let rest = parts.join(space);
        let text = match head {
            "" => rest,
            h => format!("{h}{space}{rest}"),
        };
        prop_assert!(holds_callback_url(&text), "not detected: {:?}", text);
        let debug = format!("{:?}", parse(&text));
        prop_assert!(!debug.contains(&cb.code), "code shown: {}", debug);
        prop_assert!(!debug.contains(&cb.state), "state shown: {}", debug);
    }
}
