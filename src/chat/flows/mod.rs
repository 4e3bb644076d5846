//! What each request does once it is allowed: the dispatch of every [`Act`], duplicate claims,
//! and the usage check with progress first on one path. Menus and status views live in
//! `menus`, logins and changes in `auth`; the admin views in `backups`, `layers` and `doctor`
//! (their buttons resolved in `offers`). Every flow answers through [`crate::chat::delivery`].

mod agent;
mod auth;
mod backups;
mod doctor;
mod history;
mod layers;
mod menus;
mod offers;
pub(crate) mod order;
mod order_edit;
mod rotation;
mod usage;
mod watch;

pub(crate) use offers::admin_data;

pub(crate) use menus::{Choice, show_menu};
use menus::{auth_menu, status, usage_menu};
pub(crate) use order_edit::Proposals;
pub(crate) use usage::LastText;
use usage::usage;
pub(crate) use watch::notify_one;

use std::sync::Arc;

use crate::chat::backend::{BackendError, Remedy};
use crate::chat::callback::{OrderAction, PageTap};
use crate::chat::conversation::{Conversation, Ctx};
use crate::chat::dedupe::Guard;
use crate::chat::delivery;
use crate::chat::paging::Menu;
use crate::chat::render::{self, context};
use crate::engine::profile::ProfileId;
use crate::secret::Secret;

/// A request, resolved as far as parsing and callback keys allow.
pub(crate) enum Act {
    /// `/start`.
    Start,
    /// `/help`.
    Help,
    /// `/codex_usage`: the selector.
    UsageMenu,
    /// `/codex_usage SEL`: resolve, then run.
    UsageSelector(String),
    /// Check these profiles.
    Usage(Vec<ProfileId>),
    /// `/codex_auth`: the profile selector plus "new login".
    AuthMenu,
    /// `/codex_auth SEL`: resolve to one profile, then show it.
    StatusSelector(String),
    /// One profile's status and actions.
    Status(ProfileId),
    /// How to start a new login.
    NewLogin,
    /// Start a PKCE login for this profile name.
    Login(String),
    /// Start a device login for this profile name.
    Device(String),
    /// Finish a login with a pasted callback URL (`name` from the pending login if absent).
    Finish {
        /// The profile name given with `/codex_auth finish`.
        name: Option<String>,
        /// The callback URL.
        url: Secret<String>,
    },
    /// `/codex_auth retire SEL`.
    RetireSelector(String),
    /// Retire this profile.
    Retire(ProfileId),
    /// `/codex_auth delete SEL [confirm]`.
    DeleteSelector {
        /// The profile.
        selector: String,
        /// Whether `confirm` was given.
        confirm: bool,
    },
    /// Ask for the confirmation tap.
    AskDelete(ProfileId),
    /// Delete (confirmed).
    Delete(ProfileId),
    /// Dismiss a confirmation.
    Cancel,
    /// Clear this profile's stale block (the watcher's button).
    Unblock(ProfileId),
    /// `/codex_rotation [deep]`.
    Rotation {
        /// The long form.
        deep: bool,
    },
    /// `/codex_auth order`: the stored and the effective order.
    OrderView,
    /// `/codex_auth order A B ...`: resolve, plan, then set.
    OrderSet(Vec<String>),
    /// `/codex_auth order clear`: plan, then clear once confirmed.
    OrderClear,
    /// An order button (checked against the current order in the flow).
    OrderTap(OrderAction),
    /// Another page of a paged menu.
    Page(PageTap),
    /// `/codex_auth backups`.
    Backups,
    /// Show what restoring this backup brings back, and ask.
    AskRestore(String),
    /// Restore this backup (confirmed).
    Restore(String),
    /// `/codex_auth layers`.
    Layers,
    /// `/codex_auth doctor`.
    Doctor,
    /// Apply a doctor fix (`confirmed`: the confirmation tap).
    Fix {
        /// What to change.
        remedy: Remedy,
        /// Whether the confirmation was given.
        confirmed: bool,
    },
    /// `/codex_auth agent`: the agents to choose from.
    AgentMenu,
    /// `/codex_auth agent NAME` or its button: this chat shows and changes agent NAME.
    SwitchAgent(String),
    /// `/codex_usage history [SEL]`: resolve, then chart.
    HistorySelector(String),
    /// Chart these profiles' usage history.
    History(Vec<ProfileId>),
}

