//! Generators shared by the property tests: hostile text (control characters, terminal
//! escapes, bidi overrides, URL punctuation), arbitrary JSON documents biased towards the keys
//! a parser looks for, and well-formed OAuth callbacks with the code and state they carry.
//!
//! A new line protocol (the plugin host's) gets its property in a few lines from these:
//! `hostile_text()` / `json_object_with(KEYS, depth)` for a line, [`callback_input`] for a
//! secret to hide in one, and the `prop_assert!`s of `chat_command.rs` as the model.

use proptest::collection::vec;
use proptest::prelude::*;
use serde_json::{Map, Number, Value};

/// Pieces hostile text is made of: printable ASCII, any char, and the sequences parsers and
/// terminals treat specially.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[ -~]{0,8}",
        2 => any::<char>().prop_map(String::from),
        1 => "\\PC{0,4}",
        1 => prop::sample::select(vec![
            "\u{1b}[", "\u{1b}[0m", "\u{1b}[1;31m", "\u{1b}[8m", "\u{1b}[38;5;1m", "\u{1b}]52;c;",
            "\u{7}", "\u{9b}", "\r", "\n", "\t", "\u{0}", "\u{7f}", "\u{202e}", "\u{2066}",
            "\u{200f}", "\u{61c}", "\u{feff}", "é", "𝕏", "code=", "state=", "error=", "&", "?",
            "#", "=", "%", "%2", "%41", "+", "/", "@", ":", " ", "http://", "https://",
            "/auth/callback", "codex_auth_", "usage:", "{", "}", "[", "]", "\"", "\\",
        ])
        .prop_map(str::to_owned),
    ]
}

/// Arbitrary text biased towards what breaks parsers and terminals.
pub fn hostile_text() -> impl Strategy<Value = String> {
    vec(fragment(), 0..24).prop_map(|parts| parts.concat())
}

/// A JSON number: integers of every size, finite floats, the edges.
fn json_number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        any::<f64>()
            .prop_filter_map("finite", Number::from_f64)
            .prop_map(Value::Number),
        prop::sample::select(vec![0i64, -1, 1, 100, 101, i64::MAX, i64::MIN]).prop_map(Value::from),
    ]
}

/// A JSON leaf: null, booleans, numbers, hostile strings and number-like strings.
pub fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        json_number(),
        hostile_text().prop_map(Value::String),
        prop::sample::select(vec![
            "NaN",
            "inf",
            "-inf",
            "1e400",
            "-5",
            "42.5",
            " 7 ",
            "true",
            "false",
            "",
            " ",
            "oauth",
            "openai",
            "openai-codex",
        ])
        .prop_map(|s| Value::String(s.to_owned())),
    ]
}

/// Arbitrary JSON, nested up to `depth` levels, object keys drawn from `keys` or random.
pub fn json_value_with(keys: &'static [&'static str], depth: u32) -> BoxedStrategy<Value> {
    json_leaf()
        .prop_recursive(depth, 64, 6, move |inner| {
            prop_oneof![
                vec(inner.clone(), 0..6).prop_map(Value::Array),
                vec((key(keys), inner), 0..6)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
        .boxed()
}

/// Arbitrary JSON with random keys.
pub fn json_value() -> BoxedStrategy<Value> {
    json_value_with(&[], 4)
}

/// A JSON object (never another kind) whose keys come mostly from `keys`.
pub fn json_object_with(keys: &'static [&'static str], depth: u32) -> BoxedStrategy<Value> {
    vec((key(keys), json_value_with(keys, depth)), 0..8)
        .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>()))
        .boxed()
}

fn key(keys: &'static [&'static str]) -> BoxedStrategy<String> {
    if keys.is_empty() {
        hostile_text().boxed()
    } else {
        prop_oneof![
            3 => prop::sample::select(keys).prop_map(str::to_owned),
            1 => hostile_text(),
        ]
        .boxed()
    }
}

/// An authorization code as a server issues it: `ac_` then URL-safe characters.
pub fn code() -> impl Strategy<Value = String> {
    "ac_[A-Za-z0-9._~-]{4,40}"
}

/// A state as a login issues it: `st_` then URL-safe characters.
pub fn state() -> impl Strategy<Value = String> {
    "st_[A-Za-z0-9._~-]{4,40}"
}

