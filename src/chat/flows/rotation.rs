//! `/codex_rotation [deep]`: the engine's rotation guidance in chat words
//! (`templates/chat/rotation.j2`, and `rotation_deep.j2` for the long form, which also offers
//! the usage check as a button or reply word).

use crate::chat::callback::{CallbackData, UsageTarget};
use crate::chat::conversation::{Conversation, Ctx};
use crate::chat::flows::{Choice, failed, show, show_menu};
use crate::chat::permissions::Role;
use crate::chat::render::{self, Value, context, label};
use crate::chat::transport::ChatKind;
use crate::engine::rotation::RATE_LIMIT_ROTATIONS;

/// The findings' times (`facts.until`, RFC 3339 from the engine) in the operator's zone.
fn in_zone(mut r: serde_json::Value, conv: &Conversation) -> serde_json::Value {
    let now = conv.now_ms();
    let findings = r.get_mut("findings").and_then(|f| f.as_array_mut());
    for f in findings.into_iter().flatten() {
        if let Some(until) = f.pointer_mut("/facts/until") {
            if let Some(iso) = until.as_str() {
                *until = conv.zone.iso_absolute(iso, now).into();
            }
        }
    }
    r
}

/// Answer `/codex_rotation` (`deep`: the long form).
pub(super) async fn show_rotation(conv: &Conversation, ctx: &Ctx, deep: bool) {
    let r = match conv.backend.rotation().await {
        Ok(r) => r,
        Err(e) => return ctx.say(&failed("Rotation", &e)).await,
    };
    let r = Value::from_serialize(in_zone(serde_json::to_value(&r).unwrap_or_default(), conv));
    // Session keys name other chats (`agent:main:telegram:direct:<id>`): only an admin in a
    // private chat sees them; everyone else reads that a session pins the profile.
    let sessions = ctx.role == Role::Admin && ctx.origin.kind == ChatKind::Private;
    let mut text = render::render(
        "rotation",
        context! { r => r.clone(), show_sessions => sessions },
    );
    if !deep {
        return show(ctx, &text).await;
    }
    text.push_str(&render::render(
        "rotation_deep",
        context! { r => r, rotations => RATE_LIMIT_ROTATIONS },
    ));
    let rows = vec![vec![Choice::new(
        label("all"),
        "all",
        CallbackData::Usage(UsageTarget::All),
    )]];
    show_menu(conv, ctx, &text, rows).await;
}
