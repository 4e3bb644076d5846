//! The conversation core for the benchmark, once the `chat` branch is merged.

use codex_profiler::adapters::telegram::Handler;

/// A conversation core configured for the bench.
pub struct Conversation;

impl Conversation {
    /// The command menu and the core as a handler.
    pub async fn handler(&self) -> (Vec<(String, String)>, Handler) {
        unreachable!("no conversation core in this build")
    }
}

/// Set up the fixture store, usage server address and environment; `None` until the core exists.
pub fn setup() -> Option<Conversation> {
    None
}
