//! Menus and views: the usage selector, the auth selector, one profile's status with its
//! actions, each as inline buttons or, without them, a `Reply with:` line whose words the
//! next bare reply can pick (or, where only commands reach the core, a `Send one of:` line of
//! commands; see [`crate::chat::fallback`]).

use std::time::Instant;

use crate::chat::backend::ProfileView;
use crate::chat::callback::{CallbackData, PageTap, UsageTarget};
use crate::chat::conversation::{Conversation, Ctx};
use crate::chat::delivery;
use crate::chat::flows::{failed, show};
use crate::chat::keys::ProfileKey;
use crate::chat::paging::{self, ListKey, Menu, Page};
use crate::chat::permissions::Role;
use crate::chat::render::{self, Value, context, label};
use crate::chat::transport::{Button, ChatKind, Keyboard};
use crate::engine::profile::ProfileId;

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
        let line = if t.bare_replies() {
            render::render("reply_with", context! { words })
        } else {
            // Only commands reach us here: each choice is its command with the word.
            let commands: Vec<String> = choices
                .iter()
                .map(|(w, d)| format!("/{} {w}", d.command()))
                .collect();
            render::render("reply_with_command", context! { commands })
        };
        format!("{text}\n{line}")
    };
    if !choices.is_empty() {
        conv.fallback
            .offer(ctx.origin.chat, ctx.origin.user, choices, Instant::now());
    }
    show(ctx, &full).await;
}

/// Reply words that stand for actions, never for a profile.
const RESERVED: &[&str] = &[
    "default", "all", "new", "login", "device", "retire", "delete", "confirm", "cancel", "history",
    "next", "back", "clear",
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

fn list_key(profiles: &[ProfileView]) -> ListKey {
    let ids: Vec<&str> = profiles.iter().map(|p| p.id.as_str()).collect();
    ListKey::of("profiles", &ids)
}

/// The key of the profile list the usage and auth menus page through, as it is now.
pub(super) async fn profiles_key(conv: &Conversation) -> Option<ListKey> {
    conv.backend.profiles().await.ok().map(|p| list_key(&p))
}

/// The page of `profiles` a menu draws (see [`paging::choose`]), its list key, and the
/// page's profiles; `None` after saying the tapped page is out of date.
async fn profile_page<'a>(
    ctx: &Ctx,
    profiles: &'a [ProfileView],
    tap: Option<&PageTap>,
) -> Option<(Page, ListKey, &'a [ProfileView])> {
    let list = list_key(profiles);
    let Some(page) = paging::choose(profiles.len(), &list, tap) else {
        show(ctx, &render::text("stale_menu")).await;
        return None;
    };
    let shown = &profiles[page.range.clone()];
    Some((page, list, shown))
}

/// The ◀ ▶ row of a paged menu as choices (empty on one page).
pub(super) fn nav_row(menu: Menu, page: &Page, list: &ListKey) -> Vec<Choice> {
    paging::nav(menu, page, list)
        .into_iter()
        .map(|(l, w, d)| Choice::new(l, w, d))
        .collect()
}

pub(super) async fn usage_menu(conv: &Conversation, ctx: &Ctx, tap: Option<&PageTap>) {
    let Some(profiles) = profiles_or_say(conv, ctx, "Reading the profiles").await else {
        return;
    };
    let Some((page, list, shown)) = profile_page(ctx, &profiles, tap).await else {
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
    for p in shown {
        let data = CallbackData::Usage(UsageTarget::Profile(ProfileKey::of(&p.id)));
        rows.push(vec![Choice::new(
            p.label.clone(),
            word_for(p, &profiles),
            data,
        )]);
    }
    rows.push(nav_row(Menu::Usage, &page, &list));
    rows.push(vec![Choice::new(
        label("history"),
        "history",
        CallbackData::History(UsageTarget::All),
    )]);
    rows.retain(|r| !r.is_empty());
    let text = paging::titled(&render::text("usage_selector"), &page);
    show_menu(conv, ctx, &text, rows).await;
}

/// A profile for the templates, its times in the operator's zone (`Dec 3 14:25 IST, in 2d 2h`).
fn profile_value(p: &ProfileView, conv: &Conversation) -> Value {
    let shown = |t: &Option<String>| t.as_deref().map(|t| conv.when(t));
    Value::from_serialize(serde_json::json!({
        "id": p.id.as_str(),
        "label": p.label,
        "plan": p.plan,
        "status": p.status,
        "expires_at": shown(&p.expires_at),
        "in_order": p.in_order,
        "last_good": p.last_good,
        "unusable_until": shown(&p.unusable_until),
        "error_count": p.error_count,
    }))
}

pub(super) async fn auth_menu(conv: &Conversation, ctx: &Ctx, tap: Option<&PageTap>) {
    let Some(profiles) = profiles_or_say(conv, ctx, "Reading the profiles").await else {
        return;
    };
    let Some((page, list, shown)) = profile_page(ctx, &profiles, tap).await else {
        return;
    };
    let values: Vec<Value> = shown.iter().map(|p| profile_value(p, conv)).collect();
    let text = render::render("auth_selector", context! { profiles => values });
    let text = paging::titled(&text, &page);
    let mut rows: Vec<Vec<Choice>> = shown
        .iter()
        .map(|p| {
            let data = CallbackData::Status(ProfileKey::of(&p.id));
            vec![Choice::new(p.label.clone(), word_for(p, &profiles), data)]
        })
        .collect();
    rows.push(nav_row(Menu::Auth, &page, &list));
    rows.push(vec![Choice::new(
        label("new_login"),
        "new",
        CallbackData::NewLogin,
    )]);
    rows.retain(|r| !r.is_empty());
    show_menu(conv, ctx, &text, rows).await;
}

pub(super) async fn status(conv: &Conversation, ctx: &Ctx, id: ProfileId) {
    let Some(profiles) = profiles_or_say(conv, ctx, "Reading the profiles").await else {
        return;
    };
    let Some(p) = profiles.iter().find(|p| p.id == id) else {
        return show(ctx, &render::text("stale_menu")).await;
    };
    let text = render::render("auth_status", context! { p => profile_value(p, conv) });
    // Actions only where they can work: an admin in a private chat.
    let rows = if ctx.role == Role::Admin && ctx.origin.kind == ChatKind::Private {
        let k = ProfileKey::of(&p.id);
        let mut logins = vec![Choice::new(
            label("device"),
            "device",
            CallbackData::Device(k.clone()),
        )];
        if ctx.transport.paste_back() {
            logins.insert(
                0,
                Choice::new(label("login"), "login", CallbackData::Login(k.clone())),
            );
        }
        vec![
            logins,
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
