//! `/codex_auth agent [NAME]`: which agent an admin's chat shows and changes, where the
//! state directory holds several (see [`crate::chat::agents`]). The menu lists the agents
//! as buttons (or reply words); a name that is not an agent of this state directory gets a
//! clear answer and changes nothing. A switch is saved for the next start (see
//! `backend/agent_memory.rs`); if saving fails, the answer says the choice lasts until then.

use crate::chat::agents::Scope;
use crate::chat::callback::CallbackData;
use crate::chat::conversation::{Conversation, Ctx};
use crate::chat::flows::{Choice, failed, show, show_menu};
use crate::chat::render::{self, context};

/// The agent this chat uses now.
fn current(conv: &Conversation, ctx: &Ctx) -> String {
    conv.agent_choices
        .get(ctx.origin.user, ctx.origin.chat)
        .unwrap_or_else(|| conv.agent.clone())
}

/// The agents of the state directory; the configured one alone when it has none.
async fn agents(conv: &Conversation, ctx: &Ctx) -> Option<Vec<String>> {
    match conv.backend.agents().await {
        Ok(a) if a.is_empty() => Some(vec![conv.agent.clone()]),
        Ok(a) => Some(a),
        Err(e) => {
            show(ctx, &failed("Listing the agents", &e)).await;
            None
        }
    }
}

/// The agents, one button each.
pub(super) async fn menu(conv: &Conversation, ctx: &Ctx) {
    let Some(agents) = agents(conv, ctx).await else {
        return;
    };
    let current = current(conv, ctx);
    let text = render::render(
        "agent_menu",
        context! { agents => agents.clone(), current, default => conv.agent.as_str() },
    );
    let rows = agents
        .iter()
        .map(|a| {
            vec![Choice::new(
                a.clone(),
                a.clone(),
                CallbackData::Agent(a.clone()),
            )]
        })
        .collect();
    show_menu(conv, ctx, &text, rows).await;
}

/// Switch this chat to agent `name`, if the state directory has it.
pub(super) async fn switch(conv: &Conversation, ctx: &Ctx, name: &str) {
    let Some(agents) = agents(conv, ctx).await else {
        return;
    };
    if !agents.iter().any(|a| a == name) {
        let text = render::render("agent_unknown", context! { given => name, agents });
        return show(ctx, &text).await;
    }
    conv.agent_choices
        .set(ctx.origin.user, ctx.origin.chat, name, &conv.agent);
    let keep = (name != conv.agent).then(|| name.to_owned());
    let (user, chat) = (ctx.origin.user, ctx.origin.chat);
    let unsaved = match conv.backend.save_agent(user, chat, keep).await {
        Ok(()) => false,
        Err(e) => {
            tracing::warn!(error = %e, "saving a chat's agent choice failed");
            true
        }
    };
    // This answer already belongs to the new agent: its header says so.
    let scope = Scope {
        agent: Some(name.to_owned()),
        header: crate::chat::agents::header(&agents, name),
    };
    let text = render::render(
        "agent_switched",
        context! { agent => name, default => conv.agent.as_str(), unsaved },
    );
    scope.run(show(ctx, &text)).await;
}
