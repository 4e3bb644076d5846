//! An in-memory [`Transport`] that records every call, so tests can check what the user saw,
//! in which order, on which message, and that no secret reached any of it.

use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};

use codex_profiler::chat::transport::{
    BoxFuture, ChatId, ChatKind, Incoming, Keyboard, MessageRef, Origin, Transport, TransportError,
    UserId,
};

/// One call the core made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    /// `send`.
    Send {
        message: MessageRef,
        text: String,
        keyboard: Option<Keyboard>,
    },
    /// `edit`.
    Edit {
        message: MessageRef,
        text: String,
        keyboard: Option<Keyboard>,
    },
    /// `delete`.
    Delete(MessageRef),
    /// `answer_callback`.
    Answer { id: String, notice: Option<String> },
    /// `send_photo`.
    Photo {
        message: MessageRef,
        png: Vec<u8>,
        caption: String,
    },
}

impl Call {
    /// The text a user would see from this call.
    pub fn text(&self) -> Option<&str> {
        match self {
            Call::Send { text, .. } | Call::Edit { text, .. } => Some(text),
            Call::Answer { notice, .. } => notice.as_deref(),
            Call::Photo { caption, .. } => Some(caption),
            Call::Delete(_) => None,
        }
    }
}

/// The recording transport.
pub struct Recording {
    pub buttons: bool,
    pub max_len: usize,
    /// Whether `send_photo` works (else the trait's default: "photos not supported").
    pub photos: bool,
    /// While `Some`, `send_photo` fails with it (after recording the call).
    pub photo_error: Mutex<Option<TransportError>>,
    calls: Mutex<Vec<Call>>,
    next_id: AtomicI64,
}

impl Recording {
    pub fn new(buttons: bool) -> Recording {
        Recording::with_max_len(buttons, 4096)
    }

    pub fn with_max_len(buttons: bool, max_len: usize) -> Recording {
        Recording {
            buttons,
            max_len,
            photos: false,
            photo_error: Mutex::new(None),
            calls: Mutex::new(Vec::new()),
            next_id: AtomicI64::new(1000),
        }
    }

    /// A recording transport that takes photos.
    pub fn with_photos(buttons: bool) -> Recording {
        Recording {
            photos: true,
            ..Recording::new(buttons)
        }
    }

    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    /// Forget what was recorded so far.
    pub fn clear(&self) {
        self.calls.lock().unwrap().clear();
    }

    /// Every text shown, joined (for `contains` checks and secret checks).
    pub fn all_text(&self) -> String {
        let mut out = String::new();
        for c in self.calls() {
            if let Some(t) = c.text() {
                out.push_str(t);
                out.push('\n');
            }
            if let Call::Send {
                keyboard: Some(k), ..
            }
            | Call::Edit {
                keyboard: Some(k), ..
            } = &c
            {
                for b in k.iter().flatten() {
                    out.push_str(&format!("[{}|{}]", b.label, b.data));
                }
            }
        }
        out
    }

    /// The last message sent (its ref, text, keyboard).
    pub fn last_send(&self) -> (MessageRef, String, Option<Keyboard>) {
        self.last(false).expect("no message was sent")
    }

    /// The last message shown (sent or edited), with its keyboard.
    pub fn last_shown(&self) -> (MessageRef, String, Option<Keyboard>) {
        self.last(true).expect("something was shown")
    }

    fn last(&self, edits: bool) -> Option<(MessageRef, String, Option<Keyboard>)> {
        self.calls().into_iter().rev().find_map(|c| match c {
            Call::Send {
                message,
                text,
                keyboard,
            } => Some((message, text, keyboard)),
            Call::Edit {
                message,
                text,
                keyboard,
            } if edits => Some((message, text, keyboard)),
            _ => None,
        })
    }

    /// How many button answers were given.
    pub fn answers(&self) -> Vec<Option<String>> {
        self.calls()
            .into_iter()
            .filter_map(|c| match c {
                Call::Answer { notice, .. } => Some(notice),
                _ => None,
            })
            .collect()
    }

    fn push(&self, c: Call) {
        self.calls.lock().unwrap().push(c);
    }
}

