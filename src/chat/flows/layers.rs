//! `/codex_auth layers`: the seven layers that decide which profile is used, in a form that
//! fits a phone: the profile really in use first, then one short block per layer, a ⚠ on
//! each layer something disagrees about, and what disagrees in chat words
//! (`templates/chat/layers.j2`). Session keys name other chats: only shown in a private chat.

use std::collections::HashMap;

use crate::chat::backend::LayersReport;
use crate::chat::conversation::{Conversation, Ctx};
use crate::chat::flows::backups::may_change;
use crate::chat::flows::{failed, show};
use crate::chat::render::{self, Value, context};

/// The template's view of the report: rows with their flag and the profile's label.
fn rows(r: &LayersReport, labels: &HashMap<String, String>) -> Vec<Value> {
    r.layers
        .iter()
        .map(|row| {
            let flagged = r.conflicts.iter().any(|c| c.layers.contains(&row.layer));
            let profile = row.profile.as_deref();
            context! {
                key => row.layer,
                profile,
                label => profile.and_then(|p| labels.get(p)).map(String::as_str),
                detail => row.detail.as_str(),
                source => row.source.as_str(),
                flagged,
            }
        })
        .collect()
}

/// The layers view.
pub(super) async fn view(conv: &Conversation, ctx: &Ctx) {
    let r = match conv.backend.layers().await {
        Ok(r) => r,
        Err(e) => return show(ctx, &failed("Reading the layers", &e)).await,
    };
    // Labels are a nicety: the view stands without them.
    let labels: HashMap<String, String> = conv
        .backend
        .profiles()
        .await
        .map(|ps| {
            ps.into_iter()
                .map(|p| (p.id.to_string(), p.label))
                .collect()
        })
        .unwrap_or_default();
    let in_use = r
        .layers
        .iter()
        .find(|l| l.layer == "effective_runtime_profile")
        .and_then(|l| l.profile.clone());
    let conflicts: Vec<Value> = r
        .conflicts
        .iter()
        .zip(&r.disagreements)
        .map(|(c, sentence)| {
            context! { code => c.code, facts => c.facts.clone(), sentence => sentence.as_str() }
        })
        .collect();
    let text = render::render(
        "layers",
        context! {
            provider => r.provider.as_str(),
            in_use => in_use.as_deref(),
            in_use_label => in_use.as_deref().and_then(|p| labels.get(p)).map(String::as_str),
            rows => rows(&r, &labels),
            conflicts,
            show_sessions => may_change(ctx),
        },
    );
    show(ctx, &text).await;
}
