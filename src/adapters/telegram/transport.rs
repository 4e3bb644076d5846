//! [`Transport`] over a teloxide [`Bot`]: the only place that sends Bot API requests on the
//! conversation core's behalf. Every call goes through [`retry::call`] (429 honoured, "not
//! modified" is success, token scrubbed from errors), and at most [`MAX_IN_FLIGHT`] of them
//! are on the wire at once: a burst of 1,000 replies then reuses a few dozen kept-alive
//! connections instead of opening (and tearing down) one per reply, which on two cores made
//! the last progress messages of a burst 4x later than a bare bot's (`benches/chat`), and
//! holds a few dozen connections' buffers instead of a thousand.

use std::future::Future;
use std::sync::Arc;

use redact::Secret;
use teloxide::payloads::{
    AnswerCallbackQuerySetters, EditMessageTextSetters, SendMessageSetters, SendPhotoSetters,
};
use teloxide::prelude::Requester;
use teloxide::requests::Request;
use teloxide::types::{
    CallbackQueryId, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, MessageId,
};
use teloxide::{Bot, RequestError};
use tokio::sync::Semaphore;

use super::retry;
use crate::chat::delivery::truncate;
use crate::chat::transport::{
    BoxFuture, ChatId, Keyboard, MessageRef, Transport, TransportError, first_answer,
};

/// Telegram's limit on one message's text, in characters.
pub const MAX_MESSAGE_LEN: usize = 4096;
/// Telegram's limit on a photo's caption, in characters.
pub const MAX_CAPTION_LEN: usize = 1024;

/// At most this many Bot API requests of the transport on the wire at once (each try
/// counts; a 429's wait between tries holds no place). The HTTP client keeps as many
/// connections idle ([`super::IDLE_CONNECTIONS`]), so a burst reuses them.
pub const MAX_IN_FLIGHT: usize = super::IDLE_CONNECTIONS;

/// Places on the wire only a request's first answer may take ([`first_answer`]): follow-ups
/// (results, their continuation parts) use at most the rest, so a chat's progress message
/// never waits behind the thousands of result parts of a burst before it.
pub const FIRST_ANSWER_PLACES: usize = MAX_IN_FLIGHT / 4;

/// The places on the wire: every call takes one of `all`; a follow-up first takes one of
/// `follow_ups`, so at most `MAX_IN_FLIGHT - FIRST_ANSWER_PLACES` of them hold or wait for a
/// place, and a first answer finds one free or waits behind no more than that.
struct Wire {
    all: Semaphore,
    follow_ups: Semaphore,
}

/// The Telegram side of the chat seam.
#[derive(Clone)]
pub struct TelegramTransport {
    bot: Bot,
    token: Arc<Secret<String>>,
    inline_buttons: bool,
    /// Places on the wire ([`MAX_IN_FLIGHT`], [`FIRST_ANSWER_PLACES`]).
    wire: Arc<Wire>,
}

impl std::fmt::Debug for TelegramTransport {
    // `Bot`'s own Debug is not ours to trust with the token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelegramTransport")
            .field("inline_buttons", &self.inline_buttons)
            .finish_non_exhaustive()
    }
}

impl TelegramTransport {
    /// A transport sending through `bot` (whose token is `token`, kept to scrub errors).
    pub fn new(bot: Bot, token: Arc<Secret<String>>, inline_buttons: bool) -> TelegramTransport {
        TelegramTransport {
            bot,
            token,
            inline_buttons,
            wire: Arc::new(Wire {
                all: Semaphore::new(MAX_IN_FLIGHT),
                follow_ups: Semaphore::new(MAX_IN_FLIGHT - FIRST_ANSWER_PLACES),
            }),
        }
    }

