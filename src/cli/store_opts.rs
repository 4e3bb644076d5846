//! The one place the global options become [`StoreOptions`] and an opened [`Store`]:
//! `--state-dir` / `OPENCLAW_STATE_DIR`, else `$HOME/.openclaw`; `--agent`; `--store`;
//! `--auth-path`. Every command that reads or writes the store calls [`open_store`].

use super::args::{GlobalArgs, StoreArg};
use super::output::CliError;
use crate::engine::store::{Store, StoreChoice, StoreFormat, StoreOptions};

/// Build the store options from the global arguments.
pub fn store_options(g: &GlobalArgs) -> Result<StoreOptions, CliError> {
    let choice = match g.store {
        StoreArg::Auto => StoreChoice::Auto,
        StoreArg::StateDb => StoreChoice::Force(StoreFormat::StateDb),
        StoreArg::AgentDb => StoreChoice::Force(StoreFormat::AgentDb),
        StoreArg::Json => StoreChoice::Force(StoreFormat::Json),
    };
    Ok(StoreOptions::resolve(
        g.state_dir.clone(),
        g.agent(),
        choice,
        g.auth_path.clone(),
    )?)
}

/// Detect and open the store the global arguments name.
pub fn open_store(g: &GlobalArgs) -> Result<Store, CliError> {
    Ok(Store::open(store_options(g)?)?)
}
