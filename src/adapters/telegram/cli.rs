//! The `bot` command: read the environment, build the conversation core, run the adapter on
//! a multi-threaded runtime until SIGINT or SIGTERM, and exit 0 after a clean shutdown.

use std::sync::Arc;
use std::time::Duration;

use super::{Handler, TelegramConfig, TelegramError, run, shutdown_signal};
use crate::chat::transport::Menus;
use crate::chat::{ChatConfig, Conversation};
use crate::cli::GlobalArgs;
use crate::cli::output::{CliError, CmdResult, Report};

/// Entry point of `codex-profiler bot` (called from `cli::chat::bot`).
pub fn cli_main(g: &GlobalArgs) -> CmdResult {
    let config = TelegramConfig::from_env()?;
    let (menu, handler) = conversation(g)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| TelegramError::Runtime(e.to_string()))?;
    let result = runtime.block_on(async move {
        // Install the signal handlers before anything else can take time.
        let shutdown = shutdown_signal();
        run(config, menu, handler, shutdown).await
    });
    // Handlers cut short by the grace period are dropped here, not waited for.
    runtime.shutdown_timeout(Duration::from_secs(1));
    result?;
    Ok(Report::Text("Telegram bot stopped.".to_owned()))
}

/// The conversation core as a [`Handler`], with its command menu. The store options come
/// from the global flags (which fall back to `OPENCLAW_STATE_DIR`/`OPENCLAW_AGENT`), exactly
/// as for `codex-profiler chat`.
fn conversation(g: &GlobalArgs) -> Result<(Menus, Handler), CliError> {
    let mut config = ChatConfig::from_env()?;
    config.store = crate::cli::chat_store_options(g);
    if !config.has_admin() {
        return Err(TelegramError::NoAdmin.into());
    }
    let conversation = Conversation::new(config)?;
    Ok((conversation.menus(), handler(conversation)))
}

/// Wrap the conversation core as the adapter's [`Handler`].
pub fn handler(conversation: Arc<Conversation>) -> Handler {
    Arc::new(move |event, transport| {
        let conversation = Arc::clone(&conversation);
        Box::pin(async move { conversation.handle(event, transport).await })
    })
}
