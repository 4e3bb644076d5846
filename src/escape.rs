//! Text on its way to a terminal. Ids, labels and emails come from the store, error words from
//! upstream servers, and any of them can hold terminal control sequences: a cursor move that
//! overwrites the line above, a title or clipboard write (OSC 52), a right-to-left override
//! that makes `alice` read as something else. [`for_terminal`] shows every such character as a
//! visible escape (`\u{1b}`), keeping only newlines, tabs and the plain colour sequences the
//! CLI itself draws (SGR with bold, dim, normal, foreground colours and resets; never conceal,
//! blink or backgrounds). JSON output needs none of this: serde escapes control characters.

use std::borrow::Cow;
use std::fmt::Write as _;

/// `text` with every control character outside the allowed set shown as an escape.
pub fn for_terminal(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == '\u{1b}'
            && let Some(len) = allowed_sgr(rest)
        {
            out.push_str(&rest[..len]);
            rest = &rest[len..];
            continue;
        }
        if needs_escape(c) {
            match c {
                '\r' => out.push_str("\\r"),
                _ => {
                    let _ = write!(out, "\\u{{{:x}}}", c as u32);
                }
            }
        } else {
            out.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    Cow::Owned(out)
}

/// One line of text for anywhere (a chat, a JSON field a bot passes on, a terminal): every
/// control character, newlines and tabs included, and every bidirectional control shown as an
/// escape (`\n`, `\u{1b}`), so upstream words can neither colour, move nor split the line.
/// Idempotent, and [`for_terminal`] leaves its output as it is.
pub fn visible(text: &str) -> Cow<'_, str> {
    let hidden = |c: char| c == '\n' || c == '\t' || needs_escape(c);
    if !text.chars().any(hidden) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if hidden(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Control characters (C0 but newline and tab, DEL, C1) and the bidirectional controls.
fn needs_escape(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}')
}

/// The length of a colour sequence at the start of `s` that the CLI may draw, if there is one:
/// `ESC [ params m` with every parameter one of reset, bold, dim, normal intensity, a
/// foreground colour or the default foreground.
fn allowed_sgr(s: &str) -> Option<usize> {
    let body = s.strip_prefix("\u{1b}[")?;
    let end = body.find('m')?;
    let params = &body[..end];
    if params.len() > 32 || !params.bytes().all(|b| b.is_ascii_digit() || b == b';') {
        return None;
    }
    let ok = params.split(';').all(|p| match p {
        "" => true,
        p => matches!(p.parse::<u8>(), Ok(0 | 1 | 2 | 22 | 31..=37 | 39 | 90..=97)),
    });
    ok.then_some(2 + end + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_untouched_and_not_copied() {
        assert!(matches!(
            for_terminal("alice@example.com\tplus\n"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn terminal_controls_become_visible() {
        let hostile = "evil\u{1b}]52;c;aGk=\u{7}\u{1b}[2J\u{1b}[1A\rx\u{9b}31m\u{202e}moc";
        let shown = for_terminal(hostile);
        assert!(!shown.chars().any(needs_escape), "{shown:?}");
        assert_eq!(
            shown,
            "evil\\u{1b}]52;c;aGk=\\u{7}\\u{1b}[2J\\u{1b}[1A\\rx\\u{9b}31m\\u{202e}moc"
        );
    }

    #[test]
    fn visible_escapes_every_control_and_is_idempotent() {
        let shown = visible("plus\u{1b}[31m\n3 checked\t\u{7f}\u{202e}x");
        assert_eq!(shown, "plus\\u{1b}[31m\\n3 checked\\t\\u{7f}\\u{202e}x");
        assert_eq!(visible(&shown), shown);
        assert_eq!(for_terminal(&shown), shown);
        assert!(matches!(
            visible("alice@example.com · plus"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn only_plain_colours_pass() {
        assert_eq!(
            for_terminal("\u{1b}[1;32mok\u{1b}[0m"),
            "\u{1b}[1;32mok\u{1b}[0m"
        );
        assert_eq!(for_terminal("\u{1b}[33mx\u{1b}[m"), "\u{1b}[33mx\u{1b}[m");
        // Conceal, blink, a background, a 256-colour form: escaped.
        for s in ["\u{1b}[8m", "\u{1b}[5m", "\u{1b}[41m", "\u{1b}[38;5;1m"] {
            assert!(for_terminal(s).starts_with("\\u{1b}"), "{s:?}");
        }
    }
}
