//! The entry point of the chat core: [`Conversation::handle`] takes one event from an adapter,
//! decides what it asks for (parse, permissions, stale menus, duplicates), and runs it through
//! `flows`. Every button tap is answered exactly once, here and only here.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use dashmap::DashMap;

use crate::chat::agents::{Choices, Scope};
use crate::chat::backend::{Backend, EngineBackend};
use crate::chat::callback::{CallbackData, UsageTarget};
use crate::chat::command::{self, AuthCommand, Parsed};
use crate::chat::config::{ChatConfig, ConfigError};
use crate::chat::dedupe::{Dedupe, Guard};
use crate::chat::fallback::Fallback;
use crate::chat::permissions::{Need, Permissions, Refusal, Role};
use crate::chat::render::{self, context};
use crate::chat::transport::{
    ChatId, ChatKind, Incoming, Menus, MessageRef, Origin, Transport, UserId,
};
use crate::chat::{delivery, flows::Act};
use crate::engine::clock::{Now, Zone, localise};
use crate::engine::profile::ProfileId;
use crate::engine::watch::ChangeSet;

/// How long a delete confirmation button stays usable.
const CONFIRM_TTL: Duration = Duration::from_secs(5 * 60);

/// The conversation core: one per process, shared by every chat and user.
pub struct Conversation {
    pub(crate) backend: Arc<dyn Backend>,
    permissions: Permissions,
    inline_buttons: bool,
    pub(crate) dedupe: Arc<Dedupe>,
    pub(crate) fallback: Fallback,
    /// Delete confirmations shown, per (user, profile), so a confirm tap (or reply) that was
    /// never offered does nothing.
    pub(crate) confirmations: DashMap<(UserId, ProfileId), Instant>,
    /// Order changes waiting for their confirmation tap, per user.
    pub(crate) orders: crate::chat::flows::Proposals,
    /// Restore and doctor-fix confirmations shown, per (user, what they confirm).
    pub(crate) offers: DashMap<(UserId, String), Instant>,
    /// The zone every time is shown in.
    pub(crate) zone: Zone,
    /// The instant shown times are relative to.
    pub(crate) now: Now,
    /// The configured agent (`OPENCLAW_AGENT`, `--agent`).
    pub(crate) agent: String,
    /// The agent each admin chose per chat.
    pub(crate) agent_choices: Choices,
    /// The last usage result's text, rendered once for every chat that shared its check.
    pub(crate) usage_text: crate::chat::flows::LastText,
}

/// One event's surroundings, handed to every flow.
pub(crate) struct Ctx {
    /// Who and where.
    pub origin: Origin,
    /// The transport to answer on.
    pub transport: Arc<dyn Transport>,
    /// Whether to draw buttons (else the text fallback).
    pub buttons: bool,
    /// The message a tapped button was on: progress and results edit it.
    pub on: Option<MessageRef>,
    /// The requester's role.
    pub role: Role,
    /// For a message that held a callback URL: whether deleting it succeeded (the chat says
    /// "I deleted it" only then, and otherwise asks the sender to delete it).
    pub url_deleted: bool,
}

impl Ctx {
    /// Send a new message (split if long).
    pub async fn say(&self, text: &str) {
        delivery::send(&*self.transport, self.origin.chat, text, None).await;
    }
}

impl Conversation {
    /// Now, as shown times read it (ms since the epoch).
    pub(crate) fn now_ms(&self) -> i64 {
        self.now.ms()
    }

    /// `text` with every RFC 3339 time in it shown in the operator's zone, absolute and
    /// relative (`Dec 3 14:25 IST, in 2d 2h`): for the engine's sentences and facts.
    pub(crate) fn local(&self, text: &str) -> String {
        localise(text, &self.zone, self.now_ms())
    }

    /// An RFC 3339 time in the operator's zone, absolute and relative; the text itself when
    /// it is no time.
    pub(crate) fn when(&self, iso: &str) -> String {
        self.zone.iso(iso, self.now_ms())
    }

    /// Build the core with the real engine behind it. Fails when an endpoint override is not
    /// trusted.
    pub fn new(config: ChatConfig) -> Result<Arc<Conversation>, ConfigError> {
        let backend = EngineBackend::new(&config)?;
        Ok(Conversation::with_backend(config, Arc::new(backend)))
    }

