//! `bot` and `chat`.
use super::args::GlobalArgs;
use super::output::{CmdResult, not_built};
pub fn bot(_g: &GlobalArgs) -> CmdResult {
    not_built("bot")
}
pub fn terminal(_g: &GlobalArgs) -> CmdResult {
    not_built("chat")
}
