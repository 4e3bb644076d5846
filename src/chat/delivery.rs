//! Progress first, result on the same path: a request's progress message is sent (or the
//! selector message it came from is edited) before any remote work, and the result replaces
//! it by an edit. A result longer than the transport allows continues in follow-up messages,
//! split on line boundaries. Transport failures are logged (they are already secret-free) and
//! never take the conversation down.

use crate::chat::transport::{ChatId, Keyboard, MessageRef, Transport};

/// The length Telegram measures: UTF-16 code units.
pub fn units(text: &str) -> usize {
    text.encode_utf16().count()
}

/// Split `text` into parts of at most `max` UTF-16 units, breaking after a newline where
/// possible and inside a line only when one line alone is too long.
pub fn split(text: &str, max: usize) -> Vec<String> {
    // Lengths are UTF-16 code units, as Telegram counts its 4096: an emoji is two.
    let max = max.max(1);
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut current_len = 0;
    for line in text.split_inclusive('\n') {
        let len = units(line);
        if current_len + len > max && !current.is_empty() {
            parts.push(std::mem::take(&mut current));
            current_len = 0;
        }
        if len > max {
            // One line longer than a message: cut it on character boundaries.
            let mut piece = String::new();
            let mut piece_len = 0;
            for c in line.chars() {
                if piece_len + c.len_utf16() > max && !piece.is_empty() {
                    parts.push(std::mem::take(&mut piece));
                    piece_len = 0;
                }
                piece.push(c);
                piece_len += c.len_utf16();
            }
            current_len = piece_len;
            current = piece;
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

/// `text` cut to at most `max` UTF-16 units on a character boundary, ending in `…` when cut
/// (for captions, which cannot continue in a second message).
pub fn truncate(text: &str, max: usize) -> String {
    if units(text) <= max {
        return text.to_owned();
    }
    let budget = max.saturating_sub(1);
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        if used + c.len_utf16() > budget {
            break;
        }
        used += c.len_utf16();
        out.push(c);
    }
    if max > 0 {
        out.push('…');
    }
    out
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
    fn counts_utf16_units_as_telegram_does() {
        let text = format!("{}\n{}", "😀".repeat(3), "😀".repeat(3));
        let parts = split(&text, 7);
        assert!(parts.iter().all(|p| units(p) <= 7), "{parts:?}");
        assert_eq!(parts.concat().replace('\n', ""), text.replace('\n', ""));
        let one_line = "😀".repeat(5);
        let parts = split(&one_line, 4);
        assert_eq!(parts, vec!["😀😀", "😀😀", "😀"]);
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
    fn truncates_on_char_boundaries_within_the_limit() {
        assert_eq!(truncate("short", 1024), "short");
        let long = "😀".repeat(600);
        let cut = truncate(&long, 1024);
        assert!(units(&cut) <= 1024, "{}", units(&cut));
        assert!(cut.ends_with('…'));
        assert!(cut.trim_end_matches('…').chars().all(|c| c == '😀'));
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 0), "");
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
