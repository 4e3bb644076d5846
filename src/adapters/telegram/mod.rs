//! The Telegram adapter (`codex-profiler bot`): teloxide on the wire, the shared conversation
//! core for everything said.
//!
//! # Layout
//! - [`config`]: `TELEGRAM_*` and friends, parsed once into [`TelegramConfig`].
//! - [`updates`]: a teloxide `Update` → the seam's `Incoming` (pure).
//! - [`dispatch`]: per-user ordered, cross-user concurrent workers; graceful drain.
//! - [`polling`] / [`webhook`]: where updates come from.
//! - [`transport`]: `chat::transport::Transport` over a teloxide `Bot`.
//! - [`retry`]: 429 `retry_after` on every call, "not modified" as success, token scrubbing.
//! - [`startup`]: `getMe` with backoff (only a refused token stops the bot), the command
//!   menu published in the background.
//! - [`trim`]: freed memory back to the system after a burst of requests.
//! - [`cli`]: the `bot` command: environment, conversation core, signals, exit code.
//!
//! # Invariants
//! - The bot token is a `redact::Secret` until teloxide needs it; every error that leaves this
//!   module went through [`retry::scrub_token`].
//! - Every callback query is answered exactly once: by the core, or here when the core cannot
//!   take it (a tap without a message).

pub mod cli;
pub mod config;
pub mod dispatch;
pub mod polling;
pub mod retry;
pub mod startup;
pub mod transport;
pub mod trim;
pub mod updates;
pub mod webhook;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use teloxide::Bot;
use teloxide::prelude::Requester;
use teloxide::requests::Request;
use teloxide::types::{BotCommand, BotCommandScope, ChatId, Recipient, Update};
use url::Url;

pub use cli::cli_main;
pub use config::{TelegramConfig, UpdateSource};
pub use dispatch::{DEFAULT_IDLE, Dispatch, Handler};
pub use transport::TelegramTransport;

use crate::chat::transport::Menus;
use crate::engine::{Failure, FailureKind};

/// Why the bot could not start or run. Each message is one sentence without a secret.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TelegramError {
    /// `TELEGRAM_BOT_TOKEN` is missing.
    #[error(
        "TELEGRAM_BOT_TOKEN is not set: set it to the token @BotFather gave your bot (and CODEX_PROFILER_ADMINS to your Telegram user id), or use `codex-profiler chat`, which needs no token"
    )]
    NoToken,
    /// No admin configured.
    #[error(
        "CODEX_PROFILER_ADMINS is not set: the bot refuses to start without an admin; set it to your Telegram user id (comma-separated for several)"
    )]
    NoAdmin,
    /// A setting has a value we cannot use.
    #[error("{name} {why}")]
    BadSetting {
        /// The variable.
        name: &'static str,
        /// What is wrong with it.
        why: &'static str,
    },
    /// The Bot API refused a start-up call (the webhook registration).
    #[error("the Telegram Bot API did not accept the bot: {0}")]
    Startup(String),
    /// `getMe` answered 401: the token is wrong or revoked.
    #[error(
        "the bot token was refused (401): check TELEGRAM_BOT_TOKEN against the token @BotFather shows for your bot"
    )]
    TokenRefused,
    /// The HTTP client for the Bot API could not be built.
    #[error("the HTTP client for the Telegram Bot API could not be set up")]
    HttpClient,
    /// The webhook server could not listen.
    #[error("cannot listen for the webhook on {addr}: {reason}")]
    WebhookBind {
        /// The address.
        addr: SocketAddr,
        /// The OS's reason.
        reason: String,
    },
    /// The conversation core refused its configuration.
    #[error("{0}")]
    Chat(String),
    /// The async runtime could not start.
    #[error("cannot start the async runtime: {0}")]
    Runtime(String),
}

impl Failure for TelegramError {
    fn kind(&self) -> FailureKind {
        match self {
            TelegramError::NoToken | TelegramError::NoAdmin | TelegramError::BadSetting { .. } => {
                FailureKind::Usage
            }
            _ => FailureKind::Runtime,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            TelegramError::NoToken => "no_bot_token",
            TelegramError::NoAdmin => "no_admin",
            TelegramError::BadSetting { .. } => "bad_setting",
            TelegramError::Startup(_) => "bot_api_refused",
            TelegramError::TokenRefused => "bot_token_refused",
            TelegramError::HttpClient => "http_client",
            TelegramError::WebhookBind { .. } => "webhook_bind",
            TelegramError::Chat(_) => "chat_config",
            TelegramError::Runtime(_) => "runtime",
        }
    }
}