impl Act {
    /// A word for logs (never an argument: those may be profile names or URLs).
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Act::Start => "start",
            Act::Help => "help",
            Act::UsageMenu => "usage_menu",
            Act::UsageSelector(_) | Act::Usage(_) => "usage",
            Act::AuthMenu => "auth_menu",
            Act::StatusSelector(_) | Act::Status(_) => "status",
            Act::NewLogin => "new_login",
            Act::Login(_) => "login",
            Act::Device(_) => "device_login",
            Act::Finish { .. } => "finish_login",
            Act::RetireSelector(_) | Act::Retire(_) => "retire",
            Act::DeleteSelector { .. } | Act::AskDelete(_) => "ask_delete",
            Act::Delete(_) => "delete",
            Act::Cancel => "cancel",
            Act::Rotation { .. } => "rotation",
            Act::Unblock(_) => "unblock",
            Act::OrderView => "order_view",
            Act::OrderSet(_) | Act::OrderClear | Act::OrderTap(_) => "order_change",
            Act::Page(_) => "page",
            Act::Backups => "backups",
            Act::AskRestore(_) => "ask_restore",
            Act::Restore(_) => "restore",
            Act::Layers => "layers",
            Act::Doctor => "doctor",
            Act::Fix { .. } => "doctor_fix",
            Act::AgentMenu => "agent_menu",
            Act::SwitchAgent(_) => "switch_agent",
            Act::HistorySelector(_) | Act::History(_) => "usage_history",
        }
    }

    /// The duplicate-suppression key of acts that do remote work or change things.
    pub(crate) fn dedupe_key(&self) -> Option<String> {
        Some(match self {
            Act::Usage(ids) => {
                let ids: Vec<&str> = ids.iter().map(ProfileId::as_str).collect();
                format!("usage:{}", ids.join(","))
            }
            Act::Login(name) => format!("login:{name}"),
            Act::Device(name) => format!("device:{name}"),
            Act::Finish { name, .. } => format!("finish:{}", name.as_deref().unwrap_or("")),
            Act::Retire(id) => format!("retire:{id}"),
            Act::Delete(id) => format!("delete:{id}"),
            Act::Unblock(id) => format!("unblock:{id}"),
            Act::Restore(name) => format!("restore:{name}"),
            // The confirmation tap is a request of its own: not a repeat of the first tap.
            Act::Fix { remedy, confirmed } => {
                format!("fix:{confirmed}:{}", offers::identity(remedy))
            }
            Act::History(ids) => {
                let ids: Vec<&str> = ids.iter().map(ProfileId::as_str).collect();
                format!("history:{}", ids.join(","))
            }
            _ => return None,
        })
    }
}

/// Run one act.
pub(crate) async fn run(conv: Arc<Conversation>, ctx: Ctx, act: Act, guard: Option<Guard>) {
    tracing::info!(
        user = ctx.origin.user.0,
        chat = ctx.origin.chat.0,
        button = ctx.on.is_some(),
        act = act.name(),
        "chat request"
    );
    match act {
        Act::Start => {
            ctx.say(&render::render(
                "start",
                context! { role => ctx.role.as_str() },
            ))
            .await
        }
        Act::Help => {
            ctx.say(&render::render(
                "help",
                context! { role => ctx.role.as_str(), paste_back => ctx.transport.paste_back() },
            ))
            .await
        }
        Act::UsageMenu => usage_menu(&conv, &ctx, None).await,
        Act::UsageSelector(sel) => match conv.backend.resolve(&sel).await {
            Ok(ids) => usage(&conv, &ctx, ids, guard).await,
            Err(e) => ctx.say(&failed("Usage check", &e)).await,
        },
        Act::Usage(ids) => usage(&conv, &ctx, ids, guard).await,
        Act::AuthMenu => auth_menu(&conv, &ctx, None).await,
        Act::StatusSelector(sel) => {
            if let Some(id) = resolve_one(&conv, &ctx, &sel, "Status").await {
                status(&conv, &ctx, id).await;
            }
        }
        Act::Status(id) => status(&conv, &ctx, id).await,
        Act::NewLogin => {
            let paste_back = ctx.transport.paste_back();
            show(&ctx, &render::render("new_login", context! { paste_back })).await
        }
        // Where a pasted address cannot be kept out of the chat's files, every way into a
        // login (the command, its button, the doctor's offer) is the device login.
        Act::Login(name) if !ctx.transport.paste_back() => {
            let why = render::text("plugin_device_instead");
            auth::device(&conv, ctx, name, guard, Some(why)).await
        }
        Act::Login(name) => auth::login(&conv, &ctx, name, guard).await,
        Act::Device(name) => auth::device(&conv, ctx, name, guard, None).await,
        Act::Finish { name, url } => auth::finish(&conv, &ctx, name, url, guard).await,
        Act::RetireSelector(sel) => {
            if let Some(id) = resolve_one(&conv, &ctx, &sel, "Retire").await {
                auth::change(&conv, &ctx, Act::Retire(id), guard).await;
            }
        }
        Act::DeleteSelector { selector, confirm } => {
            if let Some(id) = resolve_one(&conv, &ctx, &selector, "Delete").await {
                if confirm {
                    auth::change(&conv, &ctx, Act::Delete(id), guard).await;
                } else {
                    auth::ask_delete(&conv, &ctx, id).await;
                }
            }
        }
        Act::AskDelete(id) => auth::ask_delete(&conv, &ctx, id).await,
        act @ (Act::Retire(_) | Act::Delete(_)) => auth::change(&conv, &ctx, act, guard).await,
        Act::Cancel => {
            conv.confirmations
                .retain(|(user, _), _| *user != ctx.origin.user);
            conv.orders.cancel(ctx.origin.user);
            conv.offers.retain(|(user, _), _| *user != ctx.origin.user);
            show(&ctx, &render::text("cancelled")).await;
        }
        Act::Rotation { deep } => rotation::show_rotation(&conv, &ctx, deep).await,
        Act::Unblock(id) => watch::unblock(&conv, &ctx, id, guard).await,
        Act::Backups => backups::list(&conv, &ctx).await,
        Act::AskRestore(name) => backups::ask(&conv, &ctx, name).await,
        Act::Restore(name) => backups::restore(&conv, &ctx, name, guard).await,
        Act::Layers => layers::view(&conv, &ctx).await,
        Act::Doctor => doctor::view(&conv, &ctx).await,
        Act::Fix { remedy, confirmed } => doctor::fix(&conv, &ctx, remedy, confirmed, guard).await,
        Act::AgentMenu => agent::menu(&conv, &ctx).await,
        Act::SwitchAgent(name) => agent::switch(&conv, &ctx, &name).await,
        Act::HistorySelector(sel) => match conv.backend.resolve(&sel).await {
            Ok(ids) => history::history(&conv, &ctx, ids, guard).await,
            Err(e) => ctx.say(&failed("Usage history", &e)).await,
        },
        Act::History(ids) => history::history(&conv, &ctx, ids, guard).await,
        Act::OrderView => order::view(&conv, &ctx, None).await,
        Act::OrderSet(selectors) => order::set_selectors(&conv, &ctx, selectors).await,
        Act::OrderClear => order::clear(&conv, &ctx).await,
        Act::OrderTap(action) => order::tap(&conv, &ctx, action, guard).await,
        Act::Page(tap) => match tap.menu {
            Menu::Usage => usage_menu(&conv, &ctx, Some(&tap)).await,
            Menu::Auth => auth_menu(&conv, &ctx, Some(&tap)).await,
            Menu::Order => order::view(&conv, &ctx, Some(&tap)).await,
        },
    }
}

