//! What the user pastes back after the browser login: the full redirect URL, its query string,
//! or `code#state`. Parsed once, at the edge, into a [`CallbackUrl`] whose code and state are
//! secrets; an `error=` callback becomes [`OAuthError::Denied`].

use super::OAuthError;
use super::error::safe_code;
use crate::secret::Secret;

/// A parsed callback: both parts present, both secret.
#[derive(Debug, Clone)]
pub struct CallbackUrl {
    /// The authorization code.
    pub code: Secret<String>,
    /// The state, to be matched against a pending login.
    pub state: Secret<String>,
}

impl CallbackUrl {
    /// Parse pasted text. Never echoes the input in its errors.
    pub fn parse(input: &str) -> Result<CallbackUrl, OAuthError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(OAuthError::BadCallback);
        }
        let lower = s.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            let url = url::Url::parse(s).map_err(|_| OAuthError::BadCallback)?;
            // Some servers answer in the fragment. A code or state in both is refused like a
            // repeated one: the two could disagree.
            let query = url.query().filter(|q| !q.is_empty());
            let fragment = url.fragment().filter(|f| !f.is_empty());
            if let (Some(q), Some(f)) = (query, fragment)
                && names_code_or_state(q)
                && names_code_or_state(f)
            {
                return Err(OAuthError::RepeatedParameter);
            }
            return from_query(query.or(fragment).unwrap_or(""));
        }
        if s.contains('=') {
            return from_query(s.trim_start_matches('?'));
        }
        match s.split_once('#') {
            Some((code, state)) => parts(code.trim(), state.trim()),
            // A bare code: the state is mandatory.
            None if s.chars().all(is_code_char) => Err(OAuthError::MissingState),
            None => Err(OAuthError::BadCallback),
        }
    }
}

fn is_code_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~')
}

/// Whether a query names a `code` or a `state`.
fn names_code_or_state(query: &str) -> bool {
    url::form_urlencoded::parse(query.as_bytes()).any(|(k, _)| k == "code" || k == "state")
}

fn from_query(query: &str) -> Result<CallbackUrl, OAuthError> {
    let mut code = None;
    let mut state = None;
    let mut error = None;
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        let slot = match k.as_ref() {
            "code" => &mut code,
            "state" => &mut state,
            "error" => &mut error,
            _ => continue,
        };
        // The last value winning would let a crafted link smuggle a second code or state past
        // a reader who checked the first one.
        if slot.replace(v.into_owned()).is_some() {
            return Err(OAuthError::RepeatedParameter);
        }
    }
    if let Some(e) = error {
        return Err(OAuthError::Denied(safe_code(&e)));
    }
    match (code, state) {
        (Some(c), Some(s)) => parts(&c, &s),
        (Some(c), None) if !c.is_empty() => Err(OAuthError::MissingState),
        _ => Err(OAuthError::BadCallback),
    }
}

fn parts(code: &str, state: &str) -> Result<CallbackUrl, OAuthError> {
    if code.is_empty() || !code.chars().all(is_code_char) {
        return Err(OAuthError::BadCallback);
    }
    if state.is_empty() {
        return Err(OAuthError::MissingState);
    }
    if !state.chars().all(is_code_char) {
        return Err(OAuthError::BadCallback);
    }
    Ok(CallbackUrl {
        code: Secret::new(code.to_owned()),
        state: Secret::new(state.to_owned()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> (String, String) {
        let c = CallbackUrl::parse(s).unwrap();
        (
            c.code.expose_secret().clone(),
            c.state.expose_secret().clone(),
        )
    }

    #[test]
    fn accepts_the_three_shapes() {
        let want = ("ac_123".to_owned(), "ff00".to_owned());
        assert_eq!(
            ok("http://localhost:1455/auth/callback?code=ac_123&state=ff00"),
            want
        );
        assert_eq!(ok("  code=ac_123&state=ff00\n"), want);
        assert_eq!(ok("?state=ff00&code=ac_123&scope=x"), want);
        assert_eq!(ok("ac_123#ff00"), want);
    }

    #[test]
    fn refuses_missing_state_errors_and_garbage() {
        assert!(matches!(
            CallbackUrl::parse("http://localhost:1455/auth/callback?code=ac_123"),
            Err(OAuthError::MissingState)
        ));
        assert!(matches!(
            CallbackUrl::parse("ac_123"),
            Err(OAuthError::MissingState)
        ));
        assert!(matches!(
            CallbackUrl::parse("ac_123#"),
            Err(OAuthError::MissingState)
        ));
        assert!(matches!(
            CallbackUrl::parse("http://localhost:1455/auth/callback?error=access_denied&state=ff"),
            Err(OAuthError::Denied(e)) if e == "access_denied"
        ));
        assert!(matches!(
            CallbackUrl::parse("hello world"),
            Err(OAuthError::BadCallback)
        ));
        assert!(matches!(
            CallbackUrl::parse(""),
            Err(OAuthError::BadCallback)
        ));
    }

    #[test]
    fn a_repeated_code_or_state_is_refused() {
        for s in [
            "http://localhost:1455/auth/callback?code=ac_1&state=ff&code=ac_2",
            "http://localhost:1455/auth/callback?code=ac_1&state=ff&state=ee",
            "http://localhost:1455/auth/callback?code=ac_1&state=ff#code=ac_2&state=ee",
            "code=ac_1&code=ac_1&state=ff",
            "?state=ff&state=ff&code=ac_1",
            "http://localhost:1455/auth/callback?error=a&error=b&state=ff",
        ] {
            let e = CallbackUrl::parse(s).unwrap_err();
            assert!(matches!(e, OAuthError::RepeatedParameter), "{s}: {e:?}");
            assert!(!e.to_string().contains("ac_"), "{e}");
        }
        // A fragment with nothing of the login in it does not count.
        assert_eq!(
            ok("http://localhost:1455/auth/callback?code=ac_123&state=ff00#done"),
            ("ac_123".to_owned(), "ff00".to_owned())
        );
    }

    #[test]
    fn errors_never_echo_the_input() {
        let e =
            CallbackUrl::parse("http://localhost:1455/auth/callback?code=SECRETCODE").unwrap_err();
        assert!(!e.to_string().contains("SECRETCODE"));
        let e = CallbackUrl::parse("?error=<script>SECRET&state=x").unwrap_err();
        assert!(!e.to_string().contains("SECRET"));
    }
}