/// Telegram's own Bot API server, when `TELEGRAM_API_URL` is not set.
pub const DEFAULT_API_URL: &str = "https://api.telegram.org/";

/// Connections to the Bot API kept open between calls: as many as the transport puts on the
/// wire at once ([`transport::MAX_IN_FLIGHT`]), so a burst of replies reuses them. Keeping
/// one per reply of a burst of 1,000 (teloxide's default) held their buffers (~25 KiB each,
/// `benches/chat`); keeping 8 made every burst open and close a connection per reply.
pub const IDLE_CONNECTIONS: usize = 32;

/// Build the teloxide `Bot` for `config` (the only place the token leaves its `Secret`). Its
/// HTTP client comes from [`crate::engine::http::builder`]: the token is in every request's
/// path, so a loopback `TELEGRAM_API_URL` is never reached through a proxy. Timeouts are
/// teloxide's defaults (the client's 17 s outlasts the long poll's wait).
pub fn bot_for(config: &TelegramConfig) -> Result<Bot, TelegramError> {
    let api_url = match &config.api_url {
        Some(url) => url.clone(),
        None => Url::parse(DEFAULT_API_URL).map_err(|_| TelegramError::HttpClient)?,
    };
    let client = crate::engine::http::builder(&api_url)
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(17))
        .tcp_nodelay(true)
        .pool_max_idle_per_host(IDLE_CONNECTIONS)
        .build()
        .map_err(|_| TelegramError::HttpClient)?;
    Ok(Bot::with_client(config.token.expose_secret().clone(), client).set_api_url(api_url))
}

/// Run the bot until `shutdown` resolves: check the token with `getMe` (retried while the
/// server is unreachable; only a refused token is an error), publish the menus with
/// `setMyCommands` in the background (everyone's, then each admin's chat scope), take updates
/// (polling or webhook), hand them to `handler`, then drain in-flight handlers for at most
/// `config.shutdown_grace`.
pub async fn run(
    config: TelegramConfig,
    menu: impl Into<Menus>,
    handler: Handler,
    shutdown: impl Future<Output = ()>,
) -> Result<(), TelegramError> {
    run_with(config, menu, handler, None, shutdown).await
}

/// Work the bot runs beside its updates once the token is accepted (the watcher): handed the
/// transport and a shutdown flag that turns true when the bot stops; awaited for at most the
/// shutdown grace.
pub type Background = Box<
    dyn FnOnce(
            Arc<dyn crate::chat::transport::Transport>,
            tokio::sync::watch::Receiver<bool>,
        ) -> crate::chat::transport::BoxFuture<'static, ()>
        + Send,
>;

/// [`run`], with `background` work (the watcher) running beside the updates.
pub async fn run_with(
    config: TelegramConfig,
    menu: impl Into<Menus>,
    handler: Handler,
    background: Option<Background>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), TelegramError> {
    let menus: Menus = menu.into();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let shutdown = async move {
        shutdown.await;
        let _ = stop.send(true);
    };
    tokio::pin!(shutdown);
    let token = Arc::new(config.token.clone());
    let bot = bot_for(&config)?;
    let transport = Arc::new(TelegramTransport::new(
        bot.clone(),
        token.clone(),
        config.inline_buttons,
    ));
    let commands = |menu: Vec<(String, String)>| -> Vec<BotCommand> {
        menu.into_iter()
            .map(|(command, description)| BotCommand {
                command: command.trim_start_matches('/').to_owned(),
                description,
            })
            .collect()
    };
    let mut scoped = vec![(BotCommandScope::Default, commands(menus.everyone))];
    for (admin, menu) in menus.admins {
        let chat_id = Recipient::Id(ChatId(i64::try_from(admin.0).unwrap_or(i64::MAX)));
        scoped.push((BotCommandScope::Chat { chat_id }, commands(menu)));
    }
    if !startup::check_token(&bot, &token, &mut shutdown).await? {
        tracing::info!("stopped during start-up");
        return Ok(());
    }
    let menu_task = startup::publish_menus(bot.clone(), token.clone(), scoped);
    let side = background.map(|work| tokio::spawn(work(transport.clone(), stopped)));
    let result = take_updates(&config, &bot, &token, handler, transport, shutdown).await;
    menu_task.abort();
    if let Some(task) = side {
        // The watcher stops at its next step; a delivery in flight may finish.
        let abort = task.abort_handle();
        if tokio::time::timeout(config.shutdown_grace, task)
            .await
            .is_err()
        {
            abort.abort();
            tracing::warn!("the watcher was still busy at shutdown and was cut short");
        }
    }
    result
}

