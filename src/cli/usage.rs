//! `usage`.
use super::args::{GlobalArgs, UsageArgs};
use super::output::{CmdResult, not_built};
pub fn run(_g: &GlobalArgs, _a: UsageArgs) -> CmdResult {
    not_built("usage")
}
