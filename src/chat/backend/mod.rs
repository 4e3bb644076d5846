//! The conversation's only door into the engine. [`Backend`] lists the few things a chat can
//! ask for, in chat-shaped types (labels, rendered usage lines, outcomes); [`EngineBackend`]
//! implements it with the real engine, and nothing else under `chat` imports the engine's
//! internals. Tests may hand the conversation another implementation.

use std::time::Duration;

use crate::chat::transport::{BoxFuture, UserId};
use crate::engine::profile::ProfileId;
use crate::engine::rotation::Rotation;
use crate::engine::{Failure, FailureKind};

mod agent_memory;
mod engine;
mod history;
mod order;
mod unblock;
mod unresolved;
pub mod wording;

use crate::secret::Secret;
pub use engine::EngineBackend;
pub use engine::admin::{
    BACKUP_OF_OTHER_STORE, BackupView, DoctorReport, FixOutcome, LayersReport, NO_SUCH_BACKUP,
    Remedy, RestorePreview,
};
pub use history::HistoryChart;
pub use order::{OrderChange, OrderMember, OrderOutcome, OrderView};

/// An engine failure on its way into a chat message: one sentence, already scrubbed.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("{message}")]
pub struct BackendError {
    /// What kind of failure (decides the wording around it).
    pub kind: FailureKind,
    /// Stable code, for logs.
    pub code: &'static str,
    /// One clear sentence with no secret in it.
    pub message: String,
}

impl BackendError {
    /// Build from any engine failure, scrubbing the sentence once more on the way, with its
    /// command-line hints replaced by the chat's action ([`wording::for_chat`]).
    pub fn from_failure(e: &dyn Failure) -> BackendError {
        let message = crate::secret::scrub_patterns(&e.to_string());
        BackendError {
            kind: e.kind(),
            code: e.code(),
            message: wording::for_chat(e.code(), &message),
        }
    }

    /// A runtime failure with a fixed sentence.
    pub fn runtime(code: &'static str, message: impl Into<String>) -> BackendError {
        BackendError {
            kind: FailureKind::Runtime,
            code,
            message: message.into(),
        }
    }
}

impl Failure for BackendError {
    fn kind(&self) -> FailureKind {
        self.kind
    }
    fn code(&self) -> &'static str {
        self.code
    }
}

/// What an engine call returns.
pub type BackendResult<T> = Result<T, BackendError>;

/// One Codex profile as a chat shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileView {
    /// The profile id.
    pub id: ProfileId,
    /// What users read: the email, else the id's name, told apart from the store's other
    /// profiles (plan and short account id) where they would read the same
    /// ([`crate::engine::label`]). Sent back as a selector, it names this profile.
    pub label: String,
    /// The plan, when known.
    pub plan: Option<String>,
    /// Token status word (`ok`, `expiring`, `expired`, `refreshing`, `refresh_failed`, ...).
    pub status: String,
    /// Token expiry, RFC 3339.
    pub expires_at: Option<String>,
    /// Whether it is in the effective order.
    pub in_order: bool,
    /// Whether it is the provider's `lastGood`.
    pub last_good: bool,
    /// Cooldown/blocked/disabled end, RFC 3339, if in the future.
    pub unusable_until: Option<String>,
    /// The gateway's error count.
    pub error_count: u64,
}

/// A usage check's result, ready to show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UsageReport {
    /// One line per profile, each reset in the operator's zone too
    /// (`alice@example.com · plus · 5h 42% left (resets 14:25 IST, in 2h 13m) · ...`).
    pub lines: Vec<String>,
    /// How many profiles answered.
    pub ok_count: usize,
    /// How many failed.
    pub failed_count: usize,
    /// Of those that answered, how many can be used now.
    pub usable_count: usize,
    /// Of those that answered, how many have a limit reached.
    pub limited_count: usize,
    /// The forecast after this check, one line per profile then the pool's; empty when the
    /// history could not be used.
    pub forecast: Vec<String>,
}

/// A PKCE login that was started. Its `Debug` hides the URL, as the engine's `Started` does.
#[derive(Clone)]
pub struct LoginStarted {
    /// The profile id the login will write.
    pub profile: String,
    /// The authorize URL to open. It carries the state, which proves the finish comes from
    /// this login: show it to the requester only, and never log it.
    pub authorize_url: String,
    /// When the pending login expires.
    pub expires_in: Duration,
}

