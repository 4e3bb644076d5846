//! The `codex-profiler` command line: argument parsing (clap), rendering and exit codes only.
//! Every command is a thin call into [`crate::engine`] (or [`crate::adapters`] for `bot` and
//! `chat`); one file per command group.

mod args;
mod auth;
mod change;
mod chat;
mod completions;
mod dotenv;
mod order;
mod order_auto;
pub mod output;
mod paste;
mod profiles;
mod rotation;
mod stack;
pub mod store_opts;
mod unblock;
mod usage;
mod usage_history;

use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser;

pub use args::{Cli, Command, GlobalArgs};
/// The chat core's store options from the global flags (shared by `bot` and `chat`).
pub(crate) use chat::store_options as chat_store_options;
use output::Outcome;

/// Entry point of the binary: read `.env`, parse arguments, set up logging, run, exit.
pub fn main() -> ExitCode {
    // A `.env` file in the working directory is read when it is safe to, never required;
    // before any thread exists, as is the stack set-up.
    dotenv::load();
    stack::run(main_on_large_stack)
}

fn main_on_large_stack() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            let argv = std::env::args_os().map(|a| a.to_string_lossy().into_owned());
            let text = scrub_usage_error(&e.render().to_string(), argv);
            if wants_json(std::env::args_os().skip(1)) {
                // Scripts asked for JSON: the same document every other error gives.
                let _ = writeln!(std::io::stdout(), "{}", usage_error_json(&text));
            }
            let _ = write!(std::io::stderr(), "{text}");
            return ExitCode::from(2);
        }
        Err(e) => {
            // `--help` and `--version`: our own text, nothing from the command line.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
    };
    let mut cli = cli;
    cli.global.fill_from_env(|k| std::env::var(k).ok());
    init_logging();
    let outcome = run(cli);
    ExitCode::from(outcome.exit_code())
}

/// clap quotes the offending word in its errors, and a user who forgets `--callback-url`
/// (`auth finish --profile a 'http://localhost:1455/auth/callback?code=…'`) or misspells it
/// would see the code and state echoed on stderr, in their terminal and shell logs. Every
/// command-line word that could be a secret (a query, a `code#state`, a JWT, a long token-like
/// word) is taken out of the message.
fn scrub_usage_error(message: &str, argv: impl Iterator<Item = String>) -> String {
    let mut hidden: Vec<String> = argv.skip(1).filter(|w| could_be_secret(w)).collect();
    // Longest first, so a word is hidden whole before any part of it.
    hidden.sort_by_key(|w| std::cmp::Reverse(w.len()));
    let refs: Vec<&str> = hidden.iter().map(String::as_str).collect();
    crate::secret::scrub(message, &refs)
}

fn could_be_secret(word: &str) -> bool {
    word.contains(['=', '#', '?', '&'])
        || word.contains("eyJ")
        || (word.len() >= 24 && !word.starts_with('-') && !word.contains(['/', ' ']))
}

/// Whether `--json` is among the arguments (before a `--`), for errors clap raises before
/// the flag is parsed.
fn wants_json(args: impl Iterator<Item = std::ffi::OsString>) -> bool {
    args.take_while(|a| a != "--").any(|a| a == "--json")
}

/// `{"ok":false,"error":"usage","message":...}` from clap's rendered error: its first line,
/// without the `error: ` prefix.
fn usage_error_json(rendered: &str) -> String {
    let first = rendered.lines().next().unwrap_or_default().trim();
    let message = first.strip_prefix("error:").unwrap_or(first).trim();
    serde_json::json!({"ok": false, "error": "usage", "message": message}).to_string()
}

/// Logs go to stderr, filtered by `RUST_LOG` (default `warn`). Log lines never carry secrets:
/// every secret is a `redact::Secret` whose `Debug`/`Display` print `[REDACTED]`.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, not in captured or piped logs.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .try_init();
}

/// Run a parsed command line and report the outcome on stdout/stderr.
pub fn run(cli: Cli) -> Outcome {
    let g = &cli.global;
    let result = match cli.command {
        Command::Profiles => profiles::run(g),
        Command::Order(cmd) => order::run(g, cmd),
        Command::Usage(mut a) => match a.cmd.take() {
            Some(args::UsageCmd::History(h)) => usage_history::run(g, h),
            None => usage::run(g, a),
        },
        Command::Auth(cmd) => auth::run(g, cmd),
        Command::Retire(a) => change::retire(g, a),
        Command::Delete(a) => change::delete(g, a),
        Command::Unblock(a) => unblock::run(g, a),
        Command::Backups(cmd) => change::backups(g, cmd),
        Command::Layers(a) => change::layers(g, a),
        Command::Doctor => change::doctor(g),
        Command::Rotation(a) => rotation::run(g, a),
        Command::Bot => chat::bot(g),
        Command::Chat => chat::terminal(g),
        Command::Completions { shell } => completions::completions(shell),
        Command::Man => completions::man(),
        Command::ApplyWorker => change::apply_worker(g),
    };
    output::finish(g.json, result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> impl Iterator<Item = String> {
        std::iter::once("codex-profiler")
            .chain(words.iter().copied())
            .map(str::to_owned)
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn usage_errors_never_echo_a_pasted_callback() {
        let url = "http://localhost:1455/auth/callback?code=ac_SECRET123456&state=deadbeefcafe";
        for pasted in [
            url,
            "ac_SECRET123456#deadbeefcafe",
            "ac_SECRET123456deadbeefcafe00",
        ] {
            let words = ["auth", "finish", "--profile", "a", pasted];
            let err = Cli::try_parse_from(argv(&words)).expect_err("a stray positional");
            let raw = err.render().to_string();
            assert!(raw.contains("SECRET123456"), "clap quotes it: {raw}");
            let shown = scrub_usage_error(&raw, argv(&words));
            assert!(!shown.contains("SECRET123456"), "{shown}");
            assert!(!shown.contains("deadbeefcafe"), "{shown}");
            assert!(shown.contains("unexpected argument"), "{shown}");
        }
    }

    #[test]
    fn ordinary_usage_errors_keep_their_words() {
        let words = ["usage", "--timeout-sec", "abc"];
        let err = Cli::try_parse_from(argv(&words)).expect_err("not a number");
        let shown = scrub_usage_error(&err.render().to_string(), argv(&words));
        assert!(shown.contains("'abc'"), "{shown}");
    }

    #[test]
    fn yes_is_an_alias_of_confirm_wherever_one_is_asked() {
        for flag in ["--confirm", "--yes"] {
            let cli = Cli::try_parse_from(argv(&["backups", "restore", "b1", flag])).unwrap();
            assert!(
                matches!(
                    cli.command,
                    Command::Backups(args::BackupsCmd::Restore { confirm: true, .. })
                ),
                "{flag}"
            );
            let cli = Cli::try_parse_from(argv(&["delete", "bob", flag])).unwrap();
            assert!(
                matches!(
                    cli.command,
                    Command::Delete(args::DeleteArgs { confirm: true, .. })
                ),
                "{flag}"
            );
        }
    }
}
