//! The plugin-host wire protocol, version [`PROTOCOL`]: one JSON object per line on stdin
//! (plugin → host) and stdout (host → plugin), documented in `docs/PLUGIN.md`. This file is
//! pure: it parses a line into an [`Inbound`] (unknown fields ignored, sizes bounded, a pasted
//! URL a [`Secret`] from the parse on) and builds the [`Outbound`] lines. Reading bounded lines
//! from a stream is `lines.rs`.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::chat::transport::{ChatId, Keyboard, UserId};
use crate::secret::Secret;

/// The protocol version both sides announce in their `hello`.
pub const PROTOCOL: u64 = 1;

/// The longest line accepted, in bytes (a 4096-character command is at most 16 KiB of UTF-8).
pub const MAX_LINE_BYTES: usize = 32 * 1024;

/// The longest event id, sender id or chat id, in bytes.
pub const MAX_ID_BYTES: usize = 128;

/// Who sent an event and where, as the plugin resolved it from the gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sender {
    /// The user, mapped from the channel's sender id ([`user_id`]).
    pub user: UserId,
    /// The chat, mapped from the channel's conversation id ([`chat_id`]).
    pub chat: ChatId,
    /// In `commands.ownerAllowFrom` (the plugin checked it, also for taps).
    pub is_owner: bool,
    /// On the channel's allowlist (the gateway checked it before calling the plugin).
    pub authorized: bool,
    /// One user and the bot.
    pub private: bool,
    /// Whether the channel shows inline buttons here (else the text fallback).
    pub buttons: bool,
}

/// One line from the plugin, parsed.
#[derive(Debug, PartialEq, Eq)]
pub enum Inbound {
    /// The plugin's greeting with its protocol version.
    Hello {
        /// The version it speaks.
        protocol: u64,
    },
    /// A command (`/codex_usage all`): its full text.
    Command {
        /// The event id every operation it causes carries.
        id: String,
        /// Who and where.
        from: Sender,
        /// The command text, slash included.
        text: String,
    },
    /// A tap on one of our buttons.
    Tap {
        /// The event id.
        id: String,
        /// Who and where.
        from: Sender,
        /// The button's callback data, unchecked.
        data: String,
        /// The id of the message the button is on.
        message: i64,
    },
    /// A message that is just a pasted callback URL.
    Paste {
        /// The event id.
        id: String,
        /// Who and where.
        from: Sender,
        /// The URL, secret from here on.
        url: Secret<String>,
    },
}

impl Inbound {
    /// The event id (none for `hello`).
    pub fn id(&self) -> Option<&str> {
        match self {
            Inbound::Hello { .. } => None,
            Inbound::Command { id, .. } | Inbound::Tap { id, .. } | Inbound::Paste { id, .. } => {
                Some(id)
            }
        }
    }
}

/// Why a line was not taken; each becomes an `error` line with the code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    /// Not JSON, not an object, or a field of the wrong type.
    #[error("the line is not a valid protocol message: {0}")]
    Malformed(String),
    /// Longer than [`MAX_LINE_BYTES`].
    #[error("the line is longer than {MAX_LINE_BYTES} bytes")]
    Oversize,
    /// A `type` this version does not know.
    #[error("unknown message type `{0}`")]
    UnknownType(String),
    /// An event before the plugin's `hello`.
    #[error("send hello with the protocol version first")]
    HelloFirst,
    /// The plugin speaks another version.
    #[error("this host speaks protocol {PROTOCOL}, the plugin speaks {0}")]
    ProtocolMismatch(u64),
    /// Too many of this sender's events are waiting; this one was not run.
    #[error("too many requests from this sender are waiting; try again shortly")]
    Busy,
}

impl LineError {
    /// The stable code of the `error` line.
    pub fn code(&self) -> &'static str {
        match self {
            LineError::Malformed(_) => "malformed",
            LineError::Oversize => "oversize",
            LineError::UnknownType(_) => "unknown_type",
            LineError::HelloFirst => "hello_first",
            LineError::ProtocolMismatch(_) => "protocol_mismatch",
            LineError::Busy => "busy",
        }
    }
}