    /// Build the core around any [`Backend`] (tests, or another engine).
    pub fn with_backend(config: ChatConfig, backend: Arc<dyn Backend>) -> Arc<Conversation> {
        let agent_choices = Choices::from_saved(backend.saved_agents());
        Arc::new(Conversation {
            backend,
            permissions: Permissions::new(config.admins, config.users),
            inline_buttons: config.inline_buttons,
            dedupe: Arc::new(Dedupe::default()),
            fallback: Fallback::default(),
            confirmations: DashMap::new(),
            orders: Default::default(),
            offers: DashMap::new(),
            zone: config.zone,
            now: config.now,
            agent: config.store.agent,
            usage_text: Default::default(),
            agent_choices,
        })
    }

    /// The bot's command menu for `setMyCommands`: (command without slash, description).
    pub fn menu() -> Vec<(String, String)> {
        render::menu()
    }

    /// The menus by role: users' for everyone, the admin menu for each admin's chat.
    pub fn menus(&self) -> Menus {
        let admin = render::menu_for("admin");
        Menus {
            everyone: render::menu_for("user"),
            admins: self
                .permissions
                .admins()
                .into_iter()
                .map(|id| (id, admin.clone()))
                .collect(),
        }
    }

    /// Handle one event. Never panics (a bug in a flow is logged), answers every button tap
    /// exactly once, and returns when the request is done (a device login goes on in a task).
    pub async fn handle(self: &Arc<Self>, event: Incoming, transport: Arc<dyn Transport>) {
        let answered = Arc::new(AtomicBool::new(false));
        let callback_id = match &event {
            Incoming::Button { callback_id, .. } => Some(callback_id.clone()),
            Incoming::Text { .. } => None,
        };
        let this = Arc::clone(self);
        let (t, flag) = (Arc::clone(&transport), Arc::clone(&answered));
        // A separate task turns a panic in a flow into a logged error instead of taking the
        // adapter's loop down with it.
        let outcome = tokio::spawn(async move {
            let scope = this.scope_of(event.origin()).await;
            // Its first answer goes ahead of other requests' follow-ups (`first_answer`).
            crate::chat::transport::answering(scope.run(async move {
                match event {
                    Incoming::Text {
                        origin,
                        message,
                        text,
                    } => this.on_text(origin, message, text, t).await,
                    Incoming::Button {
                        origin,
                        message,
                        callback_id,
                        data,
                    } => {
                        this.on_button(origin, message, &callback_id, &data, t, &flag)
                            .await
                    }
                }
            }))
            .await
        })
        .await;
        if let Err(e) = outcome {
            tracing::error!(
                panicked = e.is_panic(),
                "a chat request failed unexpectedly"
            );
            if let Some(id) = callback_id {
                if !answered.swap(true, Ordering::SeqCst) {
                    let _ = transport.answer_callback(&id, None).await;
                }
            }
        }
    }

    /// The agent this request uses and its header ([`crate::chat::agents::scope_of`]).
    async fn scope_of(&self, origin: Origin) -> Scope {
        let admin = self.permissions.role(origin.user) == Role::Admin;
        crate::chat::agents::scope_of(self, origin, admin).await
    }

    fn ctx(&self, origin: Origin, transport: Arc<dyn Transport>, on: Option<MessageRef>) -> Ctx {
        let buttons = self.inline_buttons && transport.inline_buttons();
        Ctx {
            origin,
            buttons,
            on,
            role: transport
                .vouched_role(origin.user)
                .unwrap_or_else(|| self.permissions.role(origin.user)),
            transport,
            url_deleted: false,
        }
    }

    fn refusal_text(refusal: Refusal, user: UserId) -> String {
        match refusal {
            Refusal::Stranger => render::render("refused_stranger", context! { user_id => user.0 }),
            Refusal::AdminOnly => {
                render::render("refused_admin_only", context! { user_id => user.0 })
            }
            Refusal::PrivateOnly => render::text("refused_private_only"),
        }
    }

