//! The secrets of one sweep and the search for any fragment of them.
//!
//! Every secret is registered with its kind ("refresh token", "PKCE verifier", ...). It is
//! searched as every window of [`SHORT`] characters (text whose every character is secret
//! material: our `SWEEP…` tokens, codes, states, the bot token) or of [`LONG`] characters
//! (base64 material, JWTs and PKCE verifiers: 8 base64 characters carry only 6 bytes, and a
//! JWT payload is mostly the base64 of public claims, so 12 is the shortest window specific to
//! one token; callback URLs: an 8-character window there can be 7 characters of parameter
//! syntax and one of secret, and their code and state are searched at 8 on their own), in
//! raw, percent-encoded and JSON-escaped forms. A window
//! that also occurs in the public text of the run (the redirect URI, the JWT header, the
//! fixed fake signature, parameter names) says nothing about the secret and is dropped; so is
//! a window two secrets share (a JWT's claim layout, our `SWEEPref_` prefix): it is structure,
//! and it would name the wrong secret.
//!
//! Any window of `n` >= the window length found means a window of exactly that length is
//! found, so searching windows of one length finds every longer fragment too.

use std::collections::{HashMap, HashSet};

/// Window length for secrets whose every character is secret material.
pub const SHORT: usize = 8;
/// Window length for base64 material (JWT payloads, PKCE verifiers).
pub const LONG: usize = 12;

/// One registered secret.
#[derive(Debug, Clone)]
pub struct Secret {
    /// What it is ("access token", ...), for the failure message.
    pub kind: String,
    /// The value (never printed whole).
    pub value: String,
    window: usize,
}

impl Secret {
    /// The first 4 characters, the most a failure message shows.
    pub fn head(&self) -> String {
        self.value.chars().take(4).collect()
    }
}

/// One place a fragment was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The secret's kind.
    pub kind: String,
    /// Its first 4 characters.
    pub head: String,
    /// Where (a stream, a file, a process, a request).
    pub place: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} `{}…` in {}", self.kind, self.head, self.place)
    }
}

/// The secrets of a run and the public text whose windows are not evidence.
#[derive(Debug, Default)]
pub struct Secrets {
    all: Vec<Secret>,
    public: Vec<String>,
}

/// The forms a secret may take on the way out: raw, percent-encoded (a form body, a URL
/// query), JSON-escaped (a JSON string, with and without `\/`).
pub fn forms(value: &str) -> Vec<String> {
    let pct: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
    let pct_strict = pct.replace('+', "%20");
    let json = serde_json::to_string(value).unwrap_or_default();
    let json = json.trim_matches('"').to_owned();
    let json_slash = json.replace('/', "\\/");
    let mut out = vec![value.to_owned(), pct, pct_strict, json, json_slash];
    out.sort();
    out.dedup();
    out
}

impl Secrets {
    /// Register `value` as a secret of `kind` searched in windows of `window` characters.
    pub fn add(&mut self, kind: &str, value: &str, window: usize) {
        if value.len() < window || self.all.iter().any(|s| s.value == value) {
            return;
        }
        self.all.push(Secret {
            kind: kind.to_owned(),
            value: value.to_owned(),
            window,
        });
    }

    /// Register text that is public (its windows are no evidence of a leak).
    pub fn public(&mut self, text: &str) {
        self.public.extend(forms(text));
    }

    /// How many secrets are registered.
    pub fn len(&self) -> usize {
        self.all.len()
    }

    /// Every secret of `kind`.
    pub fn of_kind(&self, kind: &str) -> Vec<&Secret> {
        self.all.iter().filter(|s| s.kind == kind).collect()
    }

    /// The window index: each window (per length) to the secret it comes from.
    pub fn index(&self) -> Index {
        let public: HashSet<&[u8]> = self
            .public
            .iter()
            .flat_map(|p| [SHORT, LONG].map(|n| p.as_bytes().windows(n)))
            .flatten()
            .collect();
        let mut by_len: HashMap<usize, HashMap<Vec<u8>, usize>> = HashMap::new();
        let mut shared: HashSet<(usize, Vec<u8>)> = HashSet::new();
        for (i, s) in self.all.iter().enumerate() {
            for form in forms(&s.value) {
                for w in form.as_bytes().windows(s.window) {
                    if public.contains(w) {
                        continue;
                    }
                    let owner = by_len.entry(s.window).or_default().entry(w.to_vec());
                    if *owner.or_insert(i) != i {
                        shared.insert((s.window, w.to_vec()));
                    }
                }
            }
        }
        for (len, w) in &shared {
            if let Some(m) = by_len.get_mut(len) {
                m.remove(w);
            }
        }
        Index {
            by_len,
            secrets: self.all.clone(),
        }
    }
}

/// Windows of every secret, ready to search haystacks.
pub struct Index {
    by_len: HashMap<usize, HashMap<Vec<u8>, usize>>,
    secrets: Vec<Secret>,
}

impl Index {
    /// Every secret with a window in `hay` (each secret once), found at `place`.
    pub fn search(&self, place: &str, hay: &[u8]) -> Vec<Finding> {
        let mut hit = vec![false; self.secrets.len()];
        for (len, windows) in &self.by_len {
            for w in hay.windows(*len) {
                if let Some(&i) = windows.get(w) {
                    // `SWEEP_DEBUG_DIR` set: the window itself, to tell a leak from chance.
                    if std::env::var_os("SWEEP_DEBUG_DIR").is_some() && !hit[i] {
                        eprintln!("debug: {place}: {:?}", String::from_utf8_lossy(w));
                    }
                    hit[i] = true;
                }
            }
        }
        hit.iter()
            .enumerate()
            .filter(|(_, h)| **h)
            .map(|(i, _)| Finding {
                kind: self.secrets[i].kind.clone(),
                head: self.secrets[i].head(),
                place: place.to_owned(),
            })
            .collect()
    }

    /// How many windows are searched.
    pub fn windows(&self) -> usize {
        self.by_len.values().map(HashMap::len).sum()
    }
}

#[test]
fn a_fragment_in_any_form_is_found_and_public_text_is_not() {
    let mut s = Secrets::default();
    s.add("refresh token", "SWEEPref_alice_0123456789abcdef", SHORT);
    s.add("bot token", "4242:SWEEPbot/+&token", SHORT);
    s.public("http://localhost:1455/auth/callback?code=");
    s.add(
        "callback URL",
        "http://localhost:1455/auth/callback?code=SWEEPcode1234",
        SHORT,
    );
    s.add("refresh token", "SWEEPref_bob_fedcba9876543210", SHORT);
    let ix = s.index();
    let kinds = |hay: &str| -> Vec<String> {
        ix.search("t", hay.as_bytes())
            .into_iter()
            .map(|f| f.kind)
            .collect()
    };
    assert_eq!(kinds("xx ref_alice_0 yy"), ["refresh token"]);
    assert!(
        kinds("SWEEPref_").is_empty(),
        "a shared prefix is structure"
    );
    assert_eq!(kinds("4242%3ASWEEPbot%2F%2B%26tok"), ["bot token"]);
    assert_eq!(kinds(r#"{"t":"SWEEPbot\/+&t"}"#), ["bot token"]);
    assert!(kinds("see http://localhost:1455/auth/callback?code=…").is_empty());
    assert_eq!(kinds("callback?code=SWEEPc"), ["callback URL"]);
    let f = ix.search("stderr", b"..SWEEPref_al..");
    assert_eq!(f[0].to_string(), "refresh token `SWEE…` in stderr");
}
