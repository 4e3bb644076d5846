//! `profiles`: Codex profiles with local health.
use super::args::GlobalArgs;
use super::output::{CmdResult, not_built};
pub fn run(_g: &GlobalArgs) -> CmdResult {
    not_built("profiles")
}
