//! The text fallback (no inline buttons): a selector is a line `Reply with: a | b | c`, and a
//! bare reply with one of those words, from the same user in the same chat within 5 minutes,
//! is taken as that choice (where only commands reach the core, `/codex_usage all` is: see
//! [`Fallback::take_command`]). Offers are kept per (chat, user), replaced by the next offer,
//! used once, and pruned so the map stays small.

use std::time::{Duration, Instant};

use dashmap::DashMap;

use crate::chat::callback::CallbackData;
use crate::chat::transport::{ChatId, UserId};

/// How long an offer stands.
pub const TTL: Duration = Duration::from_secs(5 * 60);
/// The most offers kept at once.
pub const CAPACITY: usize = 4096;

#[derive(Debug, Clone)]
struct Offer {
    choices: Vec<(String, CallbackData)>,
    at: Instant,
}

/// Outstanding text-fallback offers.
#[derive(Debug, Default)]
pub struct Fallback {
    offers: DashMap<(ChatId, UserId), Offer>,
}

impl Fallback {
    /// Offer `choices` (reply word, action) to `user` in `chat`, replacing any earlier offer.
    pub fn offer(
        &self,
        chat: ChatId,
        user: UserId,
        choices: Vec<(String, CallbackData)>,
        now: Instant,
    ) {
        self.offers
            .retain(|_, o| now.saturating_duration_since(o.at) < TTL);
        if self.offers.len() >= CAPACITY {
            // Only reached under a flood of distinct users; forgetting offers is harmless.
            self.offers.clear();
        }
        self.offers.insert((chat, user), Offer { choices, at: now });
    }

    /// The action a bare reply picks, if `user` has a live offer in `chat` naming `word`
    /// (case-insensitive). A matching reply uses the offer up.
    pub fn take(
        &self,
        chat: ChatId,
        user: UserId,
        word: &str,
        now: Instant,
    ) -> Option<CallbackData> {
        self.take_where(chat, user, word, now, |_| true)
    }

    /// The action `/command word` picks where bare replies never reach the core (the
    /// OpenClaw plugin): like [`Fallback::take`], among the choices `command` draws only
    /// ([`CallbackData::command`]), so `/codex_auth work` never runs a usage choice `work`.
    pub fn take_command(
        &self,
        chat: ChatId,
        user: UserId,
        command: &str,
        word: &str,
        now: Instant,
    ) -> Option<CallbackData> {
        self.take_where(chat, user, word, now, |d| d.command() == command)
    }

    fn take_where(
        &self,
        chat: ChatId,
        user: UserId,
        word: &str,
        now: Instant,
        drawn_by: impl Fn(&CallbackData) -> bool,
    ) -> Option<CallbackData> {
        let key = (chat, user);
        let word = word.trim();
        let picked = {
            let offer = self.offers.get(&key)?;
            if now.saturating_duration_since(offer.at) >= TTL {
                None
            } else {
                offer
                    .choices
                    .iter()
                    .find(|(w, d)| w.eq_ignore_ascii_case(word) && drawn_by(d))
                    .map(|(_, d)| d.clone())
            }
        };
        if picked.is_some() {
            self.offers.remove(&key);
        }
        picked
    }

    /// How many offers are outstanding.
    pub fn len(&self) -> usize {
        self.offers.len()
    }

    /// Whether no offer is outstanding.
    pub fn is_empty(&self) -> bool {
        self.offers.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::callback::UsageTarget;

    const C: ChatId = ChatId(1);
    const U: UserId = UserId(1);

    fn choices() -> Vec<(String, CallbackData)> {
        vec![
            ("default".into(), CallbackData::Usage(UsageTarget::Default)),
            ("all".into(), CallbackData::Usage(UsageTarget::All)),
        ]
    }

    #[test]
    fn a_reply_within_five_minutes_is_the_choice_once() {
        let f = Fallback::default();
        let t0 = Instant::now();
        f.offer(C, U, choices(), t0);
        assert_eq!(f.take(C, U, "nope", t0), None);
        assert_eq!(
            f.take(C, U, " ALL ", t0 + Duration::from_secs(299)),
            Some(CallbackData::Usage(UsageTarget::All))
        );
        assert_eq!(f.take(C, U, "all", t0), None, "used up");
    }

    #[test]
    fn a_command_picks_only_the_choices_its_own_menu_drew() {
        let f = Fallback::default();
        let t0 = Instant::now();
        f.offer(C, U, choices(), t0);
        assert_eq!(f.take_command(C, U, "codex_auth", "all", t0), None);
        assert_eq!(
            f.take_command(C, U, "codex_usage", "All", t0),
            Some(CallbackData::Usage(UsageTarget::All))
        );
        assert_eq!(f.take_command(C, U, "codex_usage", "default", t0), None);
    }

    #[test]
    fn only_the_same_user_in_the_same_chat_and_not_after_expiry() {
        let f = Fallback::default();
        let t0 = Instant::now();
        f.offer(C, U, choices(), t0);
        assert_eq!(f.take(C, UserId(2), "all", t0), None);
        assert_eq!(f.take(ChatId(2), U, "all", t0), None);
        assert_eq!(f.take(C, U, "all", t0 + TTL), None);
        // Expired offers are pruned by the next offer.
        f.offer(ChatId(3), U, choices(), t0 + TTL);
        assert_eq!(f.len(), 1);
    }
}
