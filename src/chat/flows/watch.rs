//! The watcher in chat: a round's change set as one message to an admin (an **Unblock**
//! button per stale block; in the text fallback, a reply word), and the unblock tap itself:
//! admin only, private chat, duplicate-suppressed, through `Backend::unblock` (the usage
//! endpoint is asked first), the result edited into the message tapped.

use std::sync::Arc;
use std::time::Instant;

use super::{Act, claim, failed};
use crate::chat::callback::CallbackData;
use crate::chat::conversation::{Conversation, Ctx};
use crate::chat::dedupe::Guard;
use crate::chat::delivery;
use crate::chat::keys::ProfileKey;
use crate::chat::render::{self, context};
use crate::chat::transport::{Button, Keyboard};
use crate::engine::profile::ProfileId;
use crate::engine::watch::{ChangeSet, Event};

/// The reply word of the `i`-th unblock offer in the text fallback: `unblock`, `unblock2`...
fn word(i: usize) -> String {
    if i == 0 {
        "unblock".to_owned()
    } else {
        format!("unblock{}", i + 1)
    }
}

/// The profiles a change set offers to unblock, with their button data.
fn offers(changes: &ChangeSet) -> Vec<CallbackData> {
    changes
        .events
        .iter()
        .filter_map(|e| match e {
            Event::StaleBlock { who, .. } => ProfileId::parse(&who.profile).ok(),
            _ => None,
        })
        .map(|id| CallbackData::Unblock(ProfileKey::of(&id)))
        .collect()
}

/// Send `changes` to the chat of `ctx` as one message; `true` when it went out.
pub(crate) async fn notify_one(conv: &Conversation, ctx: &Ctx, changes: &ChangeSet) -> bool {
    let words: Vec<_> = changes
        .events
        .iter()
        .map(|e| e.words_in(changes.now_ms, &conv.zone))
        .collect();
    let offers = offers(changes);
    let text = render::render(
        "watch_changes",
        context! { count => words.len(), events => words, unblock => !offers.is_empty() },
    );
    let t = &*ctx.transport;
    let chat = ctx.origin.chat;
    if ctx.buttons {
        let labels = changes.events.iter().filter_map(|e| match e {
            Event::StaleBlock { who, .. } => Some(who.label.as_str()),
            _ => None,
        });
        let keyboard: Keyboard = offers
            .iter()
            .zip(labels)
            .map(|(data, label)| {
                vec![Button {
                    label: format!("{} {label}", render::label("unblock")),
                    data: data.encode(),
                }]
            })
            .collect();
        let kb = (!keyboard.is_empty()).then_some(&keyboard);
        return delivery::send(t, chat, &text, kb).await.is_some();
    }
    let choices: Vec<(String, CallbackData)> = offers
        .into_iter()
        .enumerate()
        .map(|(i, d)| (word(i), d))
        .collect();
    let full = if choices.is_empty() {
        text
    } else {
        let words: Vec<&str> = choices.iter().map(|(w, _)| w.as_str()).collect();
        let reply = render::render("reply_with", context! { words });
        conv.fallback
            .offer(chat, ctx.origin.user, choices, Instant::now());
        format!("{text}\n{reply}")
    };
    delivery::send(t, chat, &full, None).await.is_some()
}

/// The unblock tap (or its reply word).
pub(crate) async fn unblock(
    conv: &Arc<Conversation>,
    ctx: &Ctx,
    id: ProfileId,
    guard: Option<Guard>,
) {
    let act = Act::Unblock(id);
    let Some(_guard) = claim(conv, ctx, &act, guard).await else {
        return;
    };
    let Act::Unblock(id) = act else { return };
    let t = &*ctx.transport;
    let progress = render::render(
        "watch_unblock_progress",
        context! { profile => id.as_str() },
    );
    let Some(message) = delivery::progress(t, ctx.origin.chat, ctx.on, &progress).await else {
        return;
    };
    let text = match conv.backend.unblock(id).await {
        Ok(c) => render::render(
            "watch_unblock_done",
            context! { profile => c.profile, layer => c.layer, verified => c.verified, backup => c.backup },
        ),
        // A refusal names the window's reset: in the operator's zone, like every shown time.
        Err(e) => conv.local(&failed("Unblock", &e)),
    };
    delivery::edit(t, message, &text, None).await;
}