/// Whether a page button was drawn from the list its menu shows now.
pub(crate) async fn page_is_current(conv: &Conversation, tap: &PageTap) -> bool {
    match tap.menu {
        Menu::Usage | Menu::Auth => menus::profiles_key(conv)
            .await
            .is_some_and(|k| k == tap.list),
        Menu::Order => order::current_key(conv)
            .await
            .is_some_and(|k| k == tap.list),
    }
}

/// The guard for `act`: the one a button's plan took, or a fresh one; `None` (after telling
/// the user) when the same request is running or just ran.
pub(crate) async fn claim(
    conv: &Arc<Conversation>,
    ctx: &Ctx,
    act: &Act,
    guard: Option<Guard>,
) -> Option<Option<Guard>> {
    if guard.is_some() {
        return Some(guard);
    }
    let Some(key) = act.dedupe_key() else {
        return Some(None);
    };
    match conv.dedupe.begin_now(ctx.origin.user, &key) {
        Some(g) => Some(Some(g)),
        None => {
            tracing::info!(user = ctx.origin.user.0, "suppressed a duplicate request");
            ctx.say(&render::text("duplicate")).await;
            None
        }
    }
}

/// An engine failure as one chat sentence. A selector that named no single profile is said
/// as it is (the backend wrote it from the templates, with its suggestions or candidates).
pub(crate) fn failed(what: &str, e: &BackendError) -> String {
    if matches!(
        e.code,
        "no_matching_profile" | "ambiguous_selector" | "empty_selector"
    ) {
        return e.message.clone();
    }
    render::render("failed", context! { what, message => e.message.as_str() })
}

/// Show `text` where the request came from: edit the message a button was on, else send.
pub(crate) async fn show(ctx: &Ctx, text: &str) {
    match ctx.on {
        Some(m) => delivery::edit(&*ctx.transport, m, text, None).await,
        None => ctx.say(text).await,
    }
}

/// A selector resolved to exactly one profile, or `None` after saying why not.
async fn resolve_one(
    conv: &Conversation,
    ctx: &Ctx,
    selector: &str,
    what: &str,
) -> Option<ProfileId> {
    match conv.backend.resolve(selector).await {
        Ok(mut ids) if ids.len() == 1 => ids.pop(),
        Ok(ids) => {
            let count = ids.len();
            ctx.say(&render::render("pick_one", context! { selector, count }))
                .await;
            None
        }
        Err(e) => {
            ctx.say(&failed(what, &e)).await;
            None
        }
    }
}