/// `s` with the characters chosen by `mask` written as `%XX` (form decoding undoes it).
fn percent_some(s: &str, mask: &[bool]) -> String {
    s.chars()
        .zip(mask.iter().chain(std::iter::repeat(&false)))
        .map(|(c, &enc)| {
            if enc && c.is_ascii() {
                format!("%{:02X}", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// An extra query parameter that is neither `code`, `state` nor `error`, its value encoded.
fn extra_param() -> impl Strategy<Value = String> {
    (
        "[a-z_]{1,10}".prop_filter("not ours", |k| {
            !matches!(k.as_str(), "code" | "state" | "error")
        }),
        hostile_text(),
    )
        .prop_map(|(k, v)| {
            let v: String = url::form_urlencoded::byte_serialize(v.as_bytes()).collect();
            format!("{k}={v}")
        })
}

/// A well-formed callback and the code and state it carries.
#[derive(Debug, Clone)]
pub struct Callback {
    /// The text pasted (URL, query or `code#state`, maybe padded with whitespace).
    pub text: String,
    /// The code in it.
    pub code: String,
    /// The state in it.
    pub state: String,
}

/// A query string carrying `code` and `state` among extra parameters, in any order; with
/// `encode`, parts of keys and values are percent-encoded.
fn query(encode: bool) -> impl Strategy<Value = (String, String, String)> {
    (
        code(),
        state(),
        vec(extra_param(), 0..4),
        vec(any::<bool>(), 48),
        vec(any::<bool>(), 48),
        any::<prop::sample::Index>(),
        any::<prop::sample::Index>(),
    )
        .prop_map(move |(code, state, mut params, m1, m2, i, j)| {
            let (kc, ks) = if encode {
                (
                    percent_some("code", &m1[40..]),
                    percent_some("state", &m2[40..]),
                )
            } else {
                ("code".to_owned(), "state".to_owned())
            };
            let (vc, vs) = if encode {
                (percent_some(&code, &m1), percent_some(&state, &m2))
            } else {
                (code.clone(), state.clone())
            };
            params.insert(i.index(params.len() + 1), format!("{kc}={vc}"));
            params.insert(j.index(params.len() + 1), format!("{ks}={vs}"));
            (params.join("&"), code, state)
        })
}

/// A redirect URL as a browser shows it: scheme, loopback or other host, port, path, the
/// query (or, as some servers answer, the fragment), maybe a fragment naming nothing of ours.
fn url(encode: bool) -> impl Strategy<Value = (String, String, String)> {
    (
        prop::sample::select(vec!["http", "https", "HTTP", "Https"]),
        prop::sample::select(vec!["localhost", "127.0.0.1", "[::1]", "auth.example.com"]),
        prop::option::of(1u16..),
        prop::sample::select(vec!["/auth/callback", "/", "/cb/x", ""]),
        query(encode),
        prop_oneof![Just(None), Just(Some("done")), Just(Some("x=1"))],
        any::<bool>(),
    )
        .prop_map(
            |(scheme, host, port, path, (q, code, state), frag, in_fragment)| {
                let port = port.map(|p| format!(":{p}")).unwrap_or_default();
                let tail = match (in_fragment, frag) {
                    (true, _) => format!("#{q}"),
                    (false, Some(f)) => format!("?{q}#{f}"),
                    (false, None) => format!("?{q}"),
                };
                (format!("{scheme}://{host}{port}{path}{tail}"), code, state)
            },
        )
}

fn padded(s: impl Strategy<Value = (String, String, String)>) -> impl Strategy<Value = Callback> {
    ("[ \t\n]{0,2}", s, "[ \t\n]{0,2}").prop_map(|(a, (text, code, state), b)| Callback {
        text: format!("{a}{text}{b}"),
        code,
        state,
    })
}

/// Every shape [`CallbackUrl::parse`] accepts: a URL, a query (with or without `?`), or
/// `code#state`; keys and values partly percent-encoded.
///
/// [`CallbackUrl::parse`]: codex_profiler::engine::oauth::callback::CallbackUrl::parse
pub fn callback_input() -> impl Strategy<Value = Callback> {
    padded(prop_oneof![
        url(true),
        (prop::sample::select(vec!["", "?"]), query(true)).prop_map(|(p, (q, c, s))| (
            format!("{p}{q}"),
            c,
            s
        )),
        (code(), state()).prop_map(|(c, s)| (format!("{c}#{s}"), c, s)),
    ])
}

/// A callback URL or query as a browser really produces it (literal `code=` / `state=`
/// keys), as a user pastes it into a chat: one word.
pub fn pasted_callback() -> impl Strategy<Value = Callback> {
    prop_oneof![
        url(false),
        (prop::sample::select(vec!["", "?"]), query(false)).prop_map(|(p, (q, c, s))| (
            format!("{p}{q}"),
            c,
            s
        )),
    ]
    .prop_map(|(text, code, state)| Callback { text, code, state })
}
