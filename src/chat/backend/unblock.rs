//! The chat's unblock (the watcher's button) over the engine's one entry point,
//! [`change::unblock::unblock`]: the usage endpoint confirms the quota is back, then the
//! change pipeline clears the block with a backup. Also the one place a change report
//! becomes a chat's [`ChangeDone`].

use crate::chat::backend::{BackendResult, ChangeDone};
use crate::engine::change::unblock::UsageGate;
use crate::engine::change::{self, ExecuteOptions};
use crate::engine::profile::ProfileId;
use crate::engine::store::{self, Store};
use crate::engine::usage::UsageChecker;

use super::engine::fail;

/// Clear `id`'s block after the usage endpoint says its quota is back. The store work is
/// one short transaction or file replace, done in place as every engine change is.
pub(super) async fn unblock(
    opts: store::StoreOptions,
    checker: &UsageChecker,
    id: ProfileId,
) -> BackendResult<ChangeDone> {
    let store = Store::open(opts).map_err(fail)?;
    // No `openclaw` command clears a block: always written directly.
    let exec = ExecuteOptions {
        dry_run: false,
        action: "unblock",
        via_gateway: false,
        queue_apply: false,
        before_apply: None,
    };
    let r = change::unblock::unblock(&store, &id, UsageGate::Check(checker), &exec)
        .await
        .map_err(fail)?;
    Ok(ChangeDone::from_report(id.to_string(), &r))
}
