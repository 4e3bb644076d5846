//! `/codex_auth order`: the stored and the effective order (as `order get` reports them), with
//! buttons per profile (make first, move up, move down, take out) and "clear stored order";
//! `/codex_auth order A B ...` sets it and `/codex_auth order clear` clears it.
//!
//! Every change is planned first by the engine (a dry run of the change pipeline: the new
//! order, who leaves service). A change that takes no profile out of service (a move) is
//! applied at once; one that does (take out, an order leaving someone out) and a clear wait
//! for a confirmation tap. The confirmation is kept per user and names both the order it was
//! drawn from and the order it proposes, so a tap after the order changed is refused as out
//! of date, like a tap on an order button of an old menu. Viewing is for everyone allowed to
//! view; the buttons show (and work) for admins in a private chat only.

use std::sync::Arc;
use std::time::Instant;

use crate::chat::backend::{OrderChange, OrderMember, OrderView};
use crate::chat::callback::{CallbackData, OrderAction, OrderMove, OrderTap, PageTap};
use crate::chat::conversation::{Conversation, Ctx};
use crate::chat::dedupe::Guard;
use crate::chat::delivery;
use crate::chat::flows::menus::nav_row;
use crate::chat::flows::order_edit::{Proposal, change_key, moved, working_key};
use crate::chat::flows::{Choice, failed, show, show_menu};
use crate::chat::keys::ProfileKey;
use crate::chat::paging::{self, ListKey, Menu};
use crate::chat::permissions::Role;
use crate::chat::render::{self, Value, context, label};
use crate::chat::transport::ChatKind;
use crate::engine::profile::ProfileId;

/// The key of the order the buttons move, as it is now.
pub(super) async fn current_key(conv: &Conversation) -> Option<ListKey> {
    conv.backend.order().await.ok().map(|v| working_key(&v))
}

/// Whether an order button was drawn from the order as it is now (and, for a confirmation,
/// whether it confirms the change this user was last shown).
pub(crate) async fn is_current(conv: &Conversation, action: &OrderAction) -> bool {
    let Some(now) = current_key(conv).await else {
        return false;
    };
    match action {
        OrderAction::Move(_, list, _) | OrderAction::Clear(list) => *list == now,
        OrderAction::Confirm(drawn, _) => *drawn == now,
    }
}

/// A member for the templates, the times in its notes in the operator's zone.
fn member_value(m: &OrderMember, conv: &Conversation) -> Value {
    let local = |v: &[String]| v.iter().map(|n| conv.local(n)).collect::<Vec<_>>();
    Value::from_serialize(serde_json::json!({
        "label": m.label,
        "moved_last": local(&m.moved_last),
        "notes": local(&m.notes),
        "last_good": m.last_good,
        "in_store": m.in_store,
    }))
}

fn members(ms: &[OrderMember], conv: &Conversation) -> Vec<Value> {
    ms.iter().map(|m| member_value(m, conv)).collect()
}

async fn read(conv: &Conversation, ctx: &Ctx) -> Option<OrderView> {
    match conv.backend.order().await {
        Ok(v) => Some(v),
        Err(e) => {
            show(ctx, &failed("Reading the order", &e)).await;
            None
        }
    }
}

fn may_change(ctx: &Ctx) -> bool {
    ctx.role == Role::Admin && ctx.origin.kind == ChatKind::Private
}

/// The order view (page `tap`, else the first), with its buttons where they can work.
pub(super) async fn view(conv: &Conversation, ctx: &Ctx, tap: Option<&PageTap>) {
    let Some(v) = read(conv, ctx).await else {
        return;
    };
    let list = working_key(&v);
    let Some(page) = paging::choose(v.working.len(), &list, tap) else {
        return show(ctx, &render::text("stale_menu")).await;
    };
    let buttons = may_change(ctx);
    let text = render::render(
        "order_view",
        context! {
            provider => v.provider.as_str(),
            stored => v.stored.as_deref().map(|s| members(s, conv)),
            layer => v.layer.as_str(),
            source => v.source.as_str(),
            tried => members(&v.tried, conv),
            skipped => members(&v.skipped, conv),
            left_out => members(&v.left_out, conv),
            can_change => buttons,
            tap => ctx.buttons,
            commands => !ctx.transport.bare_replies(),
        },
    );
    let mut rows: Vec<Vec<Choice>> = Vec::new();
    if buttons {
        for (i, m) in v.working.iter().enumerate().skip(page.range.start) {
            if i >= page.range.end {
                break;
            }
            let Ok(id) = ProfileId::parse(&m.id) else {
                continue;
            };
            let key = ProfileKey::of(&id);
            let n = i + 1;
            let button = |mv: OrderMove, l: String, word: &str| {
                let tap = OrderTap::new(OrderAction::Move(mv, list.clone(), key.clone()));
                Choice::new(l, format!("{word} {n}"), CallbackData::Order(tap))
            };
            rows.push(vec![
                button(
                    OrderMove::First,
                    format!("{} {n}. {}", label("order_first"), m.label),
                    "first",
                ),
                button(OrderMove::Up, label("order_up"), "up"),
                button(OrderMove::Down, label("order_down"), "down"),
                button(OrderMove::Out, label("order_out"), "out"),
            ]);
        }
    }
    rows.push(nav_row(Menu::Order, &page, &list));
    if buttons && v.stored.is_some() {
        let tap = OrderTap::new(OrderAction::Clear(list.clone()));
        rows.push(vec![Choice::new(
            label("order_clear"),
            "clear",
            CallbackData::Order(tap),
        )]);
    }
    rows.retain(|r| !r.is_empty());
    show_menu(conv, ctx, &paging::titled(&text, &page), rows).await;
}

