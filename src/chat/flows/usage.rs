//! The usage check flow: progress first, then one check (shared by every chat asking the same
//! at the same time, [`crate::chat::backend`]), then the result on the same path. The result's
//! text is rendered once per shared answer ([`LastText`]): 1,000 chats waiting on one check of
//! 50 profiles each rendered the same 100 lines before, on the two cores that were still
//! sending the other chats' progress messages (`benches/chat`).

use std::sync::{Arc, Mutex, PoisonError};

use super::{Act, Guard, claim, failed};
use crate::chat::backend::UsageReport;
use crate::chat::conversation::{Conversation, Ctx};
use crate::chat::delivery;
use crate::chat::render::{self, context};
use crate::engine::profile::ProfileId;

/// The last usage result rendered and its text, so chats sharing one check render it once.
/// Keyed by the whole report (equal reports render to equal text: the template reads nothing
/// else, and delivery adds each chat's agent header afterwards).
#[derive(Default)]
pub(crate) struct LastText {
    last: Mutex<Option<(UsageReport, Arc<str>)>>,
}

impl LastText {
    /// The text of `report`: the remembered one when it is the last report rendered, else
    /// rendered now (outside the lock) and remembered.
    pub(crate) fn of(&self, report: &UsageReport) -> Arc<str> {
        {
            let last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some((_, text)) = last.as_ref().filter(|(r, _)| r == report) {
                return Arc::clone(text);
            }
        }
        let text: Arc<str> = render_report(report).into();
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        *last = Some((report.clone(), Arc::clone(&text)));
        text
    }
}

/// A usage result as the chat shows it.
fn render_report(r: &UsageReport) -> String {
    render::render(
        "usage_result",
        context! {
            lines => r.lines, ok => r.ok_count, failed => r.failed_count,
            usable => r.usable_count, limited => r.limited_count,
            checked => r.ok_count + r.failed_count,
            forecast => r.forecast,
        },
    )
}

/// Check `ids`: the progress message, the (shared) check, the result in its place.
pub(super) async fn usage(
    conv: &Arc<Conversation>,
    ctx: &Ctx,
    ids: Vec<ProfileId>,
    guard: Option<Guard>,
) {
    let act = Act::Usage(ids);
    let Some(_guard) = claim(conv, ctx, &act, guard).await else {
        return;
    };
    let Act::Usage(ids) = act else { return };
    let t = &*ctx.transport;
    let Some(message) =
        delivery::progress(t, ctx.origin.chat, ctx.on, &render::text("usage_progress")).await
    else {
        return;
    };
    let text = match conv.backend.usage(ids).await {
        Ok(r) => conv.usage_text.of(&r),
        Err(e) => failed("Usage check", &e).into(),
    };
    delivery::edit(t, message, &text, None).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(line: &str) -> UsageReport {
        UsageReport {
            lines: vec![line.to_owned()],
            ok_count: 1,
            usable_count: 1,
            ..UsageReport::default()
        }
    }

    #[test]
    fn an_equal_report_reuses_the_text_and_a_different_one_renders_afresh() {
        let memo = LastText::default();
        let a = memo.of(&report("alice · plus · 5h 42% left"));
        let again = memo.of(&report("alice · plus · 5h 42% left"));
        assert!(Arc::ptr_eq(&a, &again), "the same report is rendered once");
        assert_eq!(&*a, render_report(&report("alice · plus · 5h 42% left")));
        let b = memo.of(&report("bob · pro · 5h 7% left"));
        assert!(b.contains("bob · pro"), "{b}");
        assert!(
            !b.contains("alice"),
            "a new report is never given an old text: {b}"
        );
    }
}
