//! `/codex_auth backups`: the newest backups (at most [`SHOWN`], newest first) with what each
//! was taken before, a restore button each; the tap shows what would come back and the rule
//! (profiles that exist keep their current tokens), and only the confirmation tap restores,
//! through the engine's restore (a backup of the current layer first, then verify).

use std::sync::Arc;

use crate::chat::backend::{BACKUP_OF_OTHER_STORE, NO_SUCH_BACKUP, RestorePreview};
use crate::chat::callback::CallbackData;
use crate::chat::conversation::{Conversation, Ctx};
use crate::chat::dedupe::Guard;
use crate::chat::delivery;
use crate::chat::flows::offers::{backup_key, offer};
use crate::chat::flows::{Act, Choice, claim, failed, show, show_menu};
use crate::chat::permissions::Role;
use crate::chat::render::{self, Value, context, label};
use crate::chat::transport::ChatKind;

/// How many backups the list shows (the newest; older ones stay on disk, the CLI lists all).
pub(super) const SHOWN: usize = 8;

/// Whether changes can be offered here: an admin in a private chat.
pub(super) fn may_change(ctx: &Ctx) -> bool {
    ctx.role == Role::Admin && ctx.origin.kind == ChatKind::Private
}

/// The list, each with its restore button.
pub(super) async fn list(conv: &Conversation, ctx: &Ctx) {
    let all = match conv.backend.backups().await {
        Ok(all) => all,
        Err(e) => return show(ctx, &failed("Reading the backups", &e)).await,
    };
    let total = all.len();
    let shown: Vec<_> = all.into_iter().take(SHOWN).collect();
    let values: Vec<Value> = shown
        .iter()
        .enumerate()
        .map(|(i, b)| {
            context! {
                n => i + 1, action => b.action.as_str(), target => b.target.as_deref(),
                // In the operator's zone, absolute and relative (`Dec 1 14:25 IST, 2h 5m ago`).
                layer => b.layer.as_str(), at => conv.when(&b.created_at),
            }
        })
        .collect();
    let buttons = may_change(ctx);
    let text = render::render(
        "backups",
        context! { backups => values, total, shown => shown.len(), buttons },
    );
    let rows = if buttons {
        shown
            .iter()
            .enumerate()
            .map(|(i, b)| {
                vec![Choice::new(
                    format!("{} {}", label("restore"), i + 1),
                    format!("restore{}", i + 1),
                    CallbackData::Restore(backup_key(&b.name)),
                )]
            })
            .collect()
    } else {
        Vec::new()
    };
    show_menu(conv, ctx, &text, rows).await;
}

fn preview_value(p: &RestorePreview, conv: &Conversation) -> Value {
    Value::from_serialize(serde_json::json!({
        "created_at": conv.when(&p.created_at), "action": p.action, "target": p.target,
        "layer": p.layer.to_string().split(" (").next().unwrap_or_default(),
        "returning": p.returning, "leaving": p.leaving, "kept_live": p.kept_live,
        "order_now": p.order_now, "order_after": p.order_after, "unchanged": p.unchanged,
    }))
}

/// What restoring `name` brings back, and the confirmation tap.
pub(super) async fn ask(conv: &Conversation, ctx: &Ctx, name: String) {
    let p = match conv.backend.restore_preview(name.clone()).await {
        Ok(p) => p,
        Err(e) => return show(ctx, &refusal(&e)).await,
    };
    let text = render::render("restore_confirm", context! { p => preview_value(&p, conv) });
    if p.unchanged {
        return show(ctx, &text).await;
    }
    offer(conv, ctx.origin.user, format!("restore:{name}"));
    let rows = vec![vec![
        Choice::new(
            label("confirm_restore"),
            "confirm",
            CallbackData::ConfirmRestore(backup_key(&name)),
        ),
        Choice::new(label("cancel"), "cancel", CallbackData::Cancel),
    ]];
    show_menu(conv, ctx, &text, rows).await;
}

/// A restore failure as the chat says it: a gone backup is an out-of-date menu, a backup of
/// another store its own short refusal (already in chat words).
fn refusal(e: &crate::chat::backend::BackendError) -> String {
    match e.code {
        NO_SUCH_BACKUP => render::text("stale_menu"),
        BACKUP_OF_OTHER_STORE => e.message.clone(),
        _ => failed("Restore", e),
    }
}

/// Restore `name` (confirmed): progress, then the outcome on the same message.
pub(super) async fn restore(
    conv: &Arc<Conversation>,
    ctx: &Ctx,
    name: String,
    guard: Option<Guard>,
) {
    let act = Act::Restore(name);
    let Some(_guard) = claim(conv, ctx, &act, guard).await else {
        return;
    };
    let Act::Restore(name) = act else { return };
    let t = &*ctx.transport;
    let Some(message) = delivery::progress(
        t,
        ctx.origin.chat,
        ctx.on,
        &render::text("restore_progress"),
    )
    .await
    else {
        return;
    };
    let text = match conv.backend.restore(name).await {
        Ok(c) => render::render(
            "restore_done",
            context! { name => c.profile, layer => c.layer, verified => c.verified, backup => c.backup },
        ),
        Err(e) => refusal(&e),
    };
    delivery::edit(t, message, &text, None).await;
}
