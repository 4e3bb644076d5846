//! teloxide's `Update` → the chat seam's [`Incoming`]. Pure: what the conversation core sees is
//! decided here and unit-tested without a network.

use teloxide::types::{CallbackQuery, Message, Update, UpdateKind};

use crate::chat::transport::{ChatId, ChatKind, Incoming, MessageRef, Origin, UserId};

/// What one update means for the adapter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Routed {
    /// An event for the conversation core, from this user (the ordering key).
    Event(UserId, Incoming),
    /// A callback query the core cannot use (no message or no data, e.g. from an inline
    /// message): the adapter answers it itself, because every callback is answered.
    AnswerOnly(String),
    /// Nothing to do (edits, channel posts, media without text, ...).
    Ignore,
}

/// Route one update.
pub fn route(update: &Update) -> Routed {
    match &update.kind {
        UpdateKind::Message(m) => route_message(m),
        UpdateKind::CallbackQuery(q) => route_callback(q),
        _ => Routed::Ignore,
    }
}

fn kind_of(chat: &teloxide::types::Chat) -> ChatKind {
    if chat.is_private() {
        ChatKind::Private
    } else {
        ChatKind::Group
    }
}

fn route_message(m: &Message) -> Routed {
    let (Some(from), Some(text)) = (m.from.as_ref(), m.text()) else {
        return Routed::Ignore;
    };
    let user = UserId(from.id.0);
    let chat = ChatId(m.chat.id.0);
    Routed::Event(
        user,
        Incoming::Text {
            origin: Origin {
                chat,
                kind: kind_of(&m.chat),
                user,
            },
            message: MessageRef {
                chat,
                message_id: i64::from(m.id.0),
            },
            text: text.to_owned(),
        },
    )
}

fn route_callback(q: &CallbackQuery) -> Routed {
    let (Some(message), Some(data)) = (q.message.as_ref(), q.data.as_ref()) else {
        return Routed::AnswerOnly(q.id.0.clone());
    };
    let user = UserId(q.from.id.0);
    let chat = ChatId(message.chat().id.0);
    Routed::Event(
        user,
        Incoming::Button {
            origin: Origin {
                chat,
                kind: kind_of(message.chat()),
                user,
            },
            message: MessageRef {
                chat,
                message_id: i64::from(message.id().0),
            },
            callback_id: q.id.0.clone(),
            data: data.clone(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // From text, as on the wire: teloxide's `UpdateKind` only parses borrowed keys.
    fn update(v: serde_json::Value) -> Update {
        serde_json::from_str(&v.to_string()).unwrap()
    }

    fn user(id: u64) -> serde_json::Value {
        json!({"id": id, "is_bot": false, "first_name": "A"})
    }

    #[test]
    fn private_text_becomes_text_event() {
        let u = update(json!({"update_id": 1, "message": {
            "message_id": 7, "date": 0, "chat": {"id": 42, "type": "private", "first_name": "A"},
            "from": user(42), "text": "/codex_usage all"}}));
        let Routed::Event(
            who,
            Incoming::Text {
                origin,
                message,
                text,
            },
        ) = route(&u)
        else {
            panic!("not a text event: {:?}", u.kind);
        };
        assert_eq!(who, UserId(42));
        assert_eq!(origin.kind, ChatKind::Private);
        assert_eq!(
            message,
            MessageRef {
                chat: ChatId(42),
                message_id: 7
            }
        );
        assert_eq!(text, "/codex_usage all");
    }

    #[test]
    fn group_callback_becomes_button_event() {
        let u = update(json!({"update_id": 2, "callback_query": {
            "id": "cb1", "from": user(5), "chat_instance": "x", "data": "codex_auth_usage:all",
            "message": {"message_id": 9, "date": 0, "chat": {"id": -100, "type": "supergroup", "title": "g"},
                        "from": {"id": 1, "is_bot": true, "first_name": "bot"}, "text": "menu"}}}));
        let Routed::Event(
            who,
            Incoming::Button {
                origin,
                message,
                callback_id,
                data,
            },
        ) = route(&u)
        else {
            panic!("not a button event");
        };
        assert_eq!(who, UserId(5));
        assert_eq!(origin.kind, ChatKind::Group);
        assert_eq!(message.message_id, 9);
        assert_eq!(
            (callback_id.as_str(), data.as_str()),
            ("cb1", "codex_auth_usage:all")
        );
    }

    #[test]
    fn callback_without_message_is_still_answered() {
        let u = update(json!({"update_id": 3, "callback_query": {
            "id": "cb2", "from": user(5), "chat_instance": "x", "inline_message_id": "im", "data": "d"}}));
        assert_eq!(route(&u), Routed::AnswerOnly("cb2".into()));
    }

    #[test]
    fn edited_messages_are_ignored() {
        let u = update(json!({"update_id": 4, "edited_message": {
            "message_id": 7, "date": 0, "edit_date": 1, "chat": {"id": 42, "type": "private", "first_name": "A"},
            "from": user(42), "text": "x"}}));
        assert_eq!(route(&u), Routed::Ignore);
    }
}
