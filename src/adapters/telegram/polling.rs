//! Long polling: a plain `getUpdates` loop rather than teloxide's `Dispatcher`, because
//! routing to per-user workers ([`super::dispatch`]) already gives ordering and concurrency,
//! and owning the loop makes shutdown exact: stop asking, let workers finish, then confirm
//! the last offset so handled updates are not delivered again after a restart.

use std::future::Future;
use std::time::Duration;

use redact::Secret;
use teloxide::Bot;
use teloxide::RequestError;
use teloxide::payloads::GetUpdatesSetters;
use teloxide::prelude::Requester;
use teloxide::requests::Request;
use teloxide::types::AllowedUpdate;

use super::dispatch::Dispatch;
use super::retry;

/// Longest pause between failed polls.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Poll until `shutdown` resolves. Returns the next offset to confirm, if any update came.
pub async fn run(
    bot: &Bot,
    token: &Secret<String>,
    wait: Duration,
    dispatch: &Dispatch,
    shutdown: impl Future<Output = ()>,
) -> Option<i32> {
    tokio::pin!(shutdown);
    // A webhook left over from an earlier run makes getUpdates fail with "Conflict".
    super::delete_webhook(bot, token).await;

    let mut offset: Option<i32> = None;
    let mut backoff = Duration::from_millis(500);
    loop {
        let mut req = bot
            .get_updates()
            .timeout(u32::try_from(wait.as_secs()).unwrap_or(10))
            .allowed_updates([AllowedUpdate::Message, AllowedUpdate::CallbackQuery]);
        if let Some(o) = offset {
            req = req.offset(o);
        }
        let pause = tokio::select! {
            () = &mut shutdown => break,
            result = req.send() => match result {
                Ok(updates) => {
                    backoff = Duration::from_millis(500);
                    for update in &updates {
                        offset = Some(i32::try_from(update.id.0).unwrap_or(i32::MAX).saturating_add(1));
                        super::deliver(dispatch, update);
                    }
                    None
                }
                Err(RequestError::RetryAfter(s)) => Some(s.duration()),
                Err(e) => {
                    let error = retry::scrub_error(&e, token);
                    tracing::warn!(%error, "getUpdates failed; retrying");
                    let pause = backoff;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    Some(pause)
                }
            },
        };
        if let Some(pause) = pause {
            tokio::select! {
                () = &mut shutdown => break,
                () = tokio::time::sleep(pause) => {}
            }
        }
    }
    offset
}

/// Tell the server everything before `offset` is handled (a zero-wait `getUpdates`), bounded
/// so a dead server cannot hold up the exit.
pub async fn confirm(bot: &Bot, token: &Secret<String>, offset: i32) {
    let req = bot.get_updates().offset(offset).timeout(0).limit(1);
    match tokio::time::timeout(Duration::from_secs(3), req.send()).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => {
            let error = retry::scrub_error(&e, token);
            tracing::warn!(%error, "could not confirm the last update offset");
        }
        Err(_) => tracing::warn!("confirming the last update offset timed out"),
    }
}
