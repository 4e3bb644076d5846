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
use crate::chat::transport::{BoxFuture, ChatId, Keyboard, MessageRef, Transport, TransportError};

/// Telegram's limit on one message's text, in characters.
pub const MAX_MESSAGE_LEN: usize = 4096;
/// Telegram's limit on a photo's caption, in characters.
pub const MAX_CAPTION_LEN: usize = 1024;

/// At most this many Bot API requests of the transport on the wire at once (each try
/// counts; a 429's wait between tries holds no place). The HTTP client keeps as many
/// connections idle ([`super::IDLE_CONNECTIONS`]), so a burst reuses them.
pub const MAX_IN_FLIGHT: usize = super::IDLE_CONNECTIONS;

/// The Telegram side of the chat seam.
#[derive(Clone)]
pub struct TelegramTransport {
    bot: Bot,
    token: Arc<Secret<String>>,
    inline_buttons: bool,
    /// Places on the wire ([`MAX_IN_FLIGHT`]).
    wire: Arc<Semaphore>,
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
            wire: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
        }
    }

    /// `request` sent once a place on the wire is free ([`MAX_IN_FLIGHT`]).
    fn on_wire<T>(
        &self,
        request: impl Future<Output = Result<T, RequestError>>,
    ) -> impl Future<Output = Result<T, RequestError>> {
        let wire = Arc::clone(&self.wire);
        async move {
            // The semaphore is never closed; were it, the request goes without a place.
            let _place = wire.acquire_owned().await.ok();
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
                    self.on_wire(async move { req.send().await.map(Some) })
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
                    self.on_wire(async move { req.send().await.map(|_| ()) })
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
                    self.on_wire(async move { req.send().await.map(|_| ()) })
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
                    self.on_wire(async move { req.send().await.map(|_| ()) })
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
                    self.on_wire(async move { req.send().await.map(Some) })
                },
            )
            .await?;
            created(chat, "sendPhoto", sent)
        })
    }
}
