//! JWT claims: arbitrary base64 and JSON junk in any of the three parts never panics, and
//! the claims we read come back exactly as written, whatever else the payload holds.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use codex_profiler::engine::jwt::{Claims, claims, unsigned_for_tests};
use proptest::prelude::*;
use serde_json::{Value, json};

use super::config;
use super::strategies::{hostile_text, json_object_with, json_value};

/// The keys a payload is read for, so junk lands on them too.
const KEYS: &[&str] = &[
    "https://api.openai.com/auth",
    "https://api.openai.com/profile",
    "chatgpt_account_id",
    "chatgpt_plan_type",
    "email",
    "exp",
];

fn part() -> impl Strategy<Value = String> {
    prop_oneof![
        hostile_text(),
        "[A-Za-z0-9_=+/-]{0,40}",
        prop::collection::vec(any::<u8>(), 0..64).prop_map(|b| URL_SAFE_NO_PAD.encode(b)),
        prop::collection::vec(any::<u8>(), 0..64).prop_map(|b| STANDARD.encode(b)),
        json_value().prop_map(|v| URL_SAFE_NO_PAD.encode(v.to_string())),
        json_object_with(KEYS, 3).prop_map(|v| URL_SAFE_NO_PAD.encode(v.to_string())),
    ]
}

fn text() -> impl Strategy<Value = Option<String>> {
    prop::option::of(hostile_text())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn junk_never_panics(parts in prop::collection::vec(part(), 0..5), sep in "[.]{1,2}") {
        let _ = claims(&parts.join(&sep));
    }

    #[test]
    fn claims_round_trip(
        account in text(), plan in text(), email in text(), top_email in text(),
        exp in prop::option::of(any::<i64>()),
        mut payload in json_object_with(KEYS, 2),
        auth_junk in json_object_with(&[], 1),
    ) {
        let obj = payload.as_object_mut().unwrap();
        let mut auth = auth_junk;
        let put = |o: &mut Value, k: &str, v: &Option<String>| match v {
            Some(s) => o[k] = json!(s),
            None => { o.as_object_mut().unwrap().remove(k); }
        };
        put(&mut auth, "chatgpt_account_id", &account);
        put(&mut auth, "chatgpt_plan_type", &plan);
        obj.insert("https://api.openai.com/auth".into(), auth);
        let mut profile = json!({});
        put(&mut profile, "email", &email);
        obj.insert("https://api.openai.com/profile".into(), profile);
        put(&mut payload, "email", &top_email);
        match exp {
            Some(e) => payload["exp"] = json!(e),
            None => { payload.as_object_mut().unwrap().remove("exp"); }
        }
        let got = claims(&unsigned_for_tests(&payload));
        prop_assert_eq!(got, Ok(Claims { account_id: account, plan, email: email.or(top_email), exp }));
    }
}
