//! The token endpoint: `authorization_code` + PKCE verifier for tokens, through the `oauth2`
//! crate, over a reqwest client that never follows redirects and gives up after 30 s.
//!
//! `oauth2`'s errors may embed response bodies, so they never leave this file: the HTTP
//! closure classifies replies first (server error, not JSON, odd refusal), and every
//! remaining `oauth2` error is mapped to an [`OAuthError`] of our own.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AccessToken, AuthorizationCode, ClientId, EndpointNotSet, EndpointSet, HttpRequest,
    HttpResponse, PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError, Scope,
    StandardRevocableToken, TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};

use super::error::safe_code;
use super::{CLIENT_ID, Issuer, OAuthError, REQUEST_TIMEOUT, Tokens};
use crate::secret::Secret;

/// The HTTP client every OAuth request to `issuer` uses (token and device endpoints): no
/// redirects, no proxy for a loopback issuer ([`crate::engine::http::builder`]), 30 s per
/// request.
pub fn http_client(issuer: &Issuer) -> Result<reqwest::Client, OAuthError> {
    crate::engine::http::builder(issuer.as_url())
        .timeout(REQUEST_TIMEOUT)
        .connect_timeout(Duration::from_secs(10))
        .build()
        .map_err(|_| OAuthError::Network("the HTTP client could not be set up"))
}

/// Classify a transport error without keeping its text (it may hold the URL).
pub(crate) fn transport_error(e: &reqwest::Error) -> OAuthError {
    if e.is_timeout() {
        OAuthError::Timeout
    } else if e.is_connect() {
        OAuthError::Network("connection failed")
    } else {
        OAuthError::Network("the request failed")
    }
}

/// The token reply. OpenAI's may lack `token_type`, which the standard response requires,
/// and carries an `id_token` we read the email from.
#[derive(Debug, Deserialize, Serialize)]
struct CodexTokenResponse {
    access_token: AccessToken,
    #[serde(skip, default = "bearer")]
    token_type: BasicTokenType,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    refresh_token: Option<RefreshToken>,
    // AccessToken is oauth2's redacting secret wrapper; reused for the id token.
    #[serde(default)]
    id_token: Option<AccessToken>,
}

fn bearer() -> BasicTokenType {
    BasicTokenType::Bearer
}

impl TokenResponse for CodexTokenResponse {
    type TokenType = BasicTokenType;
    fn access_token(&self) -> &AccessToken {
        &self.access_token
    }
    fn token_type(&self) -> &BasicTokenType {
        &self.token_type
    }
    fn expires_in(&self) -> Option<Duration> {
        self.expires_in.map(Duration::from_secs)
    }
    fn refresh_token(&self) -> Option<&RefreshToken> {
        self.refresh_token.as_ref()
    }
    fn scopes(&self) -> Option<&Vec<Scope>> {
        None
    }
}

type CodexClient = oauth2::Client<
    BasicErrorResponse,
    CodexTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// What the HTTP closure refuses before `oauth2` parses anything.
#[derive(Debug, thiserror::Error)]
enum Reply {
    #[error("transport")]
    Transport(#[source] reqwest::Error),
    #[error("status")]
    Status(u16),
    #[error("not json")]
    NotJson,
    #[error("refused")]
    Refused(String),
}

async fn send(http: &reqwest::Client, req: HttpRequest) -> Result<HttpResponse, Reply> {
    let req = reqwest::Request::try_from(req).map_err(Reply::Transport)?;
    let resp = http.execute(req).await.map_err(Reply::Transport)?;
    let status = resp.status();
    let body = resp.bytes().await.map_err(Reply::Transport)?;
    if status.is_server_error() || status.is_redirection() {
        return Err(Reply::Status(status.as_u16()));
    }
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return Err(Reply::NotJson);
    };
    if !status.is_success() {
        // A refusal whose `error` is not a plain string would make oauth2 report a parse
        // failure; say what it is instead.
        match json.get("error") {
            Some(serde_json::Value::String(_)) => {}
            Some(other) => {
                let code = other.get("code").and_then(|c| c.as_str()).unwrap_or("");
                return Err(Reply::Refused(safe_code(code)));
            }
            None => return Err(Reply::Refused(format!("HTTP {}", status.as_u16()))),
        }
    }
    let mut b = oauth2::http::Response::builder().status(status.as_u16());
    // The body was checked above by parsing it, so whatever label the server gave JSON
    // (`text/plain`, `application/json; charset=utf-8`) oauth2 sees `application/json`. No
    // other header matters to it.
    b = b.header("content-type", "application/json");
    b.body(body.to_vec()).map_err(|_| Reply::NotJson)
}

/// `oauth2`'s view of our reqwest client. A named type rather than a closure: a closure's
/// future is not provably `Send` for every lifetime, which would make the login futures
/// unusable on a multi-threaded runtime.
struct Http<'a>(&'a reqwest::Client);

impl<'c> oauth2::AsyncHttpClient<'c> for Http<'_> {
    type Error = Reply;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, Reply>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(send(self.0, request))
    }
}

/// Exchange an authorization code (from a callback or the device flow) for tokens.
pub async fn exchange_code(
    http: &reqwest::Client,
    issuer: &Issuer,
    code: &Secret<String>,
    verifier: &Secret<String>,
    redirect_uri: &str,
) -> Result<Tokens, OAuthError> {
    let token_url =
        TokenUrl::new(issuer.url("/oauth/token")).map_err(|_| OAuthError::Network("bad URL"))?;
    let redirect =
        RedirectUrl::new(redirect_uri.to_owned()).map_err(|_| OAuthError::Network("bad URL"))?;
    let client: CodexClient =
        oauth2::Client::new(ClientId::new(CLIENT_ID.to_owned())).set_token_uri(token_url);
    let call = Http(http);
    let result = client
        .exchange_code(AuthorizationCode::new(code.expose_secret().clone()))
        .set_pkce_verifier(PkceCodeVerifier::new(verifier.expose_secret().clone()))
        .set_redirect_uri(Cow::Owned(redirect))
        .request_async(&call)
        .await;
    let resp = result.map_err(|e| match e {
        RequestTokenError::ServerResponse(r) => {
            OAuthError::TokenRefused(safe_code(r.error().as_ref()))
        }
        RequestTokenError::Request(Reply::Transport(t)) => transport_error(&t),
        RequestTokenError::Request(Reply::Status(s)) => OAuthError::TokenServerError(s),
        RequestTokenError::Request(Reply::NotJson) => OAuthError::NotJson,
        RequestTokenError::Request(Reply::Refused(c)) => OAuthError::TokenRefused(c),
        RequestTokenError::Parse(..) | RequestTokenError::Other(_) => OAuthError::NotJson,
    })?;
    let access = resp.access_token.secret().trim().to_owned();
    let refresh = resp
        .refresh_token
        .as_ref()
        .map(|r| r.secret().trim().to_owned())
        .unwrap_or_default();
    if access.is_empty() || refresh.is_empty() {
        return Err(OAuthError::MissingTokens);
    }
    Ok(Tokens {
        access: Secret::new(access),
        refresh: Secret::new(refresh),
        id_token: resp.id_token.map(|t| Secret::new(t.secret().clone())),
        expires_in_s: resp.expires_in,
        account_id_hint: None,
    })
}
