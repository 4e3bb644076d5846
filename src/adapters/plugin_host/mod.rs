//! `codex-profiler plugin-host`: the conversation core behind the OpenClaw plugin
//! (`openclaw-plugin/`). The plugin forwards each command and button tap of the gateway's own
//! chat as one JSON line on stdin; the host runs it through [`Conversation::handle`] like any
//! other adapter and writes the sends, edits, deletes and answers it causes as lines on stdout,
//! each carrying the event's id, then `done`. Nothing of the conversation lives in the plugin.
//!
//! - [`protocol`]: the line formats (versioned, bounded, unknown fields ignored).
//! - [`lines`]: bounded line reading.
//! - [`transport`]: [`crate::chat::transport::Transport`] over the protocol, one per event,
//!   carrying the role the gateway vouched for.
//! - [`order`]: per-user order, cross-user concurrency.
//!
//! Rules of this mode: the gateway decides who is who (its owner list is the admin list, its
//! allowlist the user list; `CODEX_PROFILER_ADMINS` is not needed); a pasted callback URL is
//! refused (OpenClaw keeps a plugin command's text and the plugin cannot delete the user's
//! message, see `docs/PLUGIN.md`) and the device login offered instead. stdout carries only
//! protocol lines; logs go to stderr. A malformed line gets an `error` line, never a crash.

pub mod lines;
pub mod order;
pub mod protocol;
pub mod transport;

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncBufRead;

use crate::chat::Conversation;
use crate::chat::command;
use crate::chat::render;
use crate::chat::transport::{ChatKind, Incoming, MessageRef, Origin, Transport};
use lines::Line;
use protocol::{Inbound, LineError, MAX_LINE_BYTES, Outbound, PROTOCOL, Sender};
use transport::{EventTransport, Output};

/// How long the host waits, once its input ends, for requests still running.
pub const FINISH_GRACE: Duration = Duration::from_secs(30);

/// The message id standing for the event's own message (the user's command): the plugin
/// deletes it where the channel lets it, and ignores the delete elsewhere.
pub const OWN_MESSAGE: i64 = 0;

/// Why the host stopped before its input ended.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// The plugin speaks another protocol version (already answered with an `error` line).
    #[error("the plugin speaks protocol {0}; this codex-profiler speaks {PROTOCOL}")]
    Mismatch(u64),
    /// stdin or stdout failed.
    #[error("the plugin's pipe failed: {0}")]
    Io(String),
}

/// Run the host: greet, then take lines from `input` until it ends, writing to `output`.
pub async fn run(
    conversation: Arc<Conversation>,
    mut input: impl AsyncBufRead + Unpin,
    output: Box<dyn Write + Send>,
) -> Result<(), HostError> {
    let out = Arc::new(Output::new(output));
    out.line(&Outbound::Hello).map_err(|e| HostError::Io(e.0))?;
    let sequencer = order::Sequencer::default();
    let mut greeted = false;
    loop {
        let line = match lines::next(&mut input, MAX_LINE_BYTES).await {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(e) => return Err(HostError::Io(e.to_string())),
        };
        let bytes = match line {
            Line::Text(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => continue,
            Line::Text(bytes) => bytes,
            Line::Oversize => {
                error(&out, None, &LineError::Oversize);
                continue;
            }
        };
        let parsed = protocol::parse(&bytes);
        let id = protocol::id_of(&bytes);
        drop(bytes);
        let inbound = match parsed {
            Ok(Inbound::Hello { protocol }) if protocol == PROTOCOL => {
                greeted = true;
                continue;
            }
            Ok(Inbound::Hello { protocol }) => {
                error(&out, None, &LineError::ProtocolMismatch(protocol));
                return Err(HostError::Mismatch(protocol));
            }
            Ok(_) if !greeted => {
                error(&out, id.as_deref(), &LineError::HelloFirst);
                continue;
            }
            Ok(inbound) => inbound,
            Err(e) => {
                tracing::info!(code = e.code(), "refused a protocol line");
                error(&out, id.as_deref(), &e);
                continue;
            }
        };
        dispatch(&conversation, &out, &sequencer, inbound);
    }
    if !sequencer.finish(FINISH_GRACE).await {
        tracing::warn!("the input ended while requests were still running; leaving them");
    }
    Ok(())
}

fn error(out: &Output, event: Option<&str>, error: &LineError) {
    if let Err(e) = out.line(&Outbound::Error { event, error }) {
        tracing::warn!(error = %e, "could not report a protocol error");
    }
}

/// What an event asks the core for.
enum Work {
    /// Hand this to the conversation.
    Core(Incoming),
    /// A callback URL: refuse it, offer the device login.
    RefusePaste,
}

fn dispatch(conv: &Arc<Conversation>, out: &Arc<Output>, seq: &order::Sequencer, ev: Inbound) {
    let (id, from, work) = match ev {
        Inbound::Hello { .. } => return,
        Inbound::Command { id, from, text } => {
            let work = if command::holds_callback_url(&text) {
                Work::RefusePaste
            } else {
                Work::Core(Incoming::Text {
                    origin: origin(&from),
                    message: MessageRef {
                        chat: from.chat,
                        message_id: OWN_MESSAGE,
                    },
                    text,
                })
            };
            (id, from, work)
        }
        Inbound::Tap {
            id,
            from,
            data,
            message,
        } => {
            let work = Work::Core(Incoming::Button {
                origin: origin(&from),
                message: MessageRef {
                    chat: from.chat,
                    message_id: message,
                },
                callback_id: id.clone(),
                data,
            });
            (id, from, work)
        }
        // The URL is dropped unread: this mode never finishes a login from a paste.
        Inbound::Paste { id, from, url: _ } => (id, from, Work::RefusePaste),
    };
    let user = from.user;
    let chat = from.chat;
    let is_tap = matches!(work, Work::Core(Incoming::Button { .. }));
    let t = Arc::new(EventTransport::new(Arc::clone(out), id.clone(), from));
    let (conv, o, event) = (Arc::clone(conv), Arc::clone(out), id.clone());
    let job = Box::pin(async move {
        match work {
            Work::Core(incoming) => conv.handle(incoming, t).await,
            Work::RefusePaste => {
                let text = render::text("plugin_paste_refused");
                if let Err(e) = t.send(chat, &text, None).await {
                    tracing::warn!(error = %e, "could not refuse a pasted login address");
                }
            }
        }
        if let Err(e) = o.line(&Outbound::Done { event: &event }) {
            tracing::warn!(error = %e, "could not end a request");
        }
    });
    if seq.push(user, job).is_err() {
        tracing::warn!(
            user = user.0,
            "too many requests queued for one user; refused one"
        );
        if is_tap {
            let _ = out.line(&Outbound::Answer {
                event: &id,
                notice: Some(&render::text("already_running")),
            });
        }
        error(out, Some(&id), &LineError::Busy);
        let _ = out.line(&Outbound::Done { event: &id });
    }
}

fn origin(from: &Sender) -> Origin {
    Origin {
        chat: from.chat,
        kind: if from.private {
            ChatKind::Private
        } else {
            ChatKind::Group
        },
        user: from.user,
    }
}
