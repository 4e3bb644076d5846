//! The small parsers of what people and other tools hand us: profile ids and selectors (CLI
//! arguments, chat words), login names, and the Codex CLI's `auth.json` (`auth
//! import-codex-cli`). None panics on anything; what each accepts is what it promises; and a
//! refused `auth.json` never quotes any of its values (they are tokens).

use codex_profiler::engine::oauth::codex_cli::read_auth_json;
use codex_profiler::engine::oauth::identity::parse_name;
use codex_profiler::engine::profile::ProfileId;
use codex_profiler::engine::selector::Selector;
use proptest::prelude::*;
use serde_json::{Value, json};

use super::config;
use super::strategies::{hostile_text, json_object_with, json_value};

const AUTH_KEYS: &[&str] = &[
    "auth_mode",
    "tokens",
    "access_token",
    "refresh_token",
    "id_token",
    "account_id",
    "OPENAI_API_KEY",
    "last_refresh",
];

/// An `auth.json`: random, or shaped like the Codex CLI's with any field hostile or missing.
fn auth_json() -> impl Strategy<Value = Value> {
    let field = prop_oneof![
        3 => "[A-Za-z0-9._-]{12,40}".prop_map(|s| json!(format!("SECRET{s}"))),
        1 => json_value(),
        1 => Just(json!("   ")),
    ];
    let tokens = prop::collection::vec(
        (
            prop::sample::select(&AUTH_KEYS[2..6]),
            prop::option::of(field),
        ),
        0..6,
    )
    .prop_map(|kv| {
        Value::Object(
            kv.into_iter()
                .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v)))
                .collect(),
        )
    });
    prop_oneof![
        1 => json_object_with(AUTH_KEYS, 3),
        3 => (prop::sample::select(vec!["chatgpt", "apikey", "ChatGPT", ""]), tokens)
            .prop_map(|(mode, tokens)| json!({"auth_mode": mode, "tokens": tokens})),
    ]
}

/// Every string in `v`, at any depth.
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(o) => o.iter().for_each(|(k, x)| {
            out.push(k.clone());
            strings(x, out)
        }),
        _ => {}
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn ids_and_selectors_take_any_text(s in hostile_text()) {
        match ProfileId::parse(&s) {
            Ok(id) => {
                prop_assert_eq!(id.as_str(), s.as_str());
                prop_assert!(s.contains(':'));
                prop_assert!(!s.chars().any(|c| c.is_whitespace() || c.is_control()));
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
        match Selector::parse(&s) {
            Err(_) => prop_assert!(s.trim().is_empty()),
            Ok(Selector::Exact(id)) => prop_assert_eq!(id.as_str(), s.trim()),
            Ok(Selector::Suffix(t)) => prop_assert_eq!(t.as_str(), s.trim()),
            Ok(Selector::All | Selector::Default) => {
                prop_assert!(matches!(s.trim(), "all" | "default"));
            }
        }
    }

    #[test]
    fn a_login_name_is_id_safe_or_refused(s in hostile_text()) {
        if let Ok(name) = parse_name(&s) {
            prop_assert!(!name.is_empty() && name.len() <= 128);
            let id = format!("openai:{name}");
            prop_assert!(ProfileId::parse(&id).is_ok(), "{}", id);
        }
    }

    #[test]
    fn a_codex_auth_json_is_read_or_refused_without_quoting_it(doc in auth_json()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("auth.json");
        std::fs::write(&path, doc.to_string()).unwrap();
        match read_auth_json(&path) {
            Ok(t) => {
                prop_assert_eq!(doc["auth_mode"].as_str(), Some("chatgpt"));
                let access = t.access.expose_secret();
                prop_assert!(!access.is_empty() && access.trim() == access);
                prop_assert!(!t.refresh.expose_secret().is_empty());
                prop_assert!(t.account_id_hint.is_some_and(|a| !a.is_empty()));
            }
            Err(e) => {
                let (text, debug) = (e.to_string(), format!("{e:?}"));
                let mut values = Vec::new();
                strings(&doc, &mut values);
                for v in values.iter().filter(|v| v.starts_with("SECRET")) {
                    prop_assert!(!text.contains(v.as_str()) && !debug.contains(v.as_str()), "{}", text);
                }
            }
        }
    }
}
