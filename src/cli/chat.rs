//! `bot` and `chat`: build the conversation core from the environment and the global options,
//! and hand it to an adapter.

use std::sync::Arc;

use super::args::{GlobalArgs, StoreArg};
use super::output::{CliError, CmdResult, Report};
use crate::adapters::terminal;
use crate::chat::{ChatConfig, Conversation, StoreOptions};

/// The chat's store options from the global command-line options (which already fall back to
/// `OPENCLAW_STATE_DIR` and `OPENCLAW_AGENT`).
pub(crate) fn store_options(g: &GlobalArgs) -> StoreOptions {
    StoreOptions {
        state_dir: g.state_dir.clone(),
        agent: g.agent().to_owned(),
        format: match g.store {
            StoreArg::Auto => None,
            StoreArg::StateDb => Some("state-db".to_owned()),
            StoreArg::AgentDb => Some("agent-db".to_owned()),
            StoreArg::Json => Some("json".to_owned()),
        },
        auth_path: g.auth_path.clone(),
    }
}

/// `bot`: the Telegram adapter owns everything behind this call.
pub fn bot(g: &GlobalArgs) -> CmdResult {
    crate::adapters::telegram::cli_main(g)
}

/// `chat`: the conversation on stdin/stdout; the operator is the one admin, no buttons.
pub fn terminal(g: &GlobalArgs) -> CmdResult {
    let mut config = ChatConfig::from_env()?;
    config.store = store_options(g);
    config.inline_buttons = false;
    config.admins.insert(terminal::OPERATOR);
    let conversation = Conversation::new(config)?;
    let runtime = tokio::runtime::Runtime::new().map_err(|e| {
        CliError::runtime("runtime", format!("could not start the async runtime: {e}"))
    })?;
    // Someone typing gets a greeting; a script piping commands in does not.
    if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        println!("{}", crate::chat::render::text("terminal_banner"));
    }
    let stdin = tokio::io::BufReader::new(tokio::io::stdin());
    runtime
        .block_on(terminal::run(
            Arc::clone(&conversation),
            stdin,
            Box::new(std::io::stdout()),
        ))
        .map_err(|e| {
            CliError::runtime("terminal_io", format!("reading the terminal failed: {e}"))
        })?;
    Ok(Report::Text(String::new()))
}