    async fn on_text(
        self: Arc<Self>,
        origin: Origin,
        message: MessageRef,
        text: String,
        transport: Arc<dyn Transport>,
    ) {
        let mut ctx = self.ctx(origin, transport, None);
        let parsed = command::parse(&text);
        let holds_url = command::holds_callback_url(&text);
        // Where only commands reach us, `/codex_usage WORD` may answer a text-fallback offer.
        let pick = match command::command_and_words(&text) {
            Some((cmd, words)) if !holds_url && !ctx.transport.bare_replies() => self
                .fallback
                .take_command(origin.chat, origin.user, cmd, words, Instant::now()),
            _ => None,
        };
        drop(text);
        if holds_url {
            // Read it, then make it disappear from the chat history, whatever happens next.
            match ctx.transport.delete(message).await {
                Ok(()) => ctx.url_deleted = true,
                Err(e) => {
                    tracing::warn!(error = %e, "could not delete a message holding a callback URL")
                }
            }
            if origin.kind == ChatKind::Group {
                let deleted = ctx.url_deleted;
                ctx.say(&render::render("url_in_group", context! { deleted }))
                    .await;
                return;
            }
        }
        let is_command = !matches!(parsed, Parsed::Bare(_));
        if ctx.role == Role::Stranger {
            // In a group, chatter that is not a command is not for us.
            if is_command || origin.kind == ChatKind::Private || holds_url {
                ctx.say(&Self::refusal_text(Refusal::Stranger, origin.user))
                    .await;
            }
            return;
        }
        let act = match parsed {
            _ if pick.is_some() => {
                let Some(data) = pick else { return };
                match self.resolve_data(&data, origin.user).await {
                    Ok(act) => act,
                    Err(()) => return ctx.say(&render::text("stale_menu")).await,
                }
            }
            Parsed::TooLong(length) => {
                let max = command::MAX_TEXT_CHARS;
                return ctx
                    .say(&render::render("too_long", context! { length, max }))
                    .await;
            }
            Parsed::Unknown(command) => {
                return ctx
                    .say(&render::render("unknown_command", context! { command }))
                    .await;
            }
            Parsed::BadArguments { problem, usage } => {
                return ctx
                    .say(&render::render(
                        "bad_arguments",
                        context! { problem, usage },
                    ))
                    .await;
            }
            Parsed::Start => Act::Start,
            Parsed::Help => Act::Help,
            Parsed::Usage(None) => Act::UsageMenu,
            Parsed::Usage(Some(sel)) => Act::UsageSelector(sel),
            Parsed::UsageHistory(sel) => Act::HistorySelector(sel.unwrap_or_else(|| "all".into())),
            Parsed::Rotation { deep } => Act::Rotation { deep },
            Parsed::Auth(a) => match a {
                AuthCommand::Menu => Act::AuthMenu,
                AuthCommand::Status(sel) => Act::StatusSelector(sel),
                AuthCommand::Login(name) => Act::Login(name),
                AuthCommand::Device(name) => Act::Device(name),
                AuthCommand::Finish { name, url } => Act::Finish {
                    name: Some(name),
                    url,
                },
                AuthCommand::Retire(sel) => Act::RetireSelector(sel),
                AuthCommand::Delete { selector, confirm } => {
                    Act::DeleteSelector { selector, confirm }
                }
                AuthCommand::Order => Act::OrderView,
                AuthCommand::OrderSet(selectors) => Act::OrderSet(selectors),
                AuthCommand::OrderClear => Act::OrderClear,
                AuthCommand::Backups => Act::Backups,
                AuthCommand::Layers => Act::Layers,
                AuthCommand::Doctor => Act::Doctor,
                AuthCommand::Agent(None) => Act::AgentMenu,
                AuthCommand::Agent(Some(name)) => Act::SwitchAgent(name),
            },
            Parsed::CallbackUrl(url) => Act::Finish { name: None, url },
            Parsed::Bare(word) => {
                match self
                    .fallback
                    .take(origin.chat, origin.user, &word, Instant::now())
                {
                    Some(data) => match self.resolve_data(&data, origin.user).await {
                        Ok(act) => act,
                        Err(()) => return ctx.say(&render::text("stale_menu")).await,
                    },
                    None if origin.kind == ChatKind::Private => {
                        return ctx.say(&render::text("unknown_reply")).await;
                    }
                    None => return,
                }
            }
        };
        if let Err(refusal) = Permissions::check_role(ctx.role, origin.kind, act.need()) {
            return ctx.say(&Self::refusal_text(refusal, origin.user)).await;
        }
        self.run(ctx, act).await;
    }