    /// `request` sent once a place on the wire is free ([`MAX_IN_FLIGHT`]); `first` is
    /// whether it is its request's first answer ([`FIRST_ANSWER_PLACES`]).
    fn on_wire<T>(
        &self,
        first: bool,
        request: impl Future<Output = Result<T, RequestError>>,
    ) -> impl Future<Output = Result<T, RequestError>> {
        let wire = Arc::clone(&self.wire);
        async move {
            // The semaphores are never closed; were they, the request goes without a place.
            let _follow_up = if first {
                None
            } else {
                wire.follow_ups.acquire().await.ok()
            };
            let _place = wire.all.acquire().await.ok();
            request.await
        }
    }

    /// The inline keyboard to attach, if buttons are on and there are any.
    fn markup(&self, keyboard: Option<&Keyboard>) -> Option<InlineKeyboardMarkup> {
        if !self.inline_buttons {
            return None;
        }
        keyboard.filter(|k| !k.is_empty()).map(to_markup)
    }
}

/// The core's keyboard as Telegram's inline keyboard.
pub fn to_markup(keyboard: &Keyboard) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new(keyboard.iter().map(|row| {
        row.iter()
            .map(|b| InlineKeyboardButton::callback(b.label.clone(), b.data.clone()))
            .collect::<Vec<_>>()
    }))
}

fn tg_chat(chat: ChatId) -> teloxide::types::ChatId {
    teloxide::types::ChatId(chat.0)
}

/// The message a send created (a new message cannot be "not modified", so `None` only comes
/// from a server that answered nothing).
fn created(
    chat: ChatId,
    method: &str,
    sent: Option<teloxide::types::Message>,
) -> Result<MessageRef, TransportError> {
    let message = sent.ok_or_else(|| TransportError(format!("{method} returned nothing")))?;
    Ok(MessageRef {
        chat,
        message_id: i64::from(message.id.0),
    })
}

/// Telegram message ids are i32 on the wire; one that does not fit cannot be ours.
fn tg_message(id: i64) -> Result<MessageId, TransportError> {
    i32::try_from(id)
        .map(MessageId)
        .map_err(|_| TransportError(format!("message id {id} is not a Telegram message id")))
}

impl Transport for TelegramTransport {
    fn inline_buttons(&self) -> bool {
        self.inline_buttons
    }

    fn max_message_len(&self) -> usize {
        MAX_MESSAGE_LEN
    }

