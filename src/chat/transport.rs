//! The seam between the conversation core and a chat transport. An adapter turns its wire
//! events into [`Incoming`] and carries out the core's requests through [`Transport`]; the core
//! never sees a wire type, and an adapter never decides what to say.

use std::future::Future;
use std::pin::Pin;

use crate::chat::permissions::Role;

/// A chat (Telegram chat id, or the terminal's one chat).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChatId(pub i64);

/// A user (Telegram user id; the terminal's operator).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(pub u64);

/// A bot's command menus (`setMyCommands`): one for everyone (the default scope), and one for
/// each admin's private chat (a chat scope), so users never see what only admins may do.
/// Each entry is (command without slash, description).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Menus {
    /// The default scope.
    pub everyone: Vec<(String, String)>,
    /// Per admin (their private chat's id is their user id).
    pub admins: Vec<(UserId, Vec<(String, String)>)>,
}

impl From<Vec<(String, String)>> for Menus {
    /// One menu for everyone.
    fn from(everyone: Vec<(String, String)>) -> Menus {
        Menus {
            everyone,
            admins: Vec::new(),
        }
    }
}

/// Whether a chat is private (one user and the bot) or shared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatKind {
    /// One user and the bot.
    Private,
    /// A group, supergroup or channel.
    Group,
}

/// A message the bot can edit or delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MessageRef {
    /// Where it is.
    pub chat: ChatId,
    /// Its id within the chat.
    pub message_id: i64,
}

/// Who sent an event, and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    /// The chat.
    pub chat: ChatId,
    /// Private or group.
    pub kind: ChatKind,
    /// The user.
    pub user: UserId,
}

/// One event from a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// A text message (a command or a bare reply).
    Text {
        /// Who and where.
        origin: Origin,
        /// The message itself (so a pasted callback URL can be deleted).
        message: MessageRef,
        /// Its text.
        text: String,
    },
    /// A tap on an inline button.
    Button {
        /// Who and where.
        origin: Origin,
        /// The message the button is on.
        message: MessageRef,
        /// The transport's id for answering this tap (answered exactly once).
        callback_id: String,
        /// The button's callback data, unchecked.
        data: String,
    },
}

impl Incoming {
    /// Who sent it, and where.
    pub fn origin(&self) -> Origin {
        match self {
            Incoming::Text { origin, .. } | Incoming::Button { origin, .. } => *origin,
        }
    }
}

/// One inline button: a label and its callback data (`codex_auth_<action>:<arg>`, <= 64 bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Button {
    /// What the user sees.
    pub label: String,
    /// What comes back when tapped.
    pub data: String,
}

/// Rows of inline buttons.
pub type Keyboard = Vec<Vec<Button>>;

/// A transport failure, already stripped of anything secret (the bot token in a URL).
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct TransportError(pub String);

impl TransportError {
    /// What [`Transport::send_photo`] says where an adapter has no photos.
    pub const PHOTOS_UNSUPPORTED: &'static str = "this chat transport cannot send photos";

    /// The "photos not supported" error (the core then sends text instead).
    pub fn photos_unsupported() -> TransportError {
        TransportError(TransportError::PHOTOS_UNSUPPORTED.to_owned())
    }

    /// Whether this is the "photos not supported" error.
    pub fn is_photos_unsupported(&self) -> bool {
        self.0 == TransportError::PHOTOS_UNSUPPORTED
    }
}

tokio::task_local! {
    /// Whether the running request has made its first answer ([`first_answer`]).
    static ANSWERED: std::cell::Cell<bool>;
}

/// Run `request` as one request for [`first_answer`]: the first message it sends or edits is
/// its first answer (its progress message, or the answer itself), everything after is a
/// follow-up (the result, its continuation parts).
pub async fn answering<F: Future>(request: F) -> F::Output {
    ANSWERED.scope(std::cell::Cell::new(false), request).await
}

/// For a transport that queues its calls: whether the call being made is the running
/// request's first answer (then every later call is a follow-up), so first answers can go
/// ahead of other requests' follow-ups. Outside [`answering`] (a watcher's message), every
/// call counts as a first answer.
pub fn first_answer() -> bool {
    ANSWERED.try_with(|a| !a.replace(true)).unwrap_or(true)
}

/// A boxed future, so [`Transport`] can be used as a trait object.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What the conversation core asks of a transport. Implementations handle their own rate
/// limits (Telegram's 429 `retry_after`) and treat "message is not modified" as success.
pub trait Transport: Send + Sync {
    /// Whether inline buttons exist; when false the core uses the text fallback.
    fn inline_buttons(&self) -> bool;
    /// The longest text one message may hold (4096 on Telegram).
    fn max_message_len(&self) -> usize;
    /// Send a new message.
    fn send<'a>(
        &'a self,
        chat: ChatId,
        text: &'a str,
        keyboard: Option<&'a Keyboard>,
    ) -> BoxFuture<'a, Result<MessageRef, TransportError>>;
    /// Replace a message's text and buttons (`None` removes the buttons).
    fn edit<'a>(
        &'a self,
        message: MessageRef,
        text: &'a str,
        keyboard: Option<&'a Keyboard>,
    ) -> BoxFuture<'a, Result<(), TransportError>>;
    /// Delete a message (a pasted callback URL).
    fn delete(&self, message: MessageRef) -> BoxFuture<'_, Result<(), TransportError>>;
    /// Answer a button tap, with an optional short notice.
    fn answer_callback<'a>(
        &'a self,
        callback_id: &'a str,
        notice: Option<&'a str>,
    ) -> BoxFuture<'a, Result<(), TransportError>>;
    /// Whether [`Transport::send_photo`] works here; when false the core sends text instead.
    fn photos(&self) -> bool {
        false
    }
    /// Send a PNG image with a caption (plain text, cut to the transport's own limit) and
    /// optional buttons. Without photos: [`TransportError::photos_unsupported`].
    fn send_photo<'a>(
        &'a self,
        chat: ChatId,
        png: &'a [u8],
        caption: &'a str,
        keyboard: Option<&'a Keyboard>,
    ) -> BoxFuture<'a, Result<MessageRef, TransportError>> {
        let _ = (chat, png, caption, keyboard);
        Box::pin(async { Err(TransportError::photos_unsupported()) })
    }
    /// The sender's role when the transport itself vouches for it (the OpenClaw plugin host:
    /// the gateway's owner and allowlist decided it); `None` lets the core's own lists
    /// (`CODEX_PROFILER_ADMINS`/`USERS`) decide.
    fn vouched_role(&self, _user: UserId) -> Option<Role> {
        None
    }
    /// Whether a login may end with a pasted callback URL here. False where the chat keeps
    /// the text of every command and the message cannot be deleted (the OpenClaw plugin):
    /// every way into a login then starts the device login instead.
    fn paste_back(&self) -> bool {
        true
    }
    /// Whether a bare reply (a message that is no command) reaches the core. False where
    /// only commands do (the OpenClaw plugin: other messages go to the gateway's agent): the
    /// text fallback then asks for the command with the choice (`/codex_usage all`), and
    /// such a command picks from the offer.
    fn bare_replies(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_a_requests_first_call_is_its_first_answer() {
        assert!(
            first_answer(),
            "outside a request every call is a first answer"
        );
        assert!(first_answer());
        let inside = answering(async { [first_answer(), first_answer(), first_answer()] }).await;
        assert_eq!(inside, [true, false, false]);
        // Each request starts afresh.
        assert!(answering(async { first_answer() }).await);
    }
}
