//! The `bot` command: read the environment, build the conversation core, run the adapter on
//! a multi-threaded runtime until SIGINT or SIGTERM, and exit 0 after a clean shutdown.

use std::sync::Arc;
use std::time::Duration;

use super::{Background, Handler, TelegramConfig, TelegramError, run_with, shutdown_signal};
use crate::chat::transport::{BoxFuture, Transport};
use crate::chat::{ChatConfig, Conversation};
use crate::cli::GlobalArgs;
use crate::cli::output::{CliError, CmdResult, Report};
use crate::engine::history::Retention;
use crate::engine::usage::{UsageChecker, UsageOptions};
use crate::engine::watch::{ChangeSet, Sink, WatchConfig, Watcher};

/// Entry point of `codex-profiler bot` (called from `cli::chat::bot`).
pub fn cli_main(g: &GlobalArgs) -> CmdResult {
    let config = TelegramConfig::from_env()?;
    let (menu, conversation, watcher) = conversation(g)?;
    let handler = handler(Arc::clone(&conversation));
    let background = watcher.map(|w| watch_task(w, conversation));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| TelegramError::Runtime(e.to_string()))?;
    let result = runtime.block_on(async move {
        // Install the signal handlers before anything else can take time.
        let shutdown = shutdown_signal();
        run_with(config, menu, handler, background, shutdown).await
    });
    // Handlers cut short by the grace period are dropped here, not waited for.
    runtime.shutdown_timeout(Duration::from_secs(1));
    result?;
    Ok(Report::Text("Telegram bot stopped.".to_owned()))
}

/// The conversation core with its command menu, and the watcher unless
/// `CODEX_PROFILER_WATCH_INTERVAL=0`. The store options come from the global flags (which
/// fall back to `OPENCLAW_STATE_DIR`/`OPENCLAW_AGENT`), exactly as for `codex-profiler chat`;
/// the watcher checks with the chat's usage settings.
type Parts = (
    crate::chat::transport::Menus,
    Arc<Conversation>,
    Option<Watcher>,
);

fn conversation(g: &GlobalArgs) -> Result<Parts, CliError> {
    let mut config = ChatConfig::from_env()?;
    config.store = crate::cli::chat_store_options(g);
    if !config.has_admin() {
        return Err(TelegramError::NoAdmin.into());
    }
    let watch = WatchConfig::from_env().map_err(|e| CliError::usage(e.to_string()))?;
    let watcher = if watch.enabled() {
        let url = crate::engine::endpoint::usage_url(config.usage_url.as_deref())?;
        let mut usage = UsageOptions::new(url);
        usage.timeout = config.usage_timeout;
        usage.retries = config.usage_retries;
        usage.concurrency = config.usage_concurrency;
        Some(Watcher {
            store: crate::cli::store_opts::store_options(g)?,
            checker: UsageChecker::new(usage)?,
            config: watch,
            retention: Retention::parse(config.history_days.as_deref())
                .map_err(|e| CliError::usage(e.to_string()))?,
        })
    } else {
        None
    };
    let conversation = Conversation::new(config)?;
    Ok((conversation.menus(), conversation, watcher))
}

/// Delivers each change set to the admins through the conversation core.
struct Notify {
    conversation: Arc<Conversation>,
    transport: Arc<dyn Transport>,
}

impl Sink for Notify {
    fn deliver<'a>(&'a mut self, changes: &'a ChangeSet) -> BoxFuture<'a, bool> {
        Box::pin(
            self.conversation
                .notify(changes, Arc::clone(&self.transport)),
        )
    }
}

/// The watcher as the bot's background work.
fn watch_task(watcher: Watcher, conversation: Arc<Conversation>) -> Background {
    Box::new(move |transport, stopped| {
        Box::pin(async move {
            tracing::info!(
                interval_s = watcher.config.interval.as_secs(),
                "watcher started"
            );
            let mut sink = Notify {
                conversation,
                transport,
            };
            watcher.run(&mut sink, stopped).await;
            tracing::info!("watcher stopped");
        })
    })
}

/// Wrap the conversation core as the adapter's [`Handler`].
pub fn handler(conversation: Arc<Conversation>) -> Handler {
    Arc::new(move |event, transport| {
        let conversation = Arc::clone(&conversation);
        Box::pin(async move { conversation.handle(event, transport).await })
    })
}