impl Transport for Recording {
    fn inline_buttons(&self) -> bool {
        self.buttons
    }
    fn max_message_len(&self) -> usize {
        self.max_len
    }
    fn send<'a>(
        &'a self,
        chat: ChatId,
        text: &'a str,
        keyboard: Option<&'a Keyboard>,
    ) -> BoxFuture<'a, Result<MessageRef, TransportError>> {
        Box::pin(async move {
            assert!(
                text.chars().count() <= self.max_len,
                "message over the limit"
            );
            let message = MessageRef {
                chat,
                message_id: self.next_id.fetch_add(1, Ordering::SeqCst),
            };
            self.push(Call::Send {
                message,
                text: text.to_owned(),
                keyboard: keyboard.cloned(),
            });
            Ok(message)
        })
    }
    fn edit<'a>(
        &'a self,
        message: MessageRef,
        text: &'a str,
        keyboard: Option<&'a Keyboard>,
    ) -> BoxFuture<'a, Result<(), TransportError>> {
        Box::pin(async move {
            assert!(text.chars().count() <= self.max_len, "edit over the limit");
            self.push(Call::Edit {
                message,
                text: text.to_owned(),
                keyboard: keyboard.cloned(),
            });
            Ok(())
        })
    }
    fn photos(&self) -> bool {
        self.photos
    }
    fn send_photo<'a>(
        &'a self,
        chat: ChatId,
        png: &'a [u8],
        caption: &'a str,
        _keyboard: Option<&'a Keyboard>,
    ) -> BoxFuture<'a, Result<MessageRef, TransportError>> {
        Box::pin(async move {
            if !self.photos {
                return Err(TransportError::photos_unsupported());
            }
            let message = MessageRef {
                chat,
                message_id: self.next_id.fetch_add(1, Ordering::SeqCst),
            };
            self.push(Call::Photo {
                message,
                png: png.to_vec(),
                caption: caption.to_owned(),
            });
            match self.photo_error.lock().unwrap().clone() {
                Some(e) => Err(e),
                None => Ok(message),
            }
        })
    }
    fn delete(&self, message: MessageRef) -> BoxFuture<'_, Result<(), TransportError>> {
        Box::pin(async move {
            self.push(Call::Delete(message));
            Ok(())
        })
    }
    fn answer_callback<'a>(
        &'a self,
        callback_id: &'a str,
        notice: Option<&'a str>,
    ) -> BoxFuture<'a, Result<(), TransportError>> {
        Box::pin(async move {
            self.push(Call::Answer {
                id: callback_id.to_owned(),
                notice: notice.map(str::to_owned),
            });
            Ok(())
        })
    }
}

pub const ADMIN: UserId = UserId(1);
pub const USER: UserId = UserId(2);
pub const STRANGER: UserId = UserId(3);
pub const PRIVATE: ChatId = ChatId(10);
pub const GROUP: ChatId = ChatId(-20);

static NEXT_INCOMING: AtomicI64 = AtomicI64::new(1);

/// Where a user speaks from.
pub fn origin(user: UserId, group: bool) -> Origin {
    Origin {
        chat: if group { GROUP } else { PRIVATE },
        kind: if group {
            ChatKind::Group
        } else {
            ChatKind::Private
        },
        user,
    }
}

/// A text message.
pub fn text(user: UserId, group: bool, text: &str) -> (Incoming, MessageRef) {
    let o = origin(user, group);
    let message = MessageRef {
        chat: o.chat,
        message_id: NEXT_INCOMING.fetch_add(1, Ordering::SeqCst),
    };
    (
        Incoming::Text {
            origin: o,
            message,
            text: text.to_owned(),
        },
        message,
    )
}

/// A button tap on `message`.
pub fn tap(user: UserId, group: bool, message: MessageRef, data: &str) -> Incoming {
    Incoming::Button {
        origin: origin(user, group),
        message,
        callback_id: format!("cb{}", NEXT_INCOMING.fetch_add(1, Ordering::SeqCst)),
        data: data.to_owned(),
    }
}

/// The callback data of the button labelled `label` in `keyboard`.
pub fn button(keyboard: &Option<Keyboard>, label: &str) -> String {
    keyboard
        .iter()
        .flatten()
        .flatten()
        .find(|b| b.label == label)
        .unwrap_or_else(|| panic!("no button {label:?} in {keyboard:?}"))
        .data
        .clone()
}