impl std::fmt::Debug for LoginStarted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginStarted")
            .field("profile", &self.profile)
            .field("authorize_url", &"[REDACTED: carries the state]")
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// A finished login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginDone {
    /// The profile id written.
    pub profile: String,
    /// Its email, when known.
    pub email: Option<String>,
    /// Its plan, when known.
    pub plan: Option<String>,
    /// Whether an existing profile was updated (same account) rather than added.
    pub updated: bool,
    /// The profile id the login's name asked for, when it was stored under another one
    /// (`updated`: that account was already stored there; else the id held another account).
    pub requested: Option<String>,
    /// The account id, shortened, when known.
    pub account: Option<String>,
}

/// A device login waiting for the user.
pub struct DeviceLogin {
    /// The page to open.
    pub verification_url: String,
    /// The code to type there (shown to the user; not a credential on its own).
    pub user_code: String,
    /// How long the code stays valid.
    pub expires_in: Duration,
    /// Resolves when the login completes, fails or expires; dropping it cancels the polling.
    pub done: BoxFuture<'static, BackendResult<LoginDone>>,
}

/// A change that was applied and verified (or not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeDone {
    /// The profile changed.
    pub profile: String,
    /// Which store layer was written.
    pub layer: String,
    /// Whether the read-back matched.
    pub verified: bool,
    /// The backup taken before the change, when one was.
    pub backup: Option<String>,
}

impl ChangeDone {
    /// The chat's summary of an engine change report (every change the chat makes).
    pub(crate) fn from_report(
        profile: String,
        r: &crate::engine::change::ChangeReport,
    ) -> ChangeDone {
        let layers: Vec<String> = r.written.iter().map(ToString::to_string).collect();
        ChangeDone {
            profile,
            layer: if layers.is_empty() {
                "no layer (nothing to change)".to_owned()
            } else {
                layers.join(", ")
            },
            verified: r.verified,
            backup: r.backups.first().cloned(),
        }
    }
}

