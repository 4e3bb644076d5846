//! `retire`, `delete`, `backups`, `layers`, `doctor`.
use super::args::{BackupsCmd, DeleteArgs, GlobalArgs, LayersArgs, RetireArgs};
use super::output::{CmdResult, not_built};
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
