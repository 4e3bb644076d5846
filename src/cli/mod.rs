//! The `codex-profiler` command line: argument parsing (clap), rendering and exit codes only.
//! Every command is a thin call into [`crate::engine`] (or [`crate::adapters`] for `bot` and
//! `chat`); one file per command group.

mod args;
mod auth;
mod change;
mod chat;
mod order;
pub mod output;
mod profiles;
pub mod store_opts;
mod usage;

use std::process::ExitCode;

use clap::Parser;

pub use args::{Cli, Command, GlobalArgs};
/// The chat core's store options from the global flags (shared by `bot` and `chat`).
pub(crate) use chat::store_options as chat_store_options;
use output::Outcome;

/// Entry point of the binary: read `.env`, parse arguments, set up logging, run, exit.
pub fn main() -> ExitCode {
    // A `.env` file in the working directory is read, never required.
    let _ = dotenvy::dotenv();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            if !e.use_stderr() {
                // `--help` and `--version`.
                return ExitCode::SUCCESS;
            }
            // Scripts that asked for JSON get JSON even when the command line is wrong.
            if wants_json(std::env::args_os().skip(1)) {
                println!("{}", usage_error_json(&e.render().to_string()));
            }
            return ExitCode::from(2);
        }
    };
    init_logging();
    let outcome = run(cli);
    ExitCode::from(outcome.exit_code())
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
        Command::Usage(a) => usage::run(g, a),
        Command::Auth(cmd) => auth::run(g, cmd),
        Command::Retire(a) => change::retire(g, a),
        Command::Delete(a) => change::delete(g, a),
        Command::Backups(cmd) => change::backups(g, cmd),
        Command::Layers(a) => change::layers(g, a),
        Command::Doctor => change::doctor(g),
        Command::Bot => chat::bot(g),
        Command::Chat => chat::terminal(g),
        Command::ApplyWorker => change::apply_worker(g),
    };
    output::finish(g.json, result)
}
