//! How text output looks: times in the operator's zone (`--utc` for UTC) and colour
//! (`--color auto|always|never`, `NO_COLOR`). Only text on stdout is ever coloured: JSON,
//! stderr sentences and piped output (under `auto`) stay plain, so scripts and logs never
//! see escape codes.
//!
//! The engine writes every time as RFC 3339 UTC, the form JSON keeps (SPEC). A text report
//! is dressed on its way out ([`dress`]): each such time becomes `Dec 3 14:25 IST, in 2d 2h`
//! in the operator's zone ([`localise`]), so every command's text, present and future, shows
//! local time.

use std::io::IsTerminal;

use anstyle::{AnsiColor, Style};

use super::args::{ColorArg, Command, GlobalArgs};
use super::output::CliError;
use crate::engine::clock::{Zone, localise};

/// How a command's text output is dressed.
#[derive(Debug, Clone, Copy, Default)]
pub struct Look {
    /// Colour the status words.
    pub colour: bool,
    /// Show RFC 3339 times in this zone (`None`: leave them, e.g. in JSON).
    pub zone: Option<Zone>,
}

/// The look of `command`'s output under the global flags. JSON output is left as it is;
/// commands that print no times (completions, the man page) never read the zone, so a bad
/// `CODEX_PROFILER_TZ` cannot stop them.
pub fn look(g: &GlobalArgs, command: &Command) -> Result<Look, CliError> {
    if g.json {
        return Ok(Look::default());
    }
    let timeless = matches!(
        command,
        Command::Completions { .. } | Command::Man | Command::ApplyWorker
    );
    Ok(Look {
        colour: colour_for(g),
        zone: if timeless { None } else { Some(zone(g)?) },
    })
}

/// `text` as `look` wants it: times in the zone, then status words coloured.
pub fn dress(text: &str, look: &Look, now_ms: i64) -> String {
    let text = match &look.zone {
        Some(z) => localise(text, z, now_ms),
        None => text.to_owned(),
    };
    if look.colour { paint(&text) } else { text }
}

/// The zone text output shows times in: UTC with `--utc`, else `CODEX_PROFILER_TZ`, else the
/// system's. A bad `CODEX_PROFILER_TZ` is a usage error (exit 2) naming the variable.
pub fn zone(g: &GlobalArgs) -> Result<Zone, CliError> {
    if g.utc {
        return Ok(Zone::utc());
    }
    Ok(Zone::system()?)
}

/// Whether text output is coloured: `always`; never with `never`; with `auto`, when stdout is
/// a terminal and `NO_COLOR` is unset or empty (<https://no-color.org>).
pub fn colour(choice: ColorArg, no_color: Option<&str>, stdout_is_terminal: bool) -> bool {
    match choice {
        ColorArg::Always => true,
        ColorArg::Never => false,
        ColorArg::Auto => stdout_is_terminal && no_color.is_none_or(str::is_empty),
    }
}

/// [`colour`] for this process.
pub fn colour_for(g: &GlobalArgs) -> bool {
    !g.json
        && colour(
            g.color,
            std::env::var("NO_COLOR").ok().as_deref(),
            std::io::stdout().is_terminal(),
        )
}

/// The style of a status word, if it is one.
fn style_of(word: &str) -> Option<Style> {
    let c = match word {
        "ok" | "usable" | "verified" | "yes" => AnsiColor::Green,
        "limited" | "expiring" | "refreshing" | "cooldown" | "warning" | "stale" => {
            AnsiColor::Yellow
        }
        "failed" | "expired" | "refresh_failed" | "blocked" | "disabled" | "error" | "missing"
        | "⚠" => AnsiColor::Red,
        _ => return None,
    };
    Some(c.on_default().bold())
}

/// `text` with each status word (usable, limited, failed, expired, ok, ...) coloured. Words
/// are whole: `ok` in `token` or `unblocked` is left alone.
pub fn paint(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        match style_of(word) {
            Some(s) => out.push_str(&format!("{}{word}{}", s.render(), s.render_reset())),
            None => out.push_str(word),
        }
        word.clear();
    };
    for ch in text.chars() {
        if ch.is_alphanumeric() || ch == '_' || ch == '⚠' {
            word.push(ch);
        } else {
            flush(&mut word, &mut out);
            out.push(ch);
        }
    }
    flush(&mut word, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_follows_the_terminal_and_no_color() {
        assert!(colour(ColorArg::Auto, None, true));
        assert!(!colour(ColorArg::Auto, None, false));
        assert!(!colour(ColorArg::Auto, Some("1"), true));
        // An empty NO_COLOR does not count (no-color.org).
        assert!(colour(ColorArg::Auto, Some(""), true));
        assert!(colour(ColorArg::Always, Some("1"), false));
        assert!(!colour(ColorArg::Never, None, true));
    }

    #[test]
    fn only_whole_status_words_are_painted() {
        let shown = paint("alice · ok · token expired · unblocked okay");
        assert!(
            shown.contains("\u{1b}[1m\u{1b}[32mok\u{1b}[0m"),
            "{shown:?}"
        );
        assert!(shown.contains("\u{1b}[31mexpired"), "{shown:?}");
        assert!(shown.contains(" unblocked okay"), "{shown:?}");
        assert_eq!(paint("nothing here"), "nothing here");
    }
}
