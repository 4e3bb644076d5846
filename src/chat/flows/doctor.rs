//! `/codex_auth doctor`: the doctor's findings in chat words (`templates/chat/doctor.j2`),
//! numbered, each with a button for its fix where the fix is a safe change: storing the
//! suggested order, retiring a profile whose refresh failed (after a confirmation: it leaves
//! service), logging it in again, clearing a stale block (the watcher's Unblock button: the
//! usage endpoint is asked first). Other fixes are said as the chat action to take, never as a
//! shell command. A fix that would take a profile out of service asks first.

use std::sync::Arc;

use crate::chat::backend::{ChangeDone, FixOutcome, Remedy};
use crate::chat::callback::CallbackData;
use crate::chat::conversation::{Conversation, Ctx};
use crate::chat::dedupe::Guard;
use crate::chat::delivery;
use crate::chat::flows::backups::may_change;
use crate::chat::flows::layers::without_paths;
use crate::chat::flows::offers::{identity, offer, remedy_key};
use crate::chat::flows::{Act, Choice, claim, failed, show, show_menu};
use crate::chat::keys::ProfileKey;
use crate::chat::render::{self, Value, context, label};
use crate::engine::change::doctor::{ROTATION_MEANING, Severity};
use crate::engine::profile::ProfileId;

/// The button (if any) of one remedy of finding `n`.
fn choice(n: usize, r: &Remedy) -> Option<Choice> {
    Some(match r {
        Remedy::SetOrder { .. } => Choice::new(
            format!("{n}: {}", label("fix_order")),
            format!("fix{n}"),
            CallbackData::Fix(remedy_key(r)),
        ),
        Remedy::Retire { .. } => Choice::new(
            format!("{n}: {}", label("retire")),
            format!("retire{n}"),
            CallbackData::Fix(remedy_key(r)),
        ),
        Remedy::Login { profile } => Choice::new(
            format!("{n}: {}", label("login")),
            format!("login{n}"),
            CallbackData::Login(ProfileKey::of(&ProfileId::parse(profile).ok()?)),
        ),
        // The watcher's button: the same data, flow and usage gate.
        Remedy::Unblock { profile } => Choice::new(
            format!("{n}: {}", label("unblock")),
            format!("unblock{n}"),
            CallbackData::Unblock(ProfileKey::of(&ProfileId::parse(profile).ok()?)),
        ),
    })
}

/// A finding's facts with their times in the operator's zone (`finished_at`).
fn local_facts(
    conv: &Conversation,
    facts: &std::collections::BTreeMap<String, String>,
) -> std::collections::BTreeMap<String, String> {
    facts
        .iter()
        .map(|(k, v)| (k.clone(), conv.local(v)))
        .collect()
}

fn remedy_value(r: &Remedy) -> Value {
    Value::from_serialize(r)
}

/// The findings, with their fix buttons where an admin may change things.
pub(super) async fn view(conv: &Conversation, ctx: &Ctx) {
    let r = match conv.backend.doctor().await {
        Ok(r) => r,
        Err(e) => return show(ctx, &failed("Doctor", &e)).await,
    };
    let buttons = may_change(ctx);
    let findings: Vec<Value> = r
        .findings
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let remedies: Vec<Value> = f.remedies.iter().map(remedy_value).collect();
            context! {
                n => i + 1, code => f.code, action => f.severity == Severity::Action,
                title => conv.local(&without_paths(&f.title)),
                meaning => (f.meaning != ROTATION_MEANING).then_some(f.meaning.as_str()),
                facts => local_facts(conv, &f.facts), remedies,
            }
        })
        .collect();
    let text = render::render(
        "doctor",
        context! { healthy => r.healthy, findings, buttons, show_sessions => buttons },
    );
    let rows: Vec<Vec<Choice>> = if buttons {
        r.findings
            .iter()
            .enumerate()
            .map(|(i, f)| f.remedies.iter().filter_map(|r| choice(i + 1, r)).collect())
            .filter(|row: &Vec<Choice>| !row.is_empty())
            .collect()
    } else {
        Vec::new()
    };
    show_menu(conv, ctx, &text, rows).await;
}

fn done_text(remedy: &Remedy, c: &ChangeDone) -> String {
    render::render(
        "fix_done",
        context! {
            r => remedy_value(remedy), layer => c.layer.as_str(),
            verified => c.verified, backup => c.backup.as_deref(),
        },
    )
}

/// Apply a fix: progress, then the outcome, or the confirmation when a profile would leave
/// service, on the same message.
pub(super) async fn fix(
    conv: &Arc<Conversation>,
    ctx: &Ctx,
    remedy: Remedy,
    confirmed: bool,
    guard: Option<Guard>,
) {
    let act = Act::Fix { remedy, confirmed };
    let Some(_guard) = claim(conv, ctx, &act, guard).await else {
        return;
    };
    let Act::Fix { remedy, confirmed } = act else {
        return;
    };
    let t = &*ctx.transport;
    let Some(message) =
        delivery::progress(t, ctx.origin.chat, ctx.on, &render::text("fix_progress")).await
    else {
        return;
    };
    let leaving = match conv.backend.fix(remedy.clone(), confirmed).await {
        Ok(FixOutcome::Done(c)) => {
            return delivery::edit(t, message, &done_text(&remedy, &c), None).await;
        }
        Ok(FixOutcome::Confirm { leaving }) => leaving,
        Err(e) => return delivery::edit(t, message, &failed("The fix", &e), None).await,
    };
    offer(conv, ctx.origin.user, format!("fix:{}", identity(&remedy)));
    let text = render::render(
        "fix_confirm",
        context! { r => remedy_value(&remedy), leaving },
    );
    let rows = vec![vec![
        Choice::new(
            label("confirm_fix"),
            "confirm",
            CallbackData::ConfirmFix(remedy_key(&remedy)),
        ),
        Choice::new(label("cancel"), "cancel", CallbackData::Cancel),
    ]];
    let on = Ctx {
        origin: ctx.origin,
        transport: ctx.transport.clone(),
        buttons: ctx.buttons,
        on: Some(message),
        role: ctx.role,
        url_deleted: ctx.url_deleted,
    };
    show_menu(conv, &on, &text, rows).await;
}
