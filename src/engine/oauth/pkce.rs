//! PKCE (RFC 7636, S256) and the authorize URL. The verifier and the state are secrets; the
//! challenge is public (it is a hash) and so is the URL, apart from the state it carries.

use base64::Engine as _;
use sha2::{Digest, Sha256};
use url::Url;

use super::{CLIENT_ID, Issuer, ORIGINATOR, REDIRECT_URI, SCOPE};
use crate::secret::Secret;

/// A fresh PKCE pair and state for one login.
#[derive(Debug, Clone)]
pub struct LoginSecrets {
    /// 32 random bytes, base64url without padding (43 characters).
    pub verifier: Secret<String>,
    /// 16 random bytes, lower-case hex.
    pub state: Secret<String>,
}

impl LoginSecrets {
    /// Draw a new verifier and state from the OS random source.
    pub fn generate() -> Result<LoginSecrets, getrandom::Error> {
        let mut v = [0u8; 32];
        getrandom::fill(&mut v)?;
        let mut s = [0u8; 16];
        getrandom::fill(&mut s)?;
        Ok(LoginSecrets {
            verifier: Secret::new(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v)),
            state: Secret::new(hex::encode(s)),
        })
    }

    /// The S256 challenge of the verifier.
    pub fn challenge(&self) -> String {
        challenge_s256(self.verifier.expose_secret())
    }
}

/// `BASE64URL(SHA256(verifier))`, no padding.
pub fn challenge_s256(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// The authorize URL with every parameter SPEC section 4 lists.
pub fn authorize_url(issuer: &Issuer, secrets: &LoginSecrets) -> Url {
    let mut url = issuer.as_url().clone();
    let base = url.path().trim_end_matches('/').to_owned();
    url.set_path(&format!("{base}/oauth/authorize"));
    url.set_query(None);
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", CLIENT_ID)
        .append_pair("redirect_uri", REDIRECT_URI)
        .append_pair("scope", SCOPE)
        .append_pair("code_challenge", &secrets.challenge())
        .append_pair("code_challenge_method", "S256")
        .append_pair("state", secrets.state.expose_secret())
        .append_pair("id_token_add_organizations", "true")
        .append_pair("codex_cli_simplified_flow", "true")
        .append_pair("originator", ORIGINATOR);
    url
}

/// Compare two secrets without leaking where they first differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_vector() {
        assert_eq!(
            challenge_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn secrets_have_the_right_shape() {
        let s = LoginSecrets::generate().unwrap();
        assert_eq!(s.verifier.expose_secret().len(), 43);
        assert_eq!(s.state.expose_secret().len(), 32);
        assert!(
            s.state
                .expose_secret()
                .chars()
                .all(|c| c.is_ascii_hexdigit())
        );
        let t = LoginSecrets::generate().unwrap();
        assert_ne!(s.state.expose_secret(), t.state.expose_secret());
    }

    #[test]
    fn authorize_url_has_every_parameter() {
        let issuer = Issuer::from_override(None).unwrap();
        let s = LoginSecrets::generate().unwrap();
        let url = authorize_url(&issuer, &s);
        assert!(
            url.as_str()
                .starts_with("https://auth.openai.com/oauth/authorize?")
        );
        let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(q["client_id"], CLIENT_ID);
        assert_eq!(q["redirect_uri"], REDIRECT_URI);
        assert_eq!(q["scope"], SCOPE);
        assert_eq!(q["code_challenge"], s.challenge());
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(&q["state"], s.state.expose_secret());
        assert_eq!(q["id_token_add_organizations"], "true");
        assert_eq!(q["codex_cli_simplified_flow"], "true");
        assert_eq!(q["originator"], "codex-profiler");
        assert_eq!(q["response_type"], "code");
        assert!(!url.as_str().contains(s.verifier.expose_secret().as_str()));
    }

    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
    }
}
