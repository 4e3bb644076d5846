//! Endpoint trust: tokens, codes and verifiers are only ever sent to the OpenAI hosts SPEC
//! names or to a loopback address (for tests). Every override is checked here, once, before
//! any request is made. That the request then really goes there (no proxy in between for a
//! loopback target, `localhost` never resolved) is [`crate::engine::http`]'s job.

use url::{Host, Url};

/// The default OAuth issuer.
pub const DEFAULT_AUTH_ISSUER: &str = "https://auth.openai.com";
/// The default usage endpoint.
pub const DEFAULT_USAGE_URL: &str = "https://chatgpt.com/backend-api/wham/usage";

/// An endpoint override that is not trusted, or not a URL.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EndpointError {
    /// Not an absolute http(s) URL.
    #[error("{var} is not a valid http(s) URL")]
    NotAUrl {
        /// The environment variable or option that held it.
        var: &'static str,
    },
    /// A host that may not receive tokens.
    #[error(
        "{var} points to {host}, which is not trusted: only {allowed} or a loopback address may receive tokens"
    )]
    Untrusted {
        /// The environment variable or option that held it.
        var: &'static str,
        /// The refused host.
        host: String,
        /// The one trusted public origin for this endpoint.
        allowed: &'static str,
    },
}

impl crate::engine::Failure for EndpointError {
    fn kind(&self) -> crate::engine::FailureKind {
        crate::engine::FailureKind::InputRefused
    }
    fn code(&self) -> &'static str {
        "untrusted_endpoint"
    }
}

/// Whether a URL's host is loopback (`127.0.0.0/8`, `::1`, `localhost`).
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Check an override: it must be `https://<trusted_host>` (default port) or any loopback
/// http(s) URL. Returns the parsed URL.
fn check(var: &'static str, raw: &str, trusted_origin: &'static str) -> Result<Url, EndpointError> {
    let url = Url::parse(raw.trim()).map_err(|_| EndpointError::NotAUrl { var })?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(EndpointError::NotAUrl { var });
    }
    if is_loopback(&url) {
        return Ok(url);
    }
    let trusted = Url::parse(trusted_origin).map_err(|_| EndpointError::NotAUrl { var })?;
    let same_origin = url.scheme() == "https"
        && url.host_str().map(str::to_ascii_lowercase) == trusted.host_str().map(str::to_owned)
        && url.port_or_known_default() == Some(443)
        && url.username().is_empty()
        && url.password().is_none();
    if same_origin {
        Ok(url)
    } else {
        Err(EndpointError::Untrusted {
            var,
            host: url.host_str().unwrap_or("").to_owned(),
            allowed: trusted_origin,
        })
    }
}

/// The OAuth issuer from `CODEX_PROFILER_AUTH_ISSUER` (or the default), checked. The result
/// has no trailing slash.
pub fn auth_issuer(override_value: Option<&str>) -> Result<Url, EndpointError> {
    let raw = override_value
        .filter(|s| !s.trim().is_empty())
        .unwrap_or(DEFAULT_AUTH_ISSUER);
    check("CODEX_PROFILER_AUTH_ISSUER", raw, DEFAULT_AUTH_ISSUER)
}

/// The usage URL from `CODEX_PROFILER_USAGE_URL` (or the default), checked.
pub fn usage_url(override_value: Option<&str>) -> Result<Url, EndpointError> {
    let raw = override_value
        .filter(|s| !s.trim().is_empty())
        .unwrap_or(DEFAULT_USAGE_URL);
    check("CODEX_PROFILER_USAGE_URL", raw, "https://chatgpt.com")
}

/// Join a path onto an issuer without doubling slashes: `issuer_path(&u, "/oauth/token")`.
pub fn issuer_path(issuer: &Url, path: &str) -> String {
    format!("{}{}", issuer.as_str().trim_end_matches('/'), path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trusts_only_openai_and_loopback() {
        assert!(auth_issuer(None).is_ok());
        assert!(auth_issuer(Some("https://auth.openai.com/")).is_ok());
        assert!(auth_issuer(Some("http://127.0.0.1:8080")).is_ok());
        assert!(auth_issuer(Some("http://[::1]:9")).is_ok());
        assert!(auth_issuer(Some("http://localhost:1")).is_ok());
        assert!(matches!(
            auth_issuer(Some("https://evil.example")),
            Err(EndpointError::Untrusted { .. })
        ));
        assert!(matches!(
            auth_issuer(Some("http://auth.openai.com")),
            Err(EndpointError::Untrusted { .. })
        ));
        assert!(matches!(
            auth_issuer(Some("https://auth.openai.com.evil.example")),
            Err(EndpointError::Untrusted { .. })
        ));
        assert!(matches!(
            auth_issuer(Some("https://auth.openai.com:8443")),
            Err(EndpointError::Untrusted { .. })
        ));
        assert!(matches!(
            auth_issuer(Some("https://chatgpt.com")),
            Err(EndpointError::Untrusted { .. })
        ));
        assert!(matches!(
            auth_issuer(Some("not a url")),
            Err(EndpointError::NotAUrl { .. })
        ));
        assert!(usage_url(Some("https://chatgpt.com/backend-api/wham/usage")).is_ok());
        assert!(usage_url(Some("https://10.0.0.1/x")).is_err());
    }
}
