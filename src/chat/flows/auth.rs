//! Logins and changes from the chat: PKCE start and finish (the pasted callback URL never
//! leaves its [`Secret`]), device login (a task edits its message when the login ends), retire,
//! and delete behind a confirmation. All admin-only and private-only (checked before here).

use std::sync::Arc;

use crate::chat::backend::LoginDone;
use crate::chat::callback::CallbackData;
use crate::chat::conversation::{Conversation, Ctx};
use crate::chat::dedupe::Guard;
use crate::chat::delivery;
use crate::chat::flows::{Act, Choice, claim, failed, show, show_menu};
use crate::chat::keys::ProfileKey;
use crate::chat::render::{self, context, label};
use crate::engine::profile::ProfileId;
use crate::secret::{CALLBACK_URL_PLACEHOLDER, Secret};

fn minutes(d: std::time::Duration) -> u64 {
    d.as_secs().div_ceil(60)
}

/// When something `d` from now ends, in the operator's zone (`14:40 IST`).
fn ends_at(conv: &Conversation, d: std::time::Duration) -> String {
    let now = conv.now_ms();
    let d = i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 2);
    conv.zone.at(now.saturating_add(d), now)
}

fn done_text(template: &str, d: &LoginDone) -> String {
    render::render(
        template,
        context! {
            profile => d.profile.as_str(),
            email => d.email.as_deref(),
            plan => d.plan.as_deref(),
            updated => d.updated,
            requested => d.requested.as_deref(),
            account => d.account.as_deref(),
        },
    )
}

/// Start a PKCE login and show the link to open.
pub(super) async fn login(conv: &Arc<Conversation>, ctx: &Ctx, name: String, guard: Option<Guard>) {
    let act = Act::Login(name);
    let Some(_guard) = claim(conv, ctx, &act, guard).await else {
        return;
    };
    let Act::Login(name) = act else { return };
    let text = match conv
        .backend
        .login_start(name.clone(), ctx.origin.user)
        .await
    {
        Ok(s) => render::render(
            "login_started",
            context! {
                profile => s.profile,
                name,
                url => s.authorize_url,
                minutes => minutes(s.expires_in),
                until => ends_at(conv, s.expires_in),
            },
        ),
        Err(e) => failed("Starting the login", &e),
    };
    show(ctx, &text).await;
}

/// Finish a login with a pasted callback URL (the message holding it is already deleted).
pub(super) async fn finish(
    conv: &Arc<Conversation>,
    ctx: &Ctx,
    name: Option<String>,
    url: Secret<String>,
    guard: Option<Guard>,
) {
    let placeholder = CALLBACK_URL_PLACEHOLDER;
    // A bare URL names no profile: the engine finds the login by its state. We only check
    // here that one is waiting, to answer clearly when none is.
    let waiting = match &name {
        Some(n) => n.clone(),
        None => match conv.backend.pending_login(ctx.origin.user).await {
            Ok(Some(n)) => n,
            Ok(None) => {
                return ctx
                    .say(&render::render("url_no_pending", context! { placeholder }))
                    .await;
            }
            Err(e) => return ctx.say(&failed("Finishing the login", &e)).await,
        },
    };
    let act = Act::Finish {
        name: Some(waiting),
        url,
    };
    let Some(_guard) = claim(conv, ctx, &act, guard).await else {
        return;
    };
    let Act::Finish { url, .. } = act else { return };
    let progress = format!(
        "{}\n{}",
        render::render(
            "url_deleted",
            context! { placeholder, deleted => ctx.url_deleted }
        ),
        render::text("login_progress")
    );
    let t = &*ctx.transport;
    let Some(message) = delivery::progress(t, ctx.origin.chat, ctx.on, &progress).await else {
        return;
    };
    let text = match conv.backend.login_finish(name, ctx.origin.user, url).await {
        Ok(d) => done_text("login_done", &d),
        Err(e) => failed("The login", &e),
    };
    delivery::edit(t, message, &text, None).await;
}

