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

/// `s` without the file paths the engine names in parentheses (`the shared state-db store
/// (/home/…/openclaw.sqlite)` → `the shared state-db store`): too long for a phone, and
/// nothing a chat user acts on.
pub(super) fn without_paths(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(" (/") {
        out.push_str(&rest[..i]);
        match rest[i..].find(')') {
            Some(j) => rest = &rest[i + j + 1..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The template's view of the report: rows with their flag and the profile's label.
fn rows(r: &LayersReport, labels: &HashMap<String, String>, conv: &Conversation) -> Vec<Value> {
    r.layers
        .iter()
        .map(|row| {
            let flagged = r.conflicts.iter().any(|c| c.layers.contains(&row.layer));
            let profile = row.profile.as_deref();
            context! {
                key => row.layer,
                profile,
                label => profile.and_then(|p| labels.get(p)).map(String::as_str),
                detail => conv.local(&row.detail),
                source => without_paths(&row.source),
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
            let facts: std::collections::BTreeMap<&String, String> = c
                .facts
                .iter()
                .map(|(k, v)| (k, conv.local(&without_paths(v))))
                .collect();
            let sentence = conv.local(&without_paths(sentence));
            context! { code => c.code, facts, sentence }
        })
        .collect();
    let text = render::render(
        "layers",
        context! {
            provider => r.provider.as_str(),
            in_use => in_use.as_deref(),
            in_use_label => in_use.as_deref().and_then(|p| labels.get(p)).map(String::as_str),
            rows => rows(&r, &labels, conv),
            conflicts,
            show_sessions => may_change(ctx),
        },
    );
    show(ctx, &text).await;
}

#[cfg(test)]
mod tests {
    use super::without_paths;

    #[test]
    fn paths_in_parentheses_go() {
        assert_eq!(
            without_paths("stored order in the shared state-db store (/tmp/x/openclaw.sqlite)"),
            "stored order in the shared state-db store"
        );
        assert_eq!(
            without_paths("a (/p/1) and b (/p/2): c (plus)"),
            "a and b: c (plus)"
        );
        assert_eq!(without_paths("open (/unclosed"), "open");
    }
}
