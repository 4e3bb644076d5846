//! Progress first, result on the same path: a request's progress message is sent (or the
//! selector message it came from is edited) before any remote work, and the result replaces
//! it by an edit. A result longer than the transport allows continues in follow-up messages,
//! split on line boundaries. Transport failures are logged (they are already secret-free) and
//! never take the conversation down.

use crate::chat::transport::{ChatId, Keyboard, MessageRef, Transport};

/// Split `text` into parts of at most `max` characters, breaking after a newline where
/// possible and inside a line only when one line alone is too long.
pub fn split(text: &str, max: usize) -> Vec<String> {
    let max = max.max(1);
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut current_len = 0;
    for line in text.split_inclusive('\n') {
        let len = line.chars().count();
        if current_len + len > max && !current.is_empty() {
            parts.push(std::mem::take(&mut current));
            current_len = 0;
        }
        if len > max {
            // One line longer than a message: cut it on character boundaries.
            let chars: Vec<char> = line.chars().collect();
            for chunk in chars.chunks(max) {
                let piece: String = chunk.iter().collect();
                if chunk.len() == max {
                    parts.push(piece);
                } else {
                    current_len = chunk.len();
                    current = piece;
                }
            }
            continue;
        }
        current.push_str(line);
        current_len += len;
    }
    if !current.is_empty() || parts.is_empty() {
        parts.push(current);
    }
    // A part that ends with a newline would show a blank tail; trim only that newline.
    parts
        .into_iter()
        .map(|p| p.strip_suffix('\n').map(str::to_owned).unwrap_or(p))
        .collect()
}

/// Send a new message; `None` when the transport failed (logged).
pub async fn send(
    t: &dyn Transport,
    chat: ChatId,
    text: &str,
    keyboard: Option<&Keyboard>,
) -> Option<MessageRef> {
    let parts = split(text, t.max_message_len());
    let last = parts.len().saturating_sub(1);
    let mut first = None;
    for (i, part) in parts.iter().enumerate() {
        let kb = if i == last { keyboard } else { None };
        match t.send(chat, part, kb).await {
            Ok(m) => {
                first.get_or_insert(m);
            }
            Err(e) => {
                tracing::warn!(error = %e, "sending a chat message failed");
                return first;
            }
        }
    }
    first
}

/// Replace `message` with `text` (and `keyboard` on the last part); parts beyond the first
/// follow as new messages in the same chat.
pub async fn edit(t: &dyn Transport, message: MessageRef, text: &str, keyboard: Option<&Keyboard>) {
    let parts = split(text, t.max_message_len());
    let last = parts.len().saturating_sub(1);
    for (i, part) in parts.iter().enumerate() {
        let kb = if i == last { keyboard } else { None };
        let outcome = if i == 0 {
            t.edit(message, part, kb).await
        } else {
            t.send(message.chat, part, kb).await.map(|_| ())
        };
        if let Err(e) = outcome {
            tracing::warn!(error = %e, "delivering a chat result failed");
            return;
        }
    }
}

/// Start a request's path: edit `on` (the selector message a button was on) into the progress
/// text, or send the progress text as a new message. Returns the message results go to.
pub async fn progress(
    t: &dyn Transport,
    chat: ChatId,
    on: Option<MessageRef>,
    text: &str,
) -> Option<MessageRef> {
    match on {
        Some(m) => {
            edit(t, m, text, None).await;
            Some(m)
        }
        None => send(t, chat, text, None).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_one_part() {
        assert_eq!(split("a\nb", 10), vec!["a\nb"]);
        assert_eq!(split("", 10), vec![""]);
    }

    #[test]
    fn splits_on_line_boundaries() {
        let text = "line one\nline two\nline three\n";
        let parts = split(text, 18);
        assert_eq!(parts, vec!["line one\nline two", "line three"]);
        assert!(parts.iter().all(|p| p.chars().count() <= 18));
    }

    #[test]
    fn cuts_an_over_long_line_on_char_boundaries() {
        let text = format!("head\n{}\ntail", "é".repeat(25));
        let parts = split(&text, 10);
        assert!(parts.iter().all(|p| p.chars().count() <= 10), "{parts:?}");
        assert_eq!(parts.concat().replace('\n', ""), text.replace('\n', ""));
        assert_eq!(parts.first().map(String::as_str), Some("head"));
    }

    #[test]
    fn nothing_is_lost() {
        let text: String = (0..200)
            .map(|i| format!("profile {i} · plus · 5h 42% left\n"))
            .collect();
        let parts = split(&text, 4096);
        assert!(parts.len() > 1);
        assert_eq!(parts.join("\n") + "\n", text);
    }
}
