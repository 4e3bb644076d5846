//! What each request does once it is allowed: menus and status views (buttons, or the text
//! fallback's `Reply with:` line), and the usage check with progress first on one path. Logins
//! and changes live in [`auth`]. Every flow answers through [`crate::chat::delivery`].

mod auth;

use std::sync::Arc;
use std::time::Instant;

use crate::chat::backend::{BackendError, ProfileView};
use crate::chat::callback::{CallbackData, UsageTarget};
use crate::chat::conversation::{Conversation, Ctx};
use crate::chat::dedupe::Guard;
use crate::chat::delivery;
use crate::chat::keys::ProfileKey;
use crate::chat::permissions::Role;
use crate::chat::render::{self, Value, context, label};
use crate::chat::transport::{Button, ChatKind, Keyboard};
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
}

impl Act {
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
            _ => return None,
        })
    }
}

/// Run one act.
pub(crate) async fn run(conv: Arc<Conversation>, ctx: Ctx, act: Act, guard: Option<Guard>) {
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
                auth::retire(&conv, &ctx, id, guard).await;
            }
        }
        Act::Retire(id) => auth::retire(&conv, &ctx, id, guard).await,
        Act::DeleteSelector { selector, confirm } => {
            if let Some(id) = resolve_one(&conv, &ctx, &selector, "Delete").await {
                if confirm {
                    auth::delete(&conv, &ctx, id, guard).await;
                } else {
                    auth::ask_delete(&conv, &ctx, id).await;
                }
            }
        }
        Act::AskDelete(id) => auth::ask_delete(&conv, &ctx, id).await,
        Act::Delete(id) => auth::delete(&conv, &ctx, id, guard).await,
        Act::Cancel => {
            conv.confirmations
                .retain(|(user, _), _| *user != ctx.origin.user);
            show(&ctx, &render::text("cancelled")).await;
        }
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

/// An engine failure as one chat sentence.
pub(crate) fn failed(what: &str, e: &BackendError) -> String {
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

/// One menu entry: a button, or a reply word in the text fallback.
pub(crate) struct Choice {
    label: String,
    word: String,
    data: CallbackData,
}

impl Choice {
    pub(crate) fn new(label: String, word: impl Into<String>, data: CallbackData) -> Choice {
        Choice {
            label,
            word: word.into(),
            data,
        }
    }
}

/// Show `text` with `rows` of choices: inline buttons, or a `Reply with:` line and an offer
/// the next bare reply can take.
pub(crate) async fn show_menu(conv: &Conversation, ctx: &Ctx, text: &str, rows: Vec<Vec<Choice>>) {
    let t = &*ctx.transport;
    if ctx.buttons {
        let keyboard: Keyboard = rows
            .iter()
            .map(|row| {
                row.iter()
                    .map(|c| Button {
                        label: c.label.clone(),
                        data: c.data.encode(),
                    })
                    .collect()
            })
            .collect();
        let kb = (!keyboard.is_empty()).then_some(&keyboard);
        match ctx.on {
            Some(m) => delivery::edit(t, m, text, kb).await,
            None => {
                delivery::send(t, ctx.origin.chat, text, kb).await;
            }
        }
        return;
    }
    let choices: Vec<(String, CallbackData)> = rows
        .into_iter()
        .flatten()
        .map(|c| (c.word, c.data))
        .collect();
    let full = if choices.is_empty() {
        text.to_owned()
    } else {
        let words: Vec<&str> = choices.iter().map(|(w, _)| w.as_str()).collect();
        format!(
            "{text}\n{}",
            render::render("reply_with", context! { words })
        )
    };
    if !choices.is_empty() {
        conv.fallback
            .offer(ctx.origin.chat, ctx.origin.user, choices, Instant::now());
    }
    show(ctx, &full).await;
}

/// Reply words that stand for actions, never for a profile.
const RESERVED: &[&str] = &[
    "default", "all", "new", "login", "device", "retire", "delete", "confirm", "cancel",
];

/// The word that picks `p` in the text fallback: its label when unambiguous, else its id.
fn word_for(p: &ProfileView, all: &[ProfileView]) -> String {
    let shared = all
        .iter()
        .filter(|o| o.label.eq_ignore_ascii_case(&p.label))
        .count()
        > 1;
    let reserved = RESERVED.iter().any(|r| r.eq_ignore_ascii_case(&p.label));
    if shared || reserved || p.label.contains(char::is_whitespace) {
        p.id.to_string()
    } else {
        p.label.clone()
    }
}

async fn profiles_or_say(conv: &Conversation, ctx: &Ctx, what: &str) -> Option<Vec<ProfileView>> {
    match conv.backend.profiles().await {
        Ok(p) => Some(p),
        Err(e) => {
            show(ctx, &failed(what, &e)).await;
            None
        }
    }
}

async fn usage_menu(conv: &Conversation, ctx: &Ctx) {
    let Some(profiles) = profiles_or_say(conv, ctx, "Reading the profiles").await else {
        return;
    };
    let mut rows = vec![vec![
        Choice::new(
            label("default"),
            "default",
            CallbackData::Usage(UsageTarget::Default),
        ),
        Choice::new(label("all"), "all", CallbackData::Usage(UsageTarget::All)),
    ]];
    for p in &profiles {
        let data = CallbackData::Usage(UsageTarget::Profile(ProfileKey::of(&p.id)));
        rows.push(vec![Choice::new(
            p.label.clone(),
            word_for(p, &profiles),
            data,
        )]);
    }
    show_menu(conv, ctx, &render::text("usage_selector"), rows).await;
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
            context! { lines => r.lines, ok => r.ok_count, failed => r.failed_count },
        ),
        Err(e) => failed("Usage check", &e),
    };
    delivery::edit(t, message, &text, None).await;
}

