//! The inline-button codec (`codex_auth_<action>:<arg>`): decoding is total, every button
//! encodes within Telegram's 64 bytes and decodes to itself, and whatever decodes is exactly
//! what encoding it gives back (no second spelling of a button).

use codex_profiler::chat::callback::{CallbackData, MAX_LEN, PREFIX, UsageTarget};
use codex_profiler::chat::keys::ProfileKey;
use proptest::prelude::*;

use super::config;
use super::strategies::hostile_text;

fn key() -> impl Strategy<Value = ProfileKey> {
    "[0-9a-f]{12}".prop_filter_map("a key", |s| ProfileKey::parse(&s))
}

/// Every button there is.
fn button() -> impl Strategy<Value = CallbackData> {
    prop_oneof![
        Just(CallbackData::Usage(UsageTarget::Default)),
        Just(CallbackData::Usage(UsageTarget::All)),
        key().prop_map(|k| CallbackData::Usage(UsageTarget::Profile(k))),
        key().prop_map(CallbackData::Status),
        Just(CallbackData::NewLogin),
        key().prop_map(CallbackData::Login),
        key().prop_map(CallbackData::Device),
        key().prop_map(CallbackData::Retire),
        key().prop_map(CallbackData::Delete),
        key().prop_map(CallbackData::ConfirmDelete),
        Just(CallbackData::Cancel),
    ]
}

/// Data that looks like ours: the prefix, a known or random action, any argument.
fn near_miss() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec![
            "usage", "status", "new", "login", "device", "retire", "delete", "confirm", "cancel",
            "Usage", "launch", "",
        ]),
        prop_oneof![
            "[0-9a-fA-F]{10,14}",
            Just("-".to_owned()),
            Just("all".to_owned()),
            Just("default".to_owned()),
            hostile_text(),
        ],
        prop::sample::select(vec![":", "::", "", ": "]),
    )
        .prop_map(|(action, arg, sep)| format!("{PREFIX}{action}{sep}{arg}"))
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn encoding_fits_and_round_trips(b in button()) {
        let data = b.encode();
        prop_assert!(data.len() <= MAX_LEN, "{} is {} bytes", data, data.len());
        prop_assert_eq!(CallbackData::decode(&data), Some(b));
    }

    #[test]
    fn what_decodes_re_encodes_to_the_same_bytes(
        data in prop_oneof![hostile_text(), near_miss()],
    ) {
        if let Some(b) = CallbackData::decode(&data) {
            prop_assert_eq!(b.encode(), data);
        }
    }
}
