//! `auth start|finish|device|status|import-codex-cli`.
use super::args::{AuthCmd, GlobalArgs};
use super::output::{CmdResult, not_built};
pub fn run(_g: &GlobalArgs, _c: AuthCmd) -> CmdResult {
    not_built("auth")
}
