//! What each request does once it is allowed: the dispatch of every [`Act`], duplicate claims,
//! and the usage check with progress first on one path. Menus and status views live in
//! `menus`, logins and changes in `auth`. Every flow answers through [`crate::chat::delivery`].

mod auth;
mod history;
mod menus;
mod rotation;

pub(crate) use menus::{Choice, show_menu};
use menus::{auth_menu, status, usage_menu};

use std::sync::Arc;

use crate::chat::backend::BackendError;
use crate::chat::conversation::{Conversation, Ctx};
use crate::chat::dedupe::Guard;
use crate::chat::delivery;
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
    /// `/codex_rotation [deep]`.
    Rotation {
        /// The long form.
        deep: bool,
    },
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
                context! { role => ctx.role.as_str() },
            ))
            .await
        }
        Act::UsageMenu => usage_menu(&conv, &ctx).await,
        Act::UsageSelector(sel) => match conv.backend.resolve(&sel).await {
            Ok(ids) => usage(&conv, &ctx, ids, guard).await,
            Err(e) => ctx.say(&failed("Usage check", &e)).await,
        },
        Act::Usage(ids) => usage(&conv, &ctx, ids, guard).await,
        Act::AuthMenu => auth_menu(&conv, &ctx).await,
        Act::StatusSelector(sel) => {
            if let Some(id) = resolve_one(&conv, &ctx, &sel, "Status").await {
                status(&conv, &ctx, id).await;
            }
        }
        Act::Status(id) => status(&conv, &ctx, id).await,
        Act::NewLogin => show(&ctx, &render::text("new_login")).await,
        Act::Login(name) => auth::login(&conv, &ctx, name, guard).await,
        Act::Device(name) => auth::device(&conv, ctx, name, guard).await,
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
            show(&ctx, &render::text("cancelled")).await;
        }
        Act::Rotation { deep } => rotation::show_rotation(&conv, &ctx, deep).await,
        Act::HistorySelector(sel) => match conv.backend.resolve(&sel).await {
            Ok(ids) => history::history(&conv, &ctx, ids, guard).await,
            Err(e) => ctx.say(&failed("Usage history", &e)).await,
        },
        Act::History(ids) => history::history(&conv, &ctx, ids, guard).await,
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

async fn usage(conv: &Arc<Conversation>, ctx: &Ctx, ids: Vec<ProfileId>, guard: Option<Guard>) {
    let act = Act::Usage(ids);
    let Some(_guard) = claim(conv, ctx, &act, guard).await else {
        return;
    };
    let Act::Usage(ids) = act else { return };
    let t = &*ctx.transport;
    let Some(message) =
        delivery::progress(t, ctx.origin.chat, ctx.on, &render::text("usage_progress")).await
    else {
        return;
    };
    let text = match conv.backend.usage(ids).await {
        Ok(r) => render::render(
            "usage_result",
            context! {
                lines => r.lines, ok => r.ok_count, failed => r.failed_count,
                usable => r.usable_count, limited => r.limited_count,
                checked => r.ok_count + r.failed_count,
                forecast => r.forecast,
            },
        ),
        Err(e) => failed("Usage check", &e),
    };
    delivery::edit(t, message, &text, None).await;
}
