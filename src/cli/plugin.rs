//! `plugin-host` (the conversation behind the OpenClaw plugin, on stdin/stdout) and
//! `openclaw-plugin install` (puts the plugin into a gateway and points it at this binary).

use std::sync::Arc;

use super::args::{GlobalArgs, PluginInstallArgs};
use super::chat::store_options;
use super::output::{CliError, CmdResult, Report};
use crate::adapters::plugin_host::{self, HostError};
use crate::chat::{ChatConfig, Conversation};

/// `plugin-host`: the gateway vouches for every sender, so no admin list is needed.
pub fn host(g: &GlobalArgs) -> CmdResult {
    let mut config = ChatConfig::from_env()?;
    config.store = store_options(g);
    let conversation = Conversation::new(config)?;
    let runtime = tokio::runtime::Runtime::new().map_err(|e| {
        CliError::runtime("runtime", format!("could not start the async runtime: {e}"))
    })?;
    let stdin = tokio::io::BufReader::new(tokio::io::stdin());
    let outcome = runtime.block_on(plugin_host::run(
        Arc::clone(&conversation),
        stdin,
        Box::new(std::io::stdout()),
    ));
    // Device logins still waiting end with the process; the plugin says so to their users.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    match outcome {
        Ok(()) => Ok(Report::Text(String::new())),
        Err(e @ HostError::Mismatch(_)) => Err(CliError::usage(e.to_string())),
        Err(e @ HostError::Io(_)) => Err(CliError::runtime("plugin_pipe", e.to_string())),
    }
}

/// `openclaw-plugin install`.
pub fn install(g: &GlobalArgs, a: PluginInstallArgs) -> CmdResult {
    let _ = (g, a);
    super::output::not_built("openclaw-plugin install")
}