    async fn on_button(
        self: Arc<Self>,
        origin: Origin,
        message: MessageRef,
        callback_id: &str,
        data: &str,
        transport: Arc<dyn Transport>,
        answered: &AtomicBool,
    ) {
        let ctx = self.ctx(origin, transport, Some(message));
        let (notice, work) = self.plan_button(&ctx, data).await;
        // The one answer to this tap.
        if !answered.swap(true, Ordering::SeqCst) {
            if let Err(e) = ctx
                .transport
                .answer_callback(callback_id, notice.as_deref())
                .await
            {
                tracing::warn!(error = %e, "answering a button tap failed");
            }
        }
        if let Some((act, guard)) = work {
            self.run_guarded(ctx, act, guard).await;
        }
    }

    /// Decide what a tap does, without doing it: the notice to answer with, and the work.
    async fn plan_button(
        &self,
        ctx: &Ctx,
        data: &str,
    ) -> (Option<String>, Option<(Act, Option<Guard>)>) {
        if ctx.role == Role::Stranger {
            return (
                Some(Self::refusal_text(Refusal::Stranger, ctx.origin.user)),
                None,
            );
        }
        let Some(decoded) = CallbackData::decode(data) else {
            tracing::info!(user = ctx.origin.user.0, "refused unknown callback data");
            return (Some(render::text("stale_menu")), None);
        };
        let Ok(mut act) = self.resolve_data(&decoded, ctx.origin.user).await else {
            return (Some(render::text("stale_menu")), None);
        };
        // `default`/`all` are resolved now, so the duplicate check sees the profiles they name.
        if let Act::UsageSelector(sel) = &act {
            if let Ok(ids) = self.backend.resolve(sel).await {
                act = Act::Usage(ids);
            }
        }
        if let Act::HistorySelector(sel) = &act {
            if let Ok(ids) = self.backend.resolve(sel).await {
                act = Act::History(ids);
            }
        }
        if let Err(refusal) = Permissions::check_role(ctx.role, ctx.origin.kind, act.need()) {
            return (Some(Self::refusal_text(refusal, ctx.origin.user)), None);
        }
        match act.dedupe_key() {
            Some(key) => match self.dedupe.begin_now(ctx.origin.user, &key) {
                Some(guard) => (None, Some((act, Some(guard)))),
                None => (Some(render::text("already_running")), None),
            },
            None => (None, Some((act, None))),
        }
    }

    /// Turn button data (or a text-fallback choice) into an act on current profiles; `Err`
    /// when its key no longer names exactly one profile, or a confirmation was never offered.
    pub(crate) async fn resolve_data(&self, data: &CallbackData, user: UserId) -> Result<Act, ()> {
        let (id, blocked) = match data.key() {
            Some(key) => {
                let profiles = self.backend.profiles().await.map_err(|_| ())?;
                let ids: Vec<ProfileId> = profiles.iter().map(|p| p.id.clone()).collect();
                let id = key.resolve(&ids).cloned().ok_or(())?;
                let blocked = profiles
                    .iter()
                    .any(|p| p.id == id && p.unusable_until.is_some());
                (Some(id), blocked)
            }
            None => (None, false),
        };
        let id = || id.clone().ok_or(());
        Ok(match data {
            CallbackData::Usage(UsageTarget::Default) => Act::UsageSelector("default".into()),
            CallbackData::Usage(UsageTarget::All) => Act::UsageSelector("all".into()),
            CallbackData::Usage(UsageTarget::Profile(_)) => Act::Usage(vec![id()?]),
            CallbackData::Status(_) => Act::Status(id()?),
            CallbackData::NewLogin => Act::NewLogin,
            CallbackData::Login(_) => Act::Login(id()?.name().to_owned()),
            CallbackData::Device(_) => Act::Device(id()?.name().to_owned()),
            CallbackData::Retire(_) => Act::Retire(id()?),
            CallbackData::Delete(_) => Act::AskDelete(id()?),
            CallbackData::ConfirmDelete(_) => {
                let id = id()?;
                if !self.take_confirmation(user, &id) {
                    return Err(());
                }
                Act::Delete(id)
            }
            CallbackData::Cancel => Act::Cancel,
            // A block that is gone (cleared by an earlier tap, or over) makes the button
            // out of date.
            CallbackData::Unblock(_) if blocked => Act::Unblock(id()?),
            CallbackData::Unblock(_) => return Err(()),
            CallbackData::Restore(_)
            | CallbackData::ConfirmRestore(_)
            | CallbackData::Fix(_)
            | CallbackData::ConfirmFix(_) => {
                return crate::chat::flows::admin_data(self, data, user).await;
            }
            CallbackData::Agent(name) => Act::SwitchAgent(name.clone()),
            CallbackData::History(UsageTarget::Default) => Act::HistorySelector("default".into()),
            CallbackData::History(UsageTarget::All) => Act::HistorySelector("all".into()),
            CallbackData::History(UsageTarget::Profile(_)) => Act::History(vec![id()?]),
            // Refused here, like a stale key, when drawn from a list that has changed (the
            // flow checks again when it runs).
            CallbackData::Page(tap) if crate::chat::flows::page_is_current(self, tap).await => {
                Act::Page(tap.clone())
            }
            CallbackData::Order(tap)
                if crate::chat::flows::order::is_current(self, &tap.action).await =>
            {
                Act::OrderTap(tap.action.clone())
            }
            CallbackData::Page(_) | CallbackData::Order(_) => return Err(()),
        })
    }