fn profile_value(p: &ProfileView) -> Value {
    Value::from_serialize(serde_json::json!({
        "id": p.id.as_str(),
        "label": p.label,
        "plan": p.plan,
        "status": p.status,
        "expires_at": p.expires_at,
        "in_order": p.in_order,
        "last_good": p.last_good,
        "unusable_until": p.unusable_until,
        "error_count": p.error_count,
    }))
}

async fn auth_menu(conv: &Conversation, ctx: &Ctx) {
    let Some(profiles) = profiles_or_say(conv, ctx, "Reading the profiles").await else {
        return;
    };
    let values: Vec<Value> = profiles.iter().map(profile_value).collect();
    let text = render::render("auth_selector", context! { profiles => values });
    let mut rows: Vec<Vec<Choice>> = profiles
        .iter()
        .map(|p| {
            let data = CallbackData::Status(ProfileKey::of(&p.id));
            vec![Choice::new(p.label.clone(), word_for(p, &profiles), data)]
        })
        .collect();
    rows.push(vec![Choice::new(
        label("new_login"),
        "new",
        CallbackData::NewLogin,
    )]);
    show_menu(conv, ctx, &text, rows).await;
}

async fn status(conv: &Conversation, ctx: &Ctx, id: ProfileId) {
    let Some(profiles) = profiles_or_say(conv, ctx, "Reading the profiles").await else {
        return;
    };
    let Some(p) = profiles.iter().find(|p| p.id == id) else {
        return show(ctx, &render::text("stale_menu")).await;
    };
    let text = render::render("auth_status", context! { p => profile_value(p) });
    // Actions only where they can work: an admin in a private chat.
    let rows = if ctx.role == Role::Admin && ctx.origin.kind == ChatKind::Private {
        let k = ProfileKey::of(&p.id);
        vec![
            vec![
                Choice::new(label("login"), "login", CallbackData::Login(k.clone())),
                Choice::new(label("device"), "device", CallbackData::Device(k.clone())),
            ],
            vec![
                Choice::new(label("retire"), "retire", CallbackData::Retire(k.clone())),
                Choice::new(label("delete"), "delete", CallbackData::Delete(k)),
            ],
        ]
    } else {
        Vec::new()
    };
    show_menu(conv, ctx, &text, rows).await;
}
