//! Webhook mode (`TELEGRAM_WEBHOOK_URL`): a small axum server that takes Telegram's POSTs,
//! checks the secret header set with `setWebhook`, and hands each update to the same
//! per-user dispatch as polling. Written here rather than using teloxide's ready-made
//! listener so that nothing logs a request URL with the token or a raw update body (which may
//! hold a pasted callback URL), and a bind failure is an error, not a panic.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use redact::Secret;
use teloxide::Bot;
use teloxide::payloads::SetWebhookSetters;
use teloxide::prelude::Requester;
use teloxide::requests::Request;
use teloxide::types::{AllowedUpdate, Update};
use tokio::sync::mpsc;
use url::Url;

use super::dispatch::Dispatch;
use super::{TelegramError, retry};

/// The header Telegram sends the secret in.
const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

#[derive(Clone)]
struct Hook {
    secret: Secret<String>,
    tx: mpsc::UnboundedSender<Update>,
}

/// Serve the webhook until `shutdown` resolves, then remove it from Telegram.
pub async fn run(
    bot: &Bot,
    token: &Secret<String>,
    url: &Url,
    listen: SocketAddr,
    dispatch: &Dispatch,
    shutdown: impl Future<Output = ()>,
) -> Result<(), TelegramError> {
    let listener =
        tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| TelegramError::WebhookBind {
                addr: listen,
                reason: e.to_string(),
            })?;
    let secret = Secret::new(new_secret()?);
    retry::call(
        "setWebhook",
        token,
        || (),
        || {
            let req = bot
                .set_webhook(url.clone())
                .secret_token(secret.expose_secret().clone())
                .allowed_updates([AllowedUpdate::Message, AllowedUpdate::CallbackQuery]);
            async move { req.send().await.map(|_| ()) }
        },
    )
    .await
    .map_err(|e| TelegramError::Startup(e.0))?;

    let (tx, mut rx) = mpsc::unbounded_channel();
    let path = if url.path().is_empty() {
        "/"
    } else {
        url.path()
    };
    let app = axum::Router::new()
        .route(path, post(receive))
        .with_state(Hook { secret, tx });
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stop_rx.await;
            })
            .await
    });

    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            update = rx.recv() => match update {
                Some(update) => super::deliver(dispatch, &update),
                None => break,
            },
        }
    }
    let _ = stop_tx.send(());
    super::delete_webhook(bot, token).await;
    match tokio::time::timeout(Duration::from_secs(3), server).await {
        Ok(Ok(Err(e))) => tracing::warn!(error = %e, "webhook server ended with an error"),
        Err(_) => tracing::warn!("webhook server did not stop in time"),
        _ => {}
    }
    Ok(())
}

async fn receive(State(hook): State<Hook>, headers: HeaderMap, body: String) -> StatusCode {
    let given = headers
        .get(SECRET_HEADER)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if !constant_time_eq(given, hook.secret.expose_secret().as_bytes()) {
        return StatusCode::UNAUTHORIZED;
    }
    match serde_json::from_str::<Update>(&body) {
        Ok(update) => {
            if hook.tx.send(update).is_err() {
                return StatusCode::SERVICE_UNAVAILABLE;
            }
            StatusCode::OK
        }
        Err(e) => {
            // The body is not logged: it may hold a pasted callback URL.
            tracing::warn!(
                line = e.line(),
                column = e.column(),
                "could not parse a webhook update"
            );
            StatusCode::OK
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// 32 hex characters from the OS's random source (Telegram allows `A-Za-z0-9_-`).
fn new_secret() -> Result<String, TelegramError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| {
        TelegramError::Startup(format!("no randomness for the webhook secret: {e}"))
    })?;
    Ok(hex::encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_compare() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"", b"abc"));
    }

    #[test]
    fn secrets_are_valid_for_telegram() {
        let s = new_secret().unwrap();
        assert_eq!(s.len(), 32);
        assert!(s.bytes().all(|b| b.is_ascii_alphanumeric()));
    }
}