#[derive(Deserialize)]
struct Head {
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize)]
struct RawSender {
    id: String,
    channel: String,
    sender: String,
    chat: String,
    #[serde(default)]
    is_owner: bool,
    #[serde(default = "yes")]
    authorized: bool,
    #[serde(default)]
    private: bool,
    #[serde(default)]
    buttons: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
struct RawHello {
    protocol: u64,
}

#[derive(Deserialize)]
struct RawCommand {
    #[serde(flatten)]
    from: RawSender,
    text: String,
}

#[derive(Deserialize)]
struct RawTap {
    #[serde(flatten)]
    from: RawSender,
    data: String,
    message: i64,
}

#[derive(Deserialize)]
struct RawPaste {
    #[serde(flatten)]
    from: RawSender,
    url: Secret<String>,
}

/// Parse one line (without its newline). Errors never quote the line: it may hold a secret.
pub fn parse(line: &[u8]) -> Result<Inbound, LineError> {
    if line.len() > MAX_LINE_BYTES {
        return Err(LineError::Oversize);
    }
    let value: Value = serde_json::from_slice(line).map_err(|e| malformed(&e))?;
    let head: Head = Head::deserialize(&value).map_err(|e| malformed(&e))?;
    match head.kind.as_str() {
        "hello" => {
            let h = RawHello::deserialize(&value).map_err(|e| malformed(&e))?;
            Ok(Inbound::Hello {
                protocol: h.protocol,
            })
        }
        "command" => {
            let c = RawCommand::deserialize(value).map_err(|e| malformed(&e))?;
            let (id, from) = sender(c.from)?;
            Ok(Inbound::Command {
                id,
                from,
                text: c.text,
            })
        }
        "tap" => {
            let t = RawTap::deserialize(value).map_err(|e| malformed(&e))?;
            let (id, from) = sender(t.from)?;
            Ok(Inbound::Tap {
                id,
                from,
                data: t.data,
                message: t.message,
            })
        }
        "paste" => {
            let p = RawPaste::deserialize(value).map_err(|e| malformed(&e))?;
            let (id, from) = sender(p.from)?;
            Ok(Inbound::Paste {
                id,
                from,
                url: p.url,
            })
        }
        other => Err(LineError::UnknownType(other.chars().take(32).collect())),
    }
}

/// The event id of a line that failed to parse, when it has a usable one (so the plugin can
/// fail that request instead of waiting for it).
pub fn id_of(line: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(line).ok()?;
    let id = value.get("id")?.as_str()?;
    (!id.is_empty() && id.len() <= MAX_ID_BYTES).then(|| id.to_owned())
}

/// serde's message names the field and the expected type; a value it quotes (`string "…"`,
/// which could be a pasted URL) is cut out.
fn malformed(e: &serde_json::Error) -> LineError {
    let text = e.to_string();
    let cut = text.find(" at line ").map_or(text.as_str(), |i| &text[..i]);
    let mut out = String::with_capacity(cut.len());
    let mut quoted = false;
    for c in cut.chars() {
        match (c, quoted) {
            ('"', false) => {
                quoted = true;
                out.push_str("\"…\"");
            }
            ('"', true) => quoted = false,
            (_, true) => {}
            (c, false) => out.push(c),
        }
    }
    LineError::Malformed(out)
}

fn sender(raw: RawSender) -> Result<(String, Sender), LineError> {
    for (name, value) in [
        ("id", &raw.id),
        ("sender", &raw.sender),
        ("chat", &raw.chat),
        ("channel", &raw.channel),
    ] {
        if value.is_empty() || value.len() > MAX_ID_BYTES {
            return Err(LineError::Malformed(format!(
                "`{name}` must be 1 to {MAX_ID_BYTES} bytes"
            )));
        }
    }
    let from = Sender {
        user: user_id(&raw.channel, &raw.sender),
        chat: chat_id(&raw.channel, &raw.chat),
        is_owner: raw.is_owner,
        authorized: raw.authorized,
        private: raw.private,
        buttons: raw.buttons,
    };
    Ok((raw.id, from))
}

/// A channel's sender id as a core user id: a Telegram numeric id stays itself (so refusals
/// show the id people know); anything else is a stable hash of `channel:sender`.
pub fn user_id(channel: &str, sender: &str) -> UserId {
    match sender.parse::<u64>() {
        Ok(n) if channel == "telegram" => UserId(n),
        _ => UserId(fnv1a(channel, sender) >> 1),
    }
}

/// A channel's conversation id as a core chat id, like [`user_id`] (Telegram group ids are
/// negative).
pub fn chat_id(channel: &str, chat: &str) -> ChatId {
    let chat = chat.strip_prefix("telegram:").unwrap_or(chat);
    match chat.parse::<i64>() {
        Ok(n) if channel == "telegram" => ChatId(n),
        // Top bit cleared, so the hash is a positive i64.
        _ => ChatId((fnv1a(channel, chat) >> 1) as i64),
    }
}

fn fnv1a(channel: &str, id: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in channel.bytes().chain([b':']).chain(id.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// One line to the plugin.
#[derive(Debug, Clone, PartialEq)]
pub enum Outbound<'a> {
    /// The host's greeting.
    Hello,
    /// Send a new message; `reference` names it in later edits and deletes.
    Send {
        /// The event it answers.
        event: &'a str,
        /// The host's id for it (negative: never a channel's message id).
        reference: i64,
        /// Its text.
        text: &'a str,
        /// Its buttons.
        buttons: Option<&'a Keyboard>,
    },
    /// Replace a message (ours, or the one a tap was on).
    Edit {
        /// The event.
        event: &'a str,
        /// Which message.
        reference: i64,
        /// The new text.
        text: &'a str,
        /// The new buttons (`None` removes them).
        buttons: Option<&'a Keyboard>,
    },
    /// Delete a message.
    Delete {
        /// The event.
        event: &'a str,
        /// Which message.
        reference: i64,
    },
    /// The one answer to a tap, with an optional short notice.
    Answer {
        /// The tap's event id.
        event: &'a str,
        /// The notice.
        notice: Option<&'a str>,
    },
    /// Nothing more comes for this event except a device login's final edit.
    Done {
        /// The event.
        event: &'a str,
    },
    /// A line that was not taken.
    Error {
        /// The event, when the line had a usable id.
        event: Option<&'a str>,
        /// Why.
        error: &'a LineError,
    },
}

fn keyboard(buttons: Option<&Keyboard>) -> Value {
    match buttons {
        Some(rows) => rows
            .iter()
            .map(|row| {
                row.iter()
                    .map(|b| json!({"text": b.label, "data": b.data}))
                    .collect::<Vec<_>>()
            })
            .collect::<Vec<_>>()
            .into(),
        None => Value::Null,
    }
}

impl Outbound<'_> {
    /// The event the line is about (none for `hello` and an `error` without one).
    pub fn event(&self) -> Option<&str> {
        match self {
            Outbound::Hello => None,
            Outbound::Error { event, .. } => *event,
            Outbound::Send { event, .. }
            | Outbound::Edit { event, .. }
            | Outbound::Delete { event, .. }
            | Outbound::Answer { event, .. }
            | Outbound::Done { event } => Some(event),
        }
    }

    /// The line, without its newline.
    pub fn to_line(&self) -> String {
        let v = match self {
            Outbound::Hello => json!({
                "type": "hello",
                "protocol": PROTOCOL,
                "version": env!("CARGO_PKG_VERSION"),
            }),
            Outbound::Send {
                event,
                reference,
                text,
                buttons,
            } => json!({"type": "send", "event": event, "ref": reference, "text": text,
                        "buttons": keyboard(*buttons)}),
            Outbound::Edit {
                event,
                reference,
                text,
                buttons,
            } => json!({"type": "edit", "event": event, "ref": reference, "text": text,
                        "buttons": keyboard(*buttons)}),
            Outbound::Delete { event, reference } => {
                json!({"type": "delete", "event": event, "ref": reference})
            }
            Outbound::Answer { event, notice } => {
                json!({"type": "answer", "event": event, "notice": notice})
            }
            Outbound::Done { event } => json!({"type": "done", "event": event}),
            Outbound::Error { event, error } => json!({
                "type": "error", "event": event, "code": error.code(), "message": error.to_string(),
            }),
        };
        v.to_string()
    }
}

#[cfg(test)]
#[path = "protocol_tests.rs"]
mod tests;