/// The engine operations a chat needs.
pub trait Backend: Send + Sync {
    /// Every Codex profile of the effective store, sorted by id.
    fn profiles(&self) -> BoxFuture<'_, BackendResult<Vec<ProfileView>>>;
    /// Resolve a selector (`all`, `default`, an id, a name, an email, a label, an account or
    /// an id suffix) to profile ids. A failure's message is already in chat words.
    fn resolve<'a>(&'a self, selector: &'a str) -> BoxFuture<'a, BackendResult<Vec<ProfileId>>>;
    /// Check usage of these profiles (concurrently) and render one line each.
    fn usage(&self, ids: Vec<ProfileId>) -> BoxFuture<'_, BackendResult<UsageReport>>;
    /// Start a PKCE login for profile `name`, pending for `requester`.
    fn login_start(
        &self,
        name: String,
        requester: UserId,
    ) -> BoxFuture<'_, BackendResult<LoginStarted>>;
    /// The profile name of `requester`'s pending login, if one is waiting.
    fn pending_login(&self, requester: UserId) -> BoxFuture<'_, BackendResult<Option<String>>>;
    /// Finish `requester`'s pending login (for `name`, or whichever the URL's state names).
    fn login_finish(
        &self,
        name: Option<String>,
        requester: UserId,
        callback_url: Secret<String>,
    ) -> BoxFuture<'_, BackendResult<LoginDone>>;
    /// Start a device login for profile `name`.
    fn device_start(
        &self,
        name: String,
        requester: UserId,
    ) -> BoxFuture<'_, BackendResult<DeviceLogin>>;
    /// Retire a profile (out of the order, credential kept).
    fn retire(&self, id: ProfileId) -> BoxFuture<'_, BackendResult<ChangeDone>>;
    /// Delete a profile and every reference to it.
    fn delete(&self, id: ProfileId) -> BoxFuture<'_, BackendResult<ChangeDone>>;
    /// Rotation guidance from the gateway's state (read-only).
    fn rotation(&self) -> BoxFuture<'_, BackendResult<Rotation>>;
    /// Clear a stale block (the watcher's button): the usage endpoint is asked first, then
    /// the change pipeline clears `blockedUntil`/`cooldownUntil`/`disabledUntil` with a
    /// backup. A backend without it refuses.
    fn unblock(&self, id: ProfileId) -> BoxFuture<'_, BackendResult<ChangeDone>> {
        let _ = id;
        Box::pin(async {
            Err(BackendError::runtime(
                "unsupported",
                "clearing a block is not available here",
            ))
        })
    }
    /// The agents of the state directory (`<state>/agents/*/`), sorted; empty when the store
    /// is not per agent (a forced store file) or a backend has no such notion.
    fn agents(&self) -> BoxFuture<'_, BackendResult<Vec<String>>> {
        Box::pin(async { Ok(Vec::new()) })
    }
    /// The agent each admin chose per chat, as an earlier run saved them; none when this
    /// backend keeps no such memory.
    fn saved_agents(&self) -> Vec<crate::chat::agents::Saved> {
        Vec::new()
    }
    /// Save `agent` as `user`'s choice in `chat` for the next start (`None`: forget it, the
    /// chat shows the configured agent). A backend without such memory keeps nothing.
    fn save_agent(
        &self,
        user: UserId,
        chat: crate::chat::transport::ChatId,
        agent: Option<String>,
    ) -> BoxFuture<'_, BackendResult<()>> {
        let _ = (user, chat, agent);
        Box::pin(async { Ok(()) })
    }
    /// The usage history of these profiles as a chart over the CLI's default days (at most
    /// the retention); `png`: draw the PNG as well as the sparklines. Read-only.
    fn usage_history(
        &self,
        ids: Vec<ProfileId>,
        png: bool,
    ) -> BoxFuture<'_, BackendResult<HistoryChart>> {
        let _ = (ids, png);
        Box::pin(async {
            Err(BackendError::runtime(
                "unsupported",
                "the usage history is not available here",
            ))
        })
    }
    /// The stored and the effective order of the Codex provider (read-only).
    fn order(&self) -> BoxFuture<'_, BackendResult<OrderView>> {
        unsupported()
    }
    /// Resolve each selector to one stored profile of the Codex provider, in the given order
    /// (`None` for `all`). A failure's message is already in chat words.
    fn order_members(
        &self,
        _selectors: Vec<String>,
    ) -> BoxFuture<'_, BackendResult<Vec<Option<ProfileId>>>> {
        unsupported()
    }
    /// Run an order change through the change pipeline; `apply: false` only plans it (what
    /// the new order is, who leaves service) and writes nothing.
    fn order_change(
        &self,
        _change: OrderChange,
        _apply: bool,
    ) -> BoxFuture<'_, BackendResult<OrderOutcome>> {
        unsupported()
    }
    /// Every backup, newest first.
    fn backups(&self) -> BoxFuture<'_, BackendResult<Vec<BackupView>>> {
        unsupported()
    }
    /// What restoring the backup `name` would do (nothing written); a backup of a layer the
    /// store no longer has is refused ([`BACKUP_OF_OTHER_STORE`]), a gone one is
    /// [`NO_SUCH_BACKUP`].
    fn restore_preview(&self, _name: String) -> BoxFuture<'_, BackendResult<RestorePreview>> {
        unsupported()
    }
    /// Restore the backup `name` (live credentials kept), through the change pipeline.
    fn restore(&self, _name: String) -> BoxFuture<'_, BackendResult<ChangeDone>> {
        unsupported()
    }
    /// The seven layers and their disagreements (read-only).
    fn layers(&self) -> BoxFuture<'_, BackendResult<LayersReport>> {
        unsupported()
    }
    /// The doctor's findings (read-only).
    fn doctor(&self) -> BoxFuture<'_, BackendResult<DoctorReport>> {
        unsupported()
    }
    /// Apply a doctor fix; unless `confirmed`, one that takes a profile out of service only
    /// says who would leave.
    fn fix(&self, _remedy: Remedy, _confirmed: bool) -> BoxFuture<'_, BackendResult<FixOutcome>> {
        unsupported()
    }
}

/// What a backend without the admin views answers.
fn unsupported<'a, T: Send + 'a>() -> BoxFuture<'a, BackendResult<T>> {
    Box::pin(async {
        Err(BackendError::runtime(
            "unsupported",
            "this is not available here",
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_started_login_never_debug_prints_its_state() {
        let s = LoginStarted {
            profile: "openai:work".into(),
            authorize_url: "https://auth.openai.com/oauth/authorize?state=5ec7e7a7e".into(),
            expires_in: Duration::from_secs(900),
        };
        let shown = format!("{s:?} {s:#?}");
        assert!(!shown.contains("5ec7e7a7e"), "{shown}");
        assert!(shown.contains("openai:work"), "{shown}");
    }
}
