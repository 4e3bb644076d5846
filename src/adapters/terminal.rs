//! The terminal adapter (`codex-profiler chat`): the same conversation on stdin/stdout. The
//! operator is one admin in a private chat (they are at the gateway host's shell); there are no
//! buttons, so menus use the text fallback. An "edit" is printed as a new block marked
//! `(edited)`, so the terminal reads top to bottom. EOF on stdin ends the session cleanly.

use std::io::Write;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufRead, AsyncBufReadExt};

use crate::chat::Conversation;
use crate::chat::command::MAX_TEXT_CHARS;
use crate::chat::transport::{
    BoxFuture, ChatId, ChatKind, Incoming, Keyboard, MessageRef, Origin, Transport, TransportError,
    UserId,
};

/// The terminal's one chat.
pub const CHAT: ChatId = ChatId(0);
/// The operator at the terminal.
pub const OPERATOR: UserId = UserId(0);

/// Prints the conversation's messages to a writer.
pub struct TerminalTransport {
    out: Mutex<Box<dyn Write + Send>>,
    next_id: Arc<AtomicI64>,
}

impl TerminalTransport {
    /// Print to `out`; message ids come from `ids` (shared with the input side).
    pub fn new(out: Box<dyn Write + Send>, ids: Arc<AtomicI64>) -> TerminalTransport {
        TerminalTransport {
            out: Mutex::new(out),
            next_id: ids,
        }
    }

    fn print(
        &self,
        header: &str,
        text: &str,
        keyboard: Option<&Keyboard>,
    ) -> Result<(), TransportError> {
        let mut block = String::new();
        let mut lines = text.lines();
        block.push_str(&format!("{header} {}\n", lines.next().unwrap_or("")));
        for line in lines {
            block.push_str(&format!("    {line}\n"));
        }
        // Buttons only appear if an adapter misconfigures the core; show them anyway.
        for row in keyboard.into_iter().flatten() {
            let labels: Vec<&str> = row.iter().map(|b| b.label.as_str()).collect();
            block.push_str(&format!("    [{}]\n", labels.join("] [")));
        }
        let mut out = self
            .out
            .lock()
            .map_err(|_| TransportError("the terminal output is unavailable".to_owned()))?;
        // Labels and upstream words in the reply can hold terminal controls: never raw.
        out.write_all(crate::escape::for_terminal(&block).as_bytes())
            .and_then(|()| out.flush())
            .map_err(|e| TransportError(format!("writing to the terminal failed: {e}")))
    }
}

impl Transport for TerminalTransport {
    fn inline_buttons(&self) -> bool {
        false
    }

    fn max_message_len(&self) -> usize {
        MAX_TEXT_CHARS
    }

    fn send<'a>(
        &'a self,
        chat: ChatId,
        text: &'a str,
        keyboard: Option<&'a Keyboard>,
    ) -> BoxFuture<'a, Result<MessageRef, TransportError>> {
        Box::pin(async move {
            let message_id = self.next_id.fetch_add(1, Ordering::SeqCst);
            self.print(&format!("bot #{message_id}>"), text, keyboard)?;
            Ok(MessageRef { chat, message_id })
        })
    }

    fn edit<'a>(
        &'a self,
        message: MessageRef,
        text: &'a str,
        keyboard: Option<&'a Keyboard>,
    ) -> BoxFuture<'a, Result<(), TransportError>> {
        Box::pin(async move {
            self.print(
                &format!("bot #{} (edited)>", message.message_id),
                text,
                keyboard,
            )
        })
    }

    fn delete(&self, message: MessageRef) -> BoxFuture<'_, Result<(), TransportError>> {
        Box::pin(async move {
            // The operator's own line cannot be unprinted; say that it was not kept.
            self.print(
                &format!("bot #{} (deleted)>", message.message_id),
                "your message held a login address; it is not kept or shown anywhere",
                None,
            )
        })
    }

    fn answer_callback<'a>(
        &'a self,
        _callback_id: &'a str,
        notice: Option<&'a str>,
    ) -> BoxFuture<'a, Result<(), TransportError>> {
        Box::pin(async move {
            match notice {
                Some(n) => self.print("bot>", n, None),
                None => Ok(()),
            }
        })
    }
}

/// Run the conversation on `input` lines until EOF, printing to `output`. Each line is one
/// message from the operator; requests run one after another.
pub async fn run(
    conversation: Arc<Conversation>,
    input: impl AsyncBufRead + Unpin,
    output: Box<dyn Write + Send>,
) -> std::io::Result<()> {
    let ids = Arc::new(AtomicI64::new(1));
    let transport: Arc<dyn Transport> = Arc::new(TerminalTransport::new(output, Arc::clone(&ids)));
    let origin = Origin {
        chat: CHAT,
        kind: ChatKind::Private,
        user: OPERATOR,
    };
    let mut lines = input.lines();
    while let Some(line) = lines.next_line().await? {
        if line.trim().is_empty() {
            continue;
        }
        let message = MessageRef {
            chat: CHAT,
            message_id: ids.fetch_add(1, Ordering::SeqCst),
        };
        let event = Incoming::Text {
            origin,
            message,
            text: line,
        };
        conversation.handle(event, Arc::clone(&transport)).await;
    }
    Ok(())
}