/// Start a device login; a task edits the same message when it completes, fails or expires.
/// `why`, when given, heads the progress and the code (a login asked for as paste-back).
pub(super) async fn device(
    conv: &Arc<Conversation>,
    ctx: Ctx,
    name: String,
    guard: Option<Guard>,
    why: Option<String>,
) {
    let headed = |text: String| match &why {
        Some(why) => format!("{why}\n{text}"),
        None => text,
    };
    let act = Act::Device(name);
    let Some(guard) = claim(conv, &ctx, &act, guard).await else {
        return;
    };
    let Act::Device(name) = act else { return };
    let t = Arc::clone(&ctx.transport);
    let progress = headed(render::render(
        "device_progress",
        context! { name => name.as_str() },
    ));
    let Some(message) = delivery::progress(&*t, ctx.origin.chat, ctx.on, &progress).await else {
        return;
    };
    let started = match conv
        .backend
        .device_start(name.clone(), ctx.origin.user)
        .await
    {
        Ok(d) => d,
        Err(e) => {
            let text = render::render("device_failed", context! { name, message => e.message });
            return delivery::edit(&*t, message, &text, None).await;
        }
    };
    let waiting = headed(render::render(
        "device_waiting",
        context! {
            name => name.as_str(),
            url => started.verification_url.as_str(),
            code => started.user_code.as_str(),
            minutes => minutes(started.expires_in),
            until => ends_at(conv, started.expires_in),
        },
    ));
    delivery::edit(&*t, message, &waiting, None).await;
    let done = started.done;
    // The login outlives this request: its last edit keeps the request's agent header.
    let scope = crate::chat::agents::Scope::current();
    tokio::spawn(scope.run(async move {
        // The guard lives as long as the login, so a second tap meanwhile is a duplicate.
        let _guard = guard;
        let text = match done.await {
            Ok(d) => done_text("device_done", &d),
            Err(e) => render::render("device_failed", context! { name, message => e.message }),
        };
        delivery::edit(&*t, message, &text, None).await;
    }));
}

/// Retire (`Act::Retire`) or delete (`Act::Delete`, confirmed) a profile: progress, then the
/// outcome on the same message.
pub(super) async fn change(conv: &Arc<Conversation>, ctx: &Ctx, act: Act, guard: Option<Guard>) {
    let Some(_guard) = claim(conv, ctx, &act, guard).await else {
        return;
    };
    let (id, kind) = match act {
        Act::Retire(id) => (id, "retire"),
        Act::Delete(id) => (id, "delete"),
        _ => return,
    };
    let t = &*ctx.transport;
    let progress = render::render(
        &format!("{kind}_progress"),
        context! { profile => id.as_str() },
    );
    let Some(message) = delivery::progress(t, ctx.origin.chat, ctx.on, &progress).await else {
        return;
    };
    let outcome = if kind == "delete" {
        conv.backend.delete(id).await
    } else {
        conv.backend.retire(id).await
    };
    let text = match outcome {
        Ok(c) => render::render(
            &format!("{kind}_done"),
            context! { profile => c.profile, layer => c.layer, verified => c.verified, backup => c.backup },
        ),
        Err(e) => failed(if kind == "delete" { "Delete" } else { "Retire" }, &e),
    };
    delivery::edit(t, message, &text, None).await;
}

/// Ask for the confirmation (a button, or `confirm` in the text fallback / the command).
pub(super) async fn ask_delete(conv: &Arc<Conversation>, ctx: &Ctx, id: ProfileId) {
    conv.offer_confirmation(ctx.origin.user, &id);
    let k = ProfileKey::of(&id);
    let rows = vec![vec![
        Choice::new(
            label("confirm_delete"),
            "confirm",
            CallbackData::ConfirmDelete(k),
        ),
        Choice::new(label("cancel"), "cancel", CallbackData::Cancel),
    ]];
    let text = if ctx.buttons {
        render::render("delete_confirm", context! { profile => id.as_str() })
    } else {
        format!(
            "{}\n{}",
            render::render("delete_confirm", context! { profile => id.as_str() }),
            render::render(
                "delete_confirm_text",
                context! { profile => id.as_str(), name => id.as_str() }
            )
        )
    };
    show_menu(conv, ctx, &text, rows).await;
}