/// Take updates until `shutdown`, then drain.
async fn take_updates(
    config: &TelegramConfig,
    bot: &Bot,
    token: &redact::Secret<String>,
    handler: Handler,
    transport: Arc<TelegramTransport>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), TelegramError> {
    let dispatch = Dispatch::new(handler, transport, DEFAULT_IDLE);
    let trimmer = tokio::spawn(trim::run(dispatch.handled()));
    let result = take_from(config, bot, token, &dispatch, shutdown).await;
    trimmer.abort();
    result
}

/// Take updates from the configured source into `dispatch` until `shutdown`, then drain.
async fn take_from(
    config: &TelegramConfig,
    bot: &Bot,
    token: &redact::Secret<String>,
    dispatch: &Dispatch,
    shutdown: impl Future<Output = ()>,
) -> Result<(), TelegramError> {
    match &config.source {
        UpdateSource::Polling => {
            tracing::info!("taking updates by long polling");
            let offset = polling::run(bot, token, config.poll_timeout, dispatch, shutdown).await;
            tracing::info!("shutting down: finishing in-flight requests");
            let drained = dispatch.shutdown(config.shutdown_grace).await;
            if let Some(offset) = offset {
                polling::confirm(bot, token, offset).await;
            }
            log_drain(drained);
        }
        UpdateSource::Webhook { url, listen } => {
            tracing::info!(%listen, "taking updates by webhook");
            webhook::run(bot, token, url, *listen, dispatch, shutdown).await?;
            tracing::info!("shutting down: finishing in-flight requests");
            log_drain(dispatch.shutdown(config.shutdown_grace).await);
        }
    }
    Ok(())
}

fn log_drain(drained: bool) {
    if drained {
        tracing::info!("all requests finished; bye");
    } else {
        tracing::warn!("some requests were still running at shutdown and were cut short");
    }
}

/// Remove any webhook (polling needs none; webhook mode removes its own at shutdown). A
/// failure is logged, not fatal: the next call says what is really wrong.
async fn delete_webhook(bot: &Bot, token: &redact::Secret<String>) {
    let _ = retry::call(
        "deleteWebhook",
        token,
        || (),
        || {
            let req = bot.delete_webhook();
            async move { req.send().await.map(|_| ()) }
        },
    )
    .await;
}

/// Hand one update to its user's worker, or answer a tap the core cannot take.
fn deliver(dispatch: &Dispatch, update: &Update) {
    match updates::route(update) {
        updates::Routed::Event(user, event) => {
            if !dispatch.dispatch(user, event) {
                tracing::debug!("update arrived during shutdown; dropped");
            }
        }
        updates::Routed::AnswerOnly(id) => {
            let transport = dispatch.transport().clone();
            dispatch.spawn_detached(Box::pin(async move {
                let _ = transport.answer_callback(&id, None).await;
            }));
        }
        updates::Routed::Ignore => {}
    }
}

/// Resolves on the first SIGINT or SIGTERM. The handlers are installed when this is called
/// (inside a runtime), not when first polled, so a signal during start-up (`setMyCommands`)
/// is not fatal: it is kept and ends the bot cleanly as soon as updates are taken.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let term = signal(SignalKind::terminate());
        let int = signal(SignalKind::interrupt());
        async move {
            match (term, int) {
                (Ok(mut term), Ok(mut int)) => {
                    tokio::select! {
                        _ = term.recv() => {}
                        _ = int.recv() => {}
                    }
                }
                // No signal driver: Ctrl-C is still honoured.
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
