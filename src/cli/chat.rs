//! `bot` and `chat`.
use super::args::GlobalArgs;
use super::output::{CmdResult, not_built};
/// `codex-profiler bot`: the Telegram adapter owns everything behind this call.
pub fn bot(g: &GlobalArgs) -> CmdResult {
    crate::adapters::telegram::cli_main(g)
}
pub fn terminal(_g: &GlobalArgs) -> CmdResult {
    not_built("chat")
}
