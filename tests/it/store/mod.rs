//! Integration tests of the auth-store engine and the `profiles` / `order get` commands,
//! against real SQLite files with OpenClaw's schema and real json files.

mod bad_input;
mod concurrency;
mod hostile;
mod json_files;
mod order;
mod order_truth;
mod read;
mod scale;
mod write;

use std::path::Path;

use codex_profiler::engine::store::{Store, StoreChoice, StoreFormat, StoreOptions};

/// Open the store in `state_dir` for `agent` with `choice`.
pub fn open(state_dir: &Path, agent: &str, choice: StoreChoice) -> Store {
    Store::open(StoreOptions {
        state_dir: state_dir.to_owned(),
        agent: agent.to_owned(),
        choice,
        auth_path: None,
    })
    .expect("open store")
}

/// Auto-detect for agent `main`.
pub fn open_auto(state_dir: &Path) -> Store {
    open(state_dir, "main", StoreChoice::Auto)
}

/// Shorthand for forcing a format.
pub fn forced(f: StoreFormat) -> StoreChoice {
    StoreChoice::Force(f)
}