    fn send<'a>(
        &'a self,
        chat: ChatId,
        text: &'a str,
        keyboard: Option<&'a Keyboard>,
    ) -> BoxFuture<'a, Result<MessageRef, TransportError>> {
        let markup = self.markup(keyboard);
        // Taken now, in the request's task: is this its first answer?
        let first = first_answer();
        Box::pin(async move {
            // A new message cannot be "not modified"; the fallback value is never used.
            let sent = retry::call(
                "sendMessage",
                &self.token,
                || None,
                || {
                    let mut req = self.bot.send_message(tg_chat(chat), text);
                    if let Some(m) = &markup {
                        req = req.reply_markup(m.clone());
                    }
                    self.on_wire(first, async move { req.send().await.map(Some) })
                },
            )
            .await?;
            created(chat, "sendMessage", sent)
        })
    }

    fn edit<'a>(
        &'a self,
        message: MessageRef,
        text: &'a str,
        keyboard: Option<&'a Keyboard>,
    ) -> BoxFuture<'a, Result<(), TransportError>> {
        let markup = self.markup(keyboard);
        // Taken now, in the request's task: is this its first answer?
        let first = first_answer();
        Box::pin(async move {
            let id = tg_message(message.message_id)?;
            retry::call(
                "editMessageText",
                &self.token,
                || (),
                || {
                    // Leaving `reply_markup` out removes the buttons, as the seam asks for `None`.
                    let mut req = self.bot.edit_message_text(tg_chat(message.chat), id, text);
                    if let Some(m) = &markup {
                        req = req.reply_markup(m.clone());
                    }
                    self.on_wire(first, async move { req.send().await.map(|_| ()) })
                },
            )
            .await
        })
    }

    fn delete(&self, message: MessageRef) -> BoxFuture<'_, Result<(), TransportError>> {
        Box::pin(async move {
            let id = tg_message(message.message_id)?;
            retry::call(
                "deleteMessage",
                &self.token,
                || (),
                || {
                    let req = self.bot.delete_message(tg_chat(message.chat), id);
                    self.on_wire(true, async move { req.send().await.map(|_| ()) })
                },
            )
            .await
        })
    }

    fn answer_callback<'a>(
        &'a self,
        callback_id: &'a str,
        notice: Option<&'a str>,
    ) -> BoxFuture<'a, Result<(), TransportError>> {
        Box::pin(async move {
            retry::call(
                "answerCallbackQuery",
                &self.token,
                || (),
                || {
                    let mut req = self
                        .bot
                        .answer_callback_query(CallbackQueryId(callback_id.to_owned()));
                    if let Some(n) = notice {
                        req = req.text(n);
                    }
                    self.on_wire(true, async move { req.send().await.map(|_| ()) })
                },
            )
            .await
        })
    }

    fn photos(&self) -> bool {
        true
    }

    fn send_photo<'a>(
        &'a self,
        chat: ChatId,
        png: &'a [u8],
        caption: &'a str,
        keyboard: Option<&'a Keyboard>,
    ) -> BoxFuture<'a, Result<MessageRef, TransportError>> {
        let markup = self.markup(keyboard);
        // A multipart upload from memory; the bytes are shared by every retry, not copied.
        let file = InputFile::memory(png.to_vec()).file_name("codex-usage-history.png");
        let caption = truncate(caption, MAX_CAPTION_LEN);
        // Taken now, in the request's task: is this its first answer?
        let first = first_answer();
        Box::pin(async move {
            let sent = retry::call(
                "sendPhoto",
                &self.token,
                || None,
                || {
                    let mut req = self
                        .bot
                        .send_photo(tg_chat(chat), file.clone())
                        .caption(caption.clone());
                    if let Some(m) = &markup {
                        req = req.reply_markup(m.clone());
                    }
                    self.on_wire(first, async move { req.send().await.map(Some) })
                },
            )
            .await?;
            created(chat, "sendPhoto", sent)
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    fn transport() -> TelegramTransport {
        // Nothing is sent: the requests below are plain futures.
        let token = "1:x".to_owned();
        TelegramTransport::new(Bot::new(token.clone()), Arc::new(Secret::new(token)), true)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_first_answer_goes_ahead_of_a_burst_of_follow_ups_and_the_wire_stays_bounded() {
        let t = Arc::new(transport());
        let release = Arc::new(tokio::sync::Notify::new());
        let (on, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let mut held = tokio::task::JoinSet::new();
        // A burst of 1,000 results, each holding its place until released.
        for _ in 0..1_000 {
            let (t, release, on, most) = (t.clone(), release.clone(), on.clone(), most.clone());
            held.spawn(async move {
                t.on_wire(false, async move {
                    let now = on.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    release.notified().await;
                    on.fetch_sub(1, Ordering::SeqCst);
                    Ok::<_, RequestError>(())
                })
                .await
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let follow_ups = MAX_IN_FLIGHT - FIRST_ANSWER_PLACES;
        assert_eq!(
            on.load(Ordering::SeqCst),
            follow_ups,
            "follow-ups use only their share"
        );
        // A chat's progress message is sent at once, not after the 1,000.
        let progress = tokio::time::timeout(
            Duration::from_secs(2),
            t.on_wire(true, async { Ok::<_, RequestError>("sent") }),
        )
        .await;
        assert_eq!(progress.ok().and_then(Result::ok), Some("sent"));
        // A follow-up waits for a place.
        let late = tokio::time::timeout(
            Duration::from_millis(200),
            t.on_wire(false, async { Ok::<_, RequestError>(()) }),
        )
        .await;
        assert!(late.is_err(), "a follow-up beyond the share waits");
        while !held.is_empty() {
            release.notify_waiters();
            let _ = tokio::time::timeout(Duration::from_millis(5), held.join_next()).await;
        }
        assert!(most.load(Ordering::SeqCst) <= MAX_IN_FLIGHT);
    }
}
