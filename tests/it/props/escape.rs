//! `escape::for_terminal`: whatever the text, what reaches the terminal holds no control
//! character but newline, tab and the plain colours the CLI draws, and escaping is idempotent
//! on its own output (escaping twice shows the same thing as once).

use codex_profiler::escape::for_terminal;
use proptest::prelude::*;

use super::config;
use super::strategies::hostile_text;

/// An allowed colour sequence at the start of `s` (`ESC [ params m`, each parameter reset,
/// bold, dim, normal, a foreground colour or the default one): its length. Written apart from
/// the implementation, from its documentation.
fn plain_colour(s: &str) -> Option<usize> {
    let body = s.strip_prefix("\u{1b}[")?;
    let end = body.find('m')?;
    let ok = body[..end].split(';').all(|p| {
        p.is_empty()
            || matches!(
                p.parse::<u32>(),
                Ok(0 | 1 | 2 | 22 | 39 | 31..=37 | 90..=97)
            ) && p.len() <= 3
    });
    ok.then_some(end + 3)
}

fn forbidden(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{61c}')
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn only_newline_tab_and_plain_colours_get_through(s in hostile_text()) {
        let out = for_terminal(&s);
        let mut rest: &str = &out;
        while let Some(c) = rest.chars().next() {
            if c == '\u{1b}' {
                let len = plain_colour(rest);
                prop_assert!(len.is_some(), "raw ESC in {:?} (from {:?})", out, s);
                rest = &rest[len.unwrap_or(1)..];
                continue;
            }
            prop_assert!(!forbidden(c), "raw {:?} in {:?} (from {:?})", c, out, s);
            rest = &rest[c.len_utf8()..];
        }
    }

    #[test]
    fn escaping_is_idempotent(s in hostile_text()) {
        let once = for_terminal(&s).into_owned();
        prop_assert_eq!(for_terminal(&once), once.as_str());
    }

    #[test]
    fn text_without_controls_is_untouched(s in "\\PC*") {
        prop_assume!(!s.chars().any(forbidden));
        prop_assert_eq!(for_terminal(&s), s.as_str());
    }
}
