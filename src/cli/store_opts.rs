//! The one place the global options become [`StoreOptions`] and an opened [`Store`]:
//! `--state-dir` / `OPENCLAW_STATE_DIR`, else `$HOME/.openclaw`; `--agent`; `--store`;
//! `--auth-path`. Every command that reads or writes the store calls [`open_store`].

use std::path::PathBuf;

use super::args::{GlobalArgs, StoreArg};
use super::output::CliError;
use crate::engine::store::{Store, StoreChoice, StoreFormat, StoreOptions};

/// Build the store options from the global arguments.
pub fn store_options(g: &GlobalArgs) -> Result<StoreOptions, CliError> {
    let state_dir = match &g.state_dir {
        Some(d) => d.clone(),
        None => match std::env::var_os("HOME").filter(|h| !h.is_empty()) {
            Some(home) => PathBuf::from(home).join(".openclaw"),
            None => {
                return Err(CliError::usage(
                    "HOME is not set: pass --state-dir or set OPENCLAW_STATE_DIR",
                ));
            }
        },
    };
    let agent = g.agent.trim();
    if agent.is_empty() || agent.contains(['/', '\\']) || agent == "." || agent == ".." {
        return Err(CliError::usage(format!(
            "`{}` is not an agent id",
            agent.chars().take(40).collect::<String>()
        )));
    }
    let choice = match g.store {
        StoreArg::Auto => StoreChoice::Auto,
        StoreArg::StateDb => StoreChoice::Force(StoreFormat::StateDb),
        StoreArg::AgentDb => StoreChoice::Force(StoreFormat::AgentDb),
        StoreArg::Json => StoreChoice::Force(StoreFormat::Json),
    };
    Ok(StoreOptions {
        state_dir,
        agent: agent.to_owned(),
        choice,
        auth_path: g.auth_path.clone(),
    })
}

/// Detect and open the store the global arguments name.
pub fn open_store(g: &GlobalArgs) -> Result<Store, CliError> {
    Ok(Store::open(store_options(g)?)?)
}