    /// Run an act from a text message (duplicates are checked once its argument is resolved).
    async fn run(self: Arc<Self>, ctx: Ctx, act: Act) {
        self.run_guarded(ctx, act, None).await;
    }

    /// Run an act; a button's duplicate check already happened and left its `guard`.
    async fn run_guarded(self: Arc<Self>, ctx: Ctx, act: Act, guard: Option<Guard>) {
        crate::chat::flows::run(self, ctx, act, guard).await;
    }

    /// Tell every admin, in their private chat (chat id = user id), what a watcher round
    /// found: one message each, from `templates/chat/watch_changes.j2`, with an Unblock
    /// button per stale block. `true` when at least one admin got it (the round may then be
    /// remembered); an empty change set sends nothing.
    pub async fn notify(
        self: &Arc<Self>,
        changes: &ChangeSet,
        transport: Arc<dyn Transport>,
    ) -> bool {
        if changes.is_empty() {
            return true;
        }
        // The watcher watches the configured agent: its news says so where there are several.
        let agents = self.backend.agents().await.unwrap_or_default();
        let scope = Scope {
            agent: None,
            header: crate::chat::agents::header(&agents, &self.agent),
        };
        let mut delivered = false;
        for admin in self.permissions.admins() {
            let Ok(chat) = i64::try_from(admin.0) else {
                continue;
            };
            let origin = Origin {
                chat: ChatId(chat),
                kind: ChatKind::Private,
                user: admin,
            };
            let ctx = self.ctx(origin, Arc::clone(&transport), None);
            delivered |= scope
                .clone()
                .run(crate::chat::flows::notify_one(self, &ctx, changes))
                .await;
        }
        delivered
    }

    /// Whether a confirmation for deleting `id` was offered to `user` recently; uses it up.
    pub(crate) fn take_confirmation(&self, user: UserId, id: &ProfileId) -> bool {
        let now = Instant::now();
        self.confirmations
            .retain(|_, at| now.saturating_duration_since(*at) < CONFIRM_TTL);
        self.confirmations.remove(&(user, id.clone())).is_some()
    }

    /// Remember that `user` was asked to confirm deleting `id`.
    pub(crate) fn offer_confirmation(&self, user: UserId, id: &ProfileId) {
        let now = Instant::now();
        self.confirmations
            .retain(|_, at| now.saturating_duration_since(*at) < CONFIRM_TTL);
        self.confirmations.insert((user, id.clone()), now);
    }
}

impl Act {
    /// What permission the act needs.
    pub(crate) fn need(&self) -> Need {
        match self {
            Act::Login(_)
            | Act::Device(_)
            | Act::Finish { .. }
            | Act::RetireSelector(_)
            | Act::Retire(_)
            | Act::DeleteSelector { .. }
            | Act::AskDelete(_)
            | Act::Delete(_)
            | Act::NewLogin
            | Act::Unblock(_)
            | Act::OrderSet(_)
            | Act::OrderClear
            | Act::OrderTap(_)
            | Act::AskRestore(_)
            | Act::Restore(_)
            | Act::Fix { .. }
            | Act::AgentMenu
            | Act::SwitchAgent(_) => Need::Change,
            Act::Backups | Act::Layers | Act::Doctor => Need::AdminView,
            _ => Need::View,
        }
    }
}
