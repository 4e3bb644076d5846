//! Several agents under one state directory (issue 11 item 7). Each request runs inside a
//! [`Scope`]: the agent its views and changes use (an admin's choice for that chat, else the
//! configured one) and the header that says whose view it is, shown on every message when
//! the state directory holds more than one agent. The backend reads the scope's agent when
//! it opens the store, and delivery puts the header on top, so every flow, present or
//! future, says and uses the right agent without passing it along.
//!
//! An admin's choice is kept per (user, chat), in memory and, through the backend, in
//! `<state>/codex-profiler/chat-agents.json`, so it outlives a restart. A saved agent the
//! state directory no longer has is forgotten on the chat's next request, which runs on the
//! configured agent and says so in one line above the header.

use std::future::Future;

use dashmap::DashMap;

use crate::chat::conversation::Conversation;
use crate::chat::render::{self, context};
use crate::chat::transport::{ChatId, Origin, UserId};

tokio::task_local! {
    static SCOPE: Scope;
}

/// What one request runs with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// The agent chosen for this chat, when it is not the configured one.
    pub agent: Option<String>,
    /// The first line of every message (`Agent work`), when there are several agents.
    pub header: Option<String>,
}

impl Scope {
    /// The scope of the request running now (the default one outside any).
    pub fn current() -> Scope {
        SCOPE.try_with(Clone::clone).unwrap_or_default()
    }

    /// Run `f` in this scope (including what it awaits; a task it spawns must be wrapped
    /// again).
    pub async fn run<F: Future>(self, f: F) -> F::Output {
        SCOPE.scope(self, f).await
    }
}

/// The agent the running request uses, when one was chosen.
pub fn current_agent() -> Option<String> {
    SCOPE.try_with(|s| s.agent.clone()).ok().flatten()
}

/// `text` with the running request's header on top, if it has one.
pub fn with_header(text: &str) -> String {
    match SCOPE.try_with(|s| s.header.clone()).ok().flatten() {
        Some(h) => format!("{h}\n{text}"),
        None => text.to_owned(),
    }
}

/// One saved choice: `user` chose `agent` in `chat`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    /// The admin.
    pub user: UserId,
    /// Their chat.
    pub chat: ChatId,
    /// The agent chosen.
    pub agent: String,
}

/// The admins' choices, per (user, chat).
#[derive(Debug, Default)]
pub struct Choices(DashMap<(UserId, ChatId), String>);

impl Choices {
    /// The choices saved by an earlier run.
    pub fn from_saved(saved: Vec<Saved>) -> Choices {
        Choices(
            saved
                .into_iter()
                .map(|s| ((s.user, s.chat), s.agent))
                .collect(),
        )
    }

    /// Forget `user`'s choice in `chat` (its agent is gone).
    pub fn forget(&self, user: UserId, chat: ChatId) {
        self.0.remove(&(user, chat));
    }

    /// The agent `user` chose in `chat`.
    pub fn get(&self, user: UserId, chat: ChatId) -> Option<String> {
        self.0.get(&(user, chat)).map(|a| a.clone())
    }

    /// Remember `agent` for (`user`, `chat`); the configured agent clears the choice.
    pub fn set(&self, user: UserId, chat: ChatId, agent: &str, configured: &str) {
        if agent == configured {
            self.0.remove(&(user, chat));
        } else {
            self.0.insert((user, chat), agent.to_owned());
        }
    }
}

/// The `Agent …` line naming `shown`, where the state directory holds several `agents`.
pub(crate) fn header(agents: &[String], shown: &str) -> Option<String> {
    (agents.len() > 1).then(|| render::render("agent_header", context! { agent => shown }))
}

/// The scope of a request from `origin`: an admin's choice for that chat, else the
/// configured agent, with its header. A saved choice whose agent the state directory no
/// longer has is forgotten here (in memory and on disk): this request runs on the configured
/// agent, with a one-line notice above the header. A failed listing keeps the choice.
pub(crate) async fn scope_of(conv: &Conversation, origin: Origin, admin: bool) -> Scope {
    let (user, chat) = (origin.user, origin.chat);
    let mut chosen = admin.then(|| conv.agent_choices.get(user, chat)).flatten();
    let listed = conv.backend.agents().await;
    let mut notice = None;
    if let (Some(gone), Ok(agents)) = (&chosen, &listed) {
        if !agents.contains(gone) {
            conv.agent_choices.forget(user, chat);
            if let Err(e) = conv.backend.save_agent(user, chat, None).await {
                tracing::warn!(error = %e, "forgetting a chat's agent choice failed");
            }
            notice = Some(render::render(
                "agent_gone",
                context! { agent => gone, default => conv.agent.as_str() },
            ));
            chosen = None;
        }
    }
    let agents = listed.unwrap_or_default();
    let header = header(&agents, chosen.as_deref().unwrap_or(&conv.agent));
    Scope {
        header: match (notice, header) {
            (Some(n), Some(h)) => Some(format!("{n}\n{h}")),
            (n, h) => n.or(h),
        },
        agent: chosen,
    }
}

/// Whether `name` can be an agent id in a button (`codex_auth_agent:<name>`, 64 bytes at
/// most) and a folder name: letters, digits, `-` and `_`.
pub fn plausible(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 40
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_scope_reaches_what_the_request_awaits_and_nothing_else() {
        assert_eq!(current_agent(), None);
        assert_eq!(with_header("x"), "x");
        let scope = Scope {
            agent: Some("work".into()),
            header: Some("Agent work".into()),
        };
        let inside = scope
            .run(async {
                tokio::task::yield_now().await;
                (current_agent(), with_header("hello"))
            })
            .await;
        assert_eq!(inside, (Some("work".into()), "Agent work\nhello".into()));
        assert_eq!(current_agent(), None);
    }

    #[test]
    fn choices_are_per_user_and_chat() {
        let c = Choices::default();
        c.set(UserId(1), ChatId(1), "work", "main");
        assert_eq!(c.get(UserId(1), ChatId(1)).as_deref(), Some("work"));
        assert_eq!(c.get(UserId(1), ChatId(2)), None);
        assert_eq!(c.get(UserId(2), ChatId(1)), None);
        c.set(UserId(1), ChatId(1), "main", "main");
        assert_eq!(c.get(UserId(1), ChatId(1)), None);
        let saved = Choices::from_saved(vec![Saved {
            user: UserId(3),
            chat: ChatId(4),
            agent: "ops".into(),
        }]);
        assert_eq!(saved.get(UserId(3), ChatId(4)).as_deref(), Some("ops"));
        saved.forget(UserId(3), ChatId(4));
        assert_eq!(saved.get(UserId(3), ChatId(4)), None);
        assert!(plausible("work-2") && !plausible("a/b") && !plausible(""));
    }
}
