//! Engine sentences on their way into a chat. The engine words its errors for the command
//! line ("start one with `auth start --profile mona`", "pass --state-dir"); a chat user can
//! do nothing with a flag or a shell command. [`for_chat`] cuts every such hint out of the
//! sentence and, where the chat has an action for the failure, adds it from
//! `templates/chat/error_hints.j2` ("send /codex_auth login NAME to start one").

use crate::chat::render;

/// Words that only make sense in a shell.
const CLI_MARKS: &[&str] = &[
    "codex-profiler ",
    "`codex-profiler",
    "openclaw ",
    "`openclaw",
    "`auth ",
    "`order ",
    "`backups ",
    "`codex ",
    "`ulimit",
    "--",
    "OPENCLAW_STATE_DIR",
];

/// Where a hint may start, best first: a parenthesis is dropped alone, the others cut the
/// rest of the sentence.
const SEPARATORS: &[&str] = &[" (", "; ", ": ", ", or ", ", "];

/// Whether `text` holds a command-line word (a flag, a `codex-profiler` or `openclaw`
/// command, a backticked shell command).
pub fn has_cli_words(text: &str) -> bool {
    first_mark(text).is_some()
}

fn first_mark(text: &str) -> Option<usize> {
    CLI_MARKS.iter().filter_map(|m| text.find(m)).min()
}

/// `text` without the hints that name a flag or a shell command. A parenthesis holding one
/// goes; otherwise the sentence ends before the clause that holds it.
pub fn without_cli_hints(text: &str) -> String {
    let mut s = text.to_owned();
    // Each round removes at least one mark, so this ends.
    while let Some(at) = first_mark(&s) {
        let cut = SEPARATORS
            .iter()
            .filter_map(|sep| s[..at].rfind(sep).map(|i| (i, *sep)))
            .max_by_key(|(i, _)| *i);
        match cut {
            Some((i, " (")) => match s[at..].find(')') {
                Some(close) => {
                    s.replace_range(i..at + close + 1, "");
                }
                None => s.truncate(i),
            },
            Some((i, _)) => s.truncate(i),
            None => {
                // The whole sentence is a command: nothing of it is worth showing.
                s.clear();
            }
        }
    }
    s.trim_end_matches([' ', ';', ':', ',']).to_owned()
}

/// The chat sentence of an engine failure with stable `code` and CLI-worded `message`.
pub fn for_chat(code: &str, message: &str) -> String {
    let mut s = without_cli_hints(message);
    if s.is_empty() {
        s = "that did not work".to_owned();
    }
    match render::error_hint(code) {
        Some(hint) => format!("{s}; {hint}"),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Failure;
    use crate::engine::change::ChangeError;
    use crate::engine::oauth::OAuthError;
    use crate::engine::store::StoreError;

    fn chat(e: &dyn Failure) -> String {
        for_chat(e.code(), &e.to_string())
    }

    #[test]
    fn engine_errors_lose_their_flags_and_gain_the_chat_action() {
        let pending = chat(&OAuthError::NoPendingLogin("mona".into()));
        assert_eq!(
            pending,
            "no login is pending for `mona`; send /codex_auth login NAME to start one"
        );
        let denied = chat(&OAuthError::Denied("access_denied".into()));
        assert!(!has_cli_words(&denied), "{denied}");
        assert!(denied.contains("/codex_auth login"), "{denied}");
        let dir = chat(&StoreError::NoStateDir("/x".into()));
        assert!(!has_cli_words(&dir) && dir.contains("/x"), "{dir}");
        let gone = chat(&ChangeError::UnknownProfile("openai:a".into()));
        assert!(!has_cli_words(&gone) && gone.contains("openai:a"), "{gone}");
        assert!(gone.contains("/codex_auth"), "{gone}");
    }

    #[test]
    fn hints_are_cut_where_they_start() {
        assert_eq!(
            without_cli_hints("out of open files (lower --concurrency)"),
            "out of open files"
        );
        assert_eq!(
            without_cli_hints("a; b `codex-profiler order set`, or c"),
            "a"
        );
        assert_eq!(without_cli_hints("--yes"), "");
        assert_eq!(without_cli_hints("plain words"), "plain words");
    }
}