/// `/codex_auth order A B ...`: resolve each selector, refuse `all` and a profile named
/// twice, then plan the change.
pub(super) async fn set_selectors(conv: &Arc<Conversation>, ctx: &Ctx, selectors: Vec<String>) {
    let Some(v) = read(conv, ctx).await else {
        return;
    };
    let resolved = match conv.backend.order_members(selectors.clone()).await {
        Ok(r) => r,
        Err(e) => return ctx.say(&failed("Setting the order", &e)).await,
    };
    let mut ids: Vec<ProfileId> = Vec::new();
    for (given, id) in selectors.iter().zip(resolved) {
        let Some(id) = id else {
            return ctx
                .say(&render::render("order_all", context! { given }))
                .await;
        };
        if ids.contains(&id) {
            let profile = id.as_str();
            return ctx
                .say(&render::render(
                    "order_duplicate",
                    context! { given, profile },
                ))
                .await;
        }
        ids.push(id);
    }
    propose(conv, ctx, OrderChange::Set(ids), working_key(&v), None).await;
}

/// `/codex_auth order clear`: plan the clear (it always asks first).
pub(super) async fn clear(conv: &Arc<Conversation>, ctx: &Ctx) {
    let Some(v) = read(conv, ctx).await else {
        return;
    };
    propose(conv, ctx, OrderChange::Clear, working_key(&v), None).await;
}

/// An order button: checked against the order as it is now, then planned or applied.
pub(super) async fn tap(
    conv: &Arc<Conversation>,
    ctx: &Ctx,
    action: OrderAction,
    guard: Option<Guard>,
) {
    let Some(v) = read(conv, ctx).await else {
        return;
    };
    let now = working_key(&v);
    let stale_text = render::text("stale_menu");
    let stale = || show(ctx, &stale_text);
    match action {
        OrderAction::Move(mv, list, key) => {
            if list != now {
                return stale().await;
            }
            let ids: Vec<ProfileId> = v
                .working
                .iter()
                .filter_map(|m| ProfileId::parse(&m.id).ok())
                .collect();
            let Some(at) = ids.iter().position(|i| ProfileKey::of(i) == key) else {
                return stale().await;
            };
            let Some(next) = moved(&ids, at, mv) else {
                let profile = v.working[at].label.as_str();
                return show(ctx, &render::render("order_last_one", context! { profile })).await;
            };
            propose(conv, ctx, OrderChange::Set(next), now, guard).await;
        }
        OrderAction::Clear(list) => {
            if list != now {
                return stale().await;
            }
            propose(conv, ctx, OrderChange::Clear, now, guard).await;
        }
        OrderAction::Confirm(drawn, key) => {
            // Taken in any case: a confirmation is good for one tap.
            let proposal = conv.orders.take(ctx.origin.user, &key);
            match proposal {
                Some(p) if drawn == now && p.drawn == now => {
                    apply(conv, ctx, p.change, guard).await;
                }
                _ => stale().await,
            }
        }
    }
}

/// Plan `change` (a dry run): nothing to do is said; a change nobody leaves service by is
/// applied; anything else is shown with a confirmation.
async fn propose(
    conv: &Arc<Conversation>,
    ctx: &Ctx,
    change: OrderChange,
    drawn: ListKey,
    guard: Option<Guard>,
) {
    let plan = match conv.backend.order_change(change.clone(), false).await {
        Ok(p) => p,
        Err(e) => return show(ctx, &failed("Changing the order", &e)).await,
    };
    if plan.nothing_to_change {
        return show(ctx, &render::text("order_nothing")).await;
    }
    let is_clear = change == OrderChange::Clear;
    if plan.leaving.is_empty() && !is_clear {
        return apply(conv, ctx, change, guard).await;
    }
    let key = change_key(&change);
    conv.orders.offer(
        ctx.origin.user,
        Proposal {
            change,
            drawn: drawn.clone(),
            key: key.clone(),
            at: Instant::now(),
        },
    );
    let text = render::render(
        "order_confirm",
        context! { clear => is_clear, order => plan.order, leaving => plan.leaving },
    );
    let confirm = OrderTap::new(OrderAction::Confirm(drawn, key));
    let rows = vec![vec![
        Choice::new(
            label("confirm_order"),
            "confirm",
            CallbackData::Order(confirm),
        ),
        Choice::new(label("cancel"), "cancel", CallbackData::Cancel),
    ]];
    show_menu(conv, ctx, &text, rows).await;
}

/// Write `change` through the change pipeline: progress first, then the outcome in place.
async fn apply(conv: &Arc<Conversation>, ctx: &Ctx, change: OrderChange, guard: Option<Guard>) {
    let dedupe = format!("order:{}", change_key(&change).as_str());
    let _guard = match guard {
        Some(g) => g,
        None => match conv.dedupe.begin_now(ctx.origin.user, &dedupe) {
            Some(g) => g,
            None => return ctx.say(&render::text("duplicate")).await,
        },
    };
    let t = &*ctx.transport;
    let progress = render::text("order_progress");
    let Some(message) = delivery::progress(t, ctx.origin.chat, ctx.on, &progress).await else {
        return;
    };
    let is_clear = change == OrderChange::Clear;
    let text = match conv.backend.order_change(change, true).await {
        Ok(d) => render::render(
            "order_done",
            context! {
                clear => is_clear, order => d.order, leaving => d.leaving,
                layer => d.layer, verified => d.verified, backup => d.backup,
                in_effect => d.in_effect, nothing => d.nothing_to_change,
            },
        ),
        Err(e) => failed("Changing the order", &e),
    };
    delivery::edit(t, message, &text, None).await;
}
