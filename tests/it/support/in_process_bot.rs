//! The real Telegram adapter run in-process over the fake Bot API with a given conversation
//! core: started once it polls, stopped cleanly, and the wire checked for secrets afterwards.

use std::sync::Arc;
use std::time::Duration;

use codex_profiler::adapters::telegram::{self, TelegramConfig, TelegramError};
use codex_profiler::chat::Conversation;
use tokio::sync::oneshot;

use crate::support::bot_api::{FakeBotApi, TOKEN};
use crate::support::cli::assert_no_secret_in;

/// A running adapter (`telegram::run`) and the means to stop it.
pub struct InProcessBot {
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), TelegramError>>,
}

impl InProcessBot {
    /// Run the adapter with `tg` over `conversation`; returns once it polls `api`.
    pub async fn start(
        api: &FakeBotApi,
        tg: TelegramConfig,
        conversation: Arc<Conversation>,
        wait: Duration,
    ) -> InProcessBot {
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(telegram::run(
            tg,
            Conversation::menu(),
            telegram::cli::handler(conversation),
            async move {
                let _ = stopped.await;
            },
        ));
        api.wait_calls("getUpdates", 1, wait).await;
        InProcessBot {
            stop: Some(stop),
            task,
        }
    }

    /// Stop it and wait (at most `wait`) for a clean stop; then no request body on `api`'s
    /// wire holds any of `secrets` or the bot token.
    pub async fn stop(&mut self, api: &FakeBotApi, secrets: &[&str], wait: Duration) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        tokio::time::timeout(wait, &mut self.task)
            .await
            .expect("stopped")
            .expect("join")
            .expect("clean stop");
        let mut all = secrets.to_vec();
        all.push(TOKEN);
        assert_no_secret_in(&api.wire_text(), &all);
    }
}
