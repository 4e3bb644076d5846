//! `/codex_usage history [SEL]` and the selector's History button: the usage history as a
//! chart, progress first on the request's path.
//!
//! # Delivery
//! A text message cannot be edited into a photo, so the progress message is kept and becomes
//! the result's heading: the progress text goes out first (or the selector message a button
//! was on is edited into it), then, where the transport has photos, the chart is sent as a
//! new photo message right after it with the caption, and only once the photo is accepted is
//! the progress message edited into the same caption. If the photo fails, the progress
//! message says so (and shows the sparklines instead), so a failure is never silence and
//! never a dangling "Drawing…". Where the transport has no photos (the terminal, or a
//! transport answering
//! [`crate::chat::transport::TransportError::photos_unsupported`]), the sparklines replace the
//! progress message like any other result. Deleting the progress message instead was
//! rejected: a failed photo would then leave nothing on the path to report on.

use std::sync::Arc;

use crate::chat::backend::HistoryChart;
use crate::chat::conversation::{Conversation, Ctx};
use crate::chat::dedupe::Guard;
use crate::chat::delivery;
use crate::chat::flows::{Act, claim, failed};
use crate::chat::render::{self, context};
use crate::engine::profile::ProfileId;

/// Chart `ids`' usage history.
pub(super) async fn history(
    conv: &Arc<Conversation>,
    ctx: &Ctx,
    ids: Vec<ProfileId>,
    guard: Option<Guard>,
) {
    let act = Act::History(ids);
    let Some(_guard) = claim(conv, ctx, &act, guard).await else {
        return;
    };
    let Act::History(ids) = act else { return };
    let t = &*ctx.transport;
    let progress = render::text("usage_history_progress");
    let Some(message) = delivery::progress(t, ctx.origin.chat, ctx.on, &progress).await else {
        return;
    };
    let photos = t.photos();
    let chart = match conv.backend.usage_history(ids, photos).await {
        Ok(c) => c,
        Err(e) => return delivery::edit(t, message, &failed("Usage history", &e), None).await,
    };
    if !chart.has_data {
        let text = render::render("usage_history_empty", context! { days => chart.days });
        return delivery::edit(t, message, &text, None).await;
    }
    if let Some(png) = chart.png.as_deref().filter(|_| photos) {
        let caption = caption(&chart);
        // The photo skips delivery, so its caption takes the agent header here (the edit
        // below gets it from delivery).
        let headed = crate::chat::agents::with_header(&caption);
        match t.send_photo(ctx.origin.chat, png, &headed, None).await {
            Ok(_) => return delivery::edit(t, message, &caption, None).await,
            Err(e) if e.is_photos_unsupported() => {}
            Err(e) => {
                tracing::warn!(error = %e, "sending the usage history chart failed");
                let text = render::render(
                    "usage_history_photo_failed",
                    context! { message => e.0, text => sparklines(&chart) },
                );
                return delivery::edit(t, message, &text, None).await;
            }
        }
    }
    delivery::edit(t, message, &sparklines(&chart), None).await;
}

fn caption(c: &HistoryChart) -> String {
    render::render(
        "usage_history_caption",
        context! {
            days => c.days, series => c.series, profiles => c.profiles, pool => c.pool,
        },
    )
}

fn sparklines(c: &HistoryChart) -> String {
    render::render(
        "usage_history_text",
        context! { days => c.days, lines => c.sparklines, pool => c.pool },
    )
}
