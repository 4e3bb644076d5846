//! Start-up against the Bot API, which may be down, slow, or older than we are:
//! - [`check_token`]: `getMe` until the server answers. A 401 (a wrong token) is the only
//!   answer that stops the bot, with that cause named; a 5xx, a reply we cannot read or a
//!   refused connection is logged (without the token) and retried with capped exponential
//!   backoff, and a 429 waits its `retry_after`.
//! - [`publish_menus`]: `setMyCommands` in the background, everyone's menu and then each
//!   admin's chat-scoped one. Whatever goes wrong (a 5xx, a
//!   server that does not know the method, a network error) is a warning and a later retry;
//!   updates are taken meanwhile, because a missing menu costs the user nothing they cannot
//!   type.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use redact::Secret;
use teloxide::payloads::SetMyCommandsSetters;
use teloxide::prelude::Requester;
use teloxide::requests::Request;
use teloxide::types::{BotCommand, BotCommandScope};
use teloxide::{ApiError, Bot, RequestError};

use super::{TelegramError, retry};

/// The first pause after a failed `getMe`; doubled after each further failure.
pub const FIRST_BACKOFF: Duration = Duration::from_millis(500);

/// The longest pause between two `getMe` tries.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The first pause after a failed `setMyCommands`; doubled after each further failure.
pub const MENU_FIRST_BACKOFF: Duration = Duration::from_secs(1);

/// The longest pause between two `setMyCommands` tries.
pub const MENU_MAX_BACKOFF: Duration = Duration::from_secs(300);

/// What a failed `getMe` means for start-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The server refused the token: stop.
    TokenRefused,
    /// Asked to wait this long (429).
    WaitFor(Duration),
    /// Anything else (5xx, unreadable reply, network): back off and try again.
    Retry,
}

/// Classify a failed `getMe`. Pure, so it is unit-tested. teloxide maps Telegram's
/// `401 Unauthorized` (and the `404 Not Found` a malformed token gets) to
/// [`ApiError::InvalidToken`].
pub fn verdict(err: &RequestError) -> Verdict {
    match err {
        RequestError::Api(ApiError::InvalidToken) => Verdict::TokenRefused,
        RequestError::RetryAfter(s) => Verdict::WaitFor(s.duration().max(FIRST_BACKOFF)),
        _ => Verdict::Retry,
    }
}

/// The pause after `pause`: doubled, at most `cap`.
pub fn next_backoff(pause: Duration, cap: Duration) -> Duration {
    pause.saturating_mul(2).min(cap)
}

/// Call `getMe` until the server accepts the token. `Ok(true)`: accepted; `Ok(false)`:
/// `shutdown` resolved first (a clean stop); `Err`: the token was refused.
pub async fn check_token(
    bot: &Bot,
    token: &Secret<String>,
    shutdown: &mut (impl Future<Output = ()> + Unpin),
) -> Result<bool, TelegramError> {
    let mut backoff = FIRST_BACKOFF;
    let mut attempt: u32 = 1;
    loop {
        let result = tokio::select! {
            () = &mut *shutdown => return Ok(false),
            r = bot.get_me().send() => r,
        };
        let err = match result {
            Ok(me) => {
                tracing::info!(
                    bot = me.user.username.as_deref().unwrap_or_default(),
                    attempts = attempt,
                    "the Bot API accepted the token"
                );
                return Ok(true);
            }
            Err(e) => e,
        };
        let pause = match verdict(&err) {
            Verdict::TokenRefused => return Err(TelegramError::TokenRefused),
            Verdict::WaitFor(wait) => wait,
            Verdict::Retry => {
                let pause = backoff;
                backoff = next_backoff(backoff, MAX_BACKOFF);
                pause
            }
        };
        let error = retry::scrub_error(&err, token);
        tracing::warn!(
            attempt,
            retry_in_ms = u64::try_from(pause.as_millis()).unwrap_or(u64::MAX),
            %error,
            "the Bot API did not answer getMe; retrying"
        );
        tokio::select! {
            () = &mut *shutdown => return Ok(false),
            () = tokio::time::sleep(pause) => {}
        }
        attempt = attempt.saturating_add(1);
    }
}

/// How often an admin's chat menu is tried before the bot gives up on it (Telegram refuses a
/// chat scope, "chat not found", until that admin has started a chat with the bot).
pub const MENU_CHAT_TRIES: u32 = 4;

/// Publish each (scope, commands) with `setMyCommands` in the background, in order: the
/// default scope until it is accepted, then each admin's chat scope (at most
/// [`MENU_CHAT_TRIES`] tries each), with capped exponential backoff between tries. A failure
/// is only ever a warning. Abort the handle at shutdown.
pub fn publish_menus(
    bot: Bot,
    token: Arc<Secret<String>>,
    menus: Vec<(BotCommandScope, Vec<BotCommand>)>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        for (scope, commands) in menus {
            let chat = !matches!(scope, BotCommandScope::Default);
            let mut backoff = MENU_FIRST_BACKOFF;
            let mut tries: u32 = 0;
            loop {
                tries = tries.saturating_add(1);
                let outcome = retry::call(
                    "setMyCommands",
                    &token,
                    || (),
                    || {
                        let mut req = bot.set_my_commands(commands.clone());
                        if chat {
                            req = req.scope(scope.clone());
                        }
                        async move { req.send().await.map(|_| ()) }
                    },
                )
                .await;
                match outcome {
                    Ok(()) => {
                        tracing::info!(commands = commands.len(), chat, "command menu published");
                        break;
                    }
                    Err(error) if chat && tries >= MENU_CHAT_TRIES => {
                        tracing::warn!(
                            %error,
                            "an admin's command menu was not published; that admin sees everyone's menu"
                        );
                        break;
                    }
                    Err(error) => {
                        tracing::warn!(
                            %error,
                            retry_in_s = backoff.as_secs(),
                            "the command menu was not published; the bot runs without it and retries"
                        );
                        tokio::time::sleep(backoff).await;
                        backoff = next_backoff(backoff, MENU_MAX_BACKOFF);
                    }
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use teloxide::types::Seconds;

    #[test]
    fn only_a_refused_token_stops_start_up() {
        assert_eq!(
            verdict(&RequestError::Api(ApiError::InvalidToken)),
            Verdict::TokenRefused
        );
        assert_eq!(
            verdict(&RequestError::Api(ApiError::Unknown(
                "Internal Server Error".into()
            ))),
            Verdict::Retry
        );
        assert_eq!(
            verdict(&RequestError::Api(ApiError::Unknown(
                "Not Found: method not found".into()
            ))),
            Verdict::Retry
        );
        assert_eq!(
            verdict(&RequestError::RetryAfter(Seconds::from_seconds(3))),
            Verdict::WaitFor(Duration::from_secs(3))
        );
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let mut pause = FIRST_BACKOFF;
        let mut seen = Vec::new();
        for _ in 0..10 {
            seen.push(pause);
            pause = next_backoff(pause, MAX_BACKOFF);
        }
        assert_eq!(seen[1], Duration::from_secs(1));
        assert_eq!(seen[2], Duration::from_secs(2));
        assert_eq!(*seen.last().unwrap(), MAX_BACKOFF);
        assert!(seen.windows(2).all(|w| w[0] <= w[1]));
    }
}
