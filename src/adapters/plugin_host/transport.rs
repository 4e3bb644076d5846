//! [`Transport`] over the protocol: every send, edit, delete and answer of one event becomes a
//! line on stdout carrying that event's id, so the plugin can put it on the right reply,
//! placeholder or tapped message. One [`EventTransport`] per event also carries what the
//! gateway vouched for (owner, allowlisted), which the core takes as the sender's role.

use std::io::Write;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::chat::permissions::Role;
use crate::chat::transport::{
    BoxFuture, ChatId, Keyboard, MessageRef, Transport, TransportError, UserId,
};

use super::protocol::{LineError, MAX_LINE_BYTES, Outbound, Sender};

/// The most text one message carries (Telegram's 4096; other channels split longer ones).
pub const MAX_MESSAGE_LEN: usize = 4096;

/// stdout, shared by every event: one whole line per write, flushed, so lines never interleave.
pub struct Output {
    out: Mutex<Box<dyn Write + Send>>,
    // Our own messages get negative ids, so they never collide with a channel's message ids.
    next_ref: AtomicI64,
}

impl Output {
    /// Write lines to `out`.
    pub fn new(out: Box<dyn Write + Send>) -> Output {
        Output {
            out: Mutex::new(out),
            next_ref: AtomicI64::new(-1),
        }
    }

    /// Write one line. Fails when the plugin is gone (stdout closed), and when the line would
    /// be longer than [`MAX_LINE_BYTES`] (the protocol's bound both ways): then an `oversize`
    /// error for its event goes out instead, so the plugin fails that request.
    pub fn line(&self, line: &Outbound<'_>) -> Result<(), TransportError> {
        let mut text = line.to_line();
        let oversize = text.len() > MAX_LINE_BYTES;
        if oversize {
            let error = &LineError::Oversize;
            text = Outbound::Error {
                event: line.event(),
                error,
            }
            .to_line();
        }
        text.push('\n');
        let mut out = self.out.lock().unwrap_or_else(PoisonError::into_inner);
        out.write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .map_err(|e| TransportError(format!("writing to the plugin failed: {e}")))?;
        if oversize {
            return Err(TransportError(format!(
                "a line for the plugin would be over {MAX_LINE_BYTES} bytes; sent an error instead"
            )));
        }
        Ok(())
    }

    fn new_ref(&self) -> i64 {
        self.next_ref.fetch_sub(1, Ordering::SeqCst)
    }
}

/// The transport of one event: its id, and what the gateway said of its sender.
pub struct EventTransport {
    out: Arc<Output>,
    event: String,
    from: Sender,
}

impl EventTransport {
    /// The transport for event `event` from `from`.
    pub fn new(out: Arc<Output>, event: String, from: Sender) -> EventTransport {
        EventTransport { out, event, from }
    }

    /// The sender's role: the gateway's owner is an admin, an allowlisted sender a user.
    pub fn role(from: &Sender) -> Role {
        match (from.is_owner, from.authorized) {
            (true, _) => Role::Admin,
            (false, true) => Role::User,
            (false, false) => Role::Stranger,
        }
    }
}

impl Transport for EventTransport {
    fn inline_buttons(&self) -> bool {
        self.from.buttons
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
        Box::pin(async move {
            let reference = self.out.new_ref();
            self.out.line(&Outbound::Send {
                event: &self.event,
                reference,
                text,
                buttons: keyboard,
            })?;
            Ok(MessageRef {
                chat,
                message_id: reference,
            })
        })
    }

    fn edit<'a>(
        &'a self,
        message: MessageRef,
        text: &'a str,
        keyboard: Option<&'a Keyboard>,
    ) -> BoxFuture<'a, Result<(), TransportError>> {
        Box::pin(async move {
            self.out.line(&Outbound::Edit {
                event: &self.event,
                reference: message.message_id,
                text,
                buttons: keyboard,
            })
        })
    }

    fn delete(&self, message: MessageRef) -> BoxFuture<'_, Result<(), TransportError>> {
        Box::pin(async move {
            self.out.line(&Outbound::Delete {
                event: &self.event,
                reference: message.message_id,
            })
        })
    }

    fn answer_callback<'a>(
        &'a self,
        _callback_id: &'a str,
        notice: Option<&'a str>,
    ) -> BoxFuture<'a, Result<(), TransportError>> {
        Box::pin(async move {
            self.out.line(&Outbound::Answer {
                event: &self.event,
                notice,
            })
        })
    }

    fn paste_back(&self) -> bool {
        // OpenClaw stores a plugin command's text, and a command handler cannot delete it.
        false
    }

    fn bare_replies(&self) -> bool {
        // Only the plugin's commands reach the host; anything else goes to the agent.
        false
    }

    fn vouched_role(&self, user: UserId) -> Option<Role> {
        // This transport serves one sender; anyone else it is asked about is nobody to us.
        Some(if user == self.from.user {
            EventTransport::role(&self.from)
        } else {
            Role::Stranger
        })
    }
}
