//! `retire`, `delete`, `backups`, `layers`, `doctor`, and `order set|clear` (routed here from
//! `order.rs`): parse flags into engine types, call [`crate::engine::change`], render.
use super::args::{BackupsCmd, DeleteArgs, GlobalArgs, LayersArgs, RetireArgs};
use super::output::{CliError, CmdResult, Report, not_built};
use crate::engine::change::queue;

pub fn retire(_g: &GlobalArgs, _a: RetireArgs) -> CmdResult {
    not_built("retire")
}
pub fn delete(_g: &GlobalArgs, _a: DeleteArgs) -> CmdResult {
    not_built("delete")
}
pub fn backups(_g: &GlobalArgs, _c: BackupsCmd) -> CmdResult {
    not_built("backups")
}
pub fn layers(_g: &GlobalArgs, _a: LayersArgs) -> CmdResult {
    not_built("layers")
}
pub fn doctor(_g: &GlobalArgs) -> CmdResult {
    not_built("doctor")
}
pub fn order_set(_g: &GlobalArgs, _a: super::args::OrderSetArgs) -> CmdResult {
    not_built("order set")
}
pub fn order_clear(_g: &GlobalArgs, _a: super::args::MutationArgs) -> CmdResult {
    not_built("order clear")
}

/// The hidden `__apply-worker`: run the queued gateway restarts for `--state-dir`.
pub fn apply_worker(g: &GlobalArgs) -> CmdResult {
    let state_dir = g
        .state_dir
        .clone()
        .ok_or_else(|| CliError::usage("the apply worker needs --state-dir"))?;
    queue::run_worker(&state_dir)?;
    Ok(Report::Text(String::new()))
}
