//! The pure side of an order change from the chat: the key of the list the order buttons
//! move (stored and effective lists told apart), the key of a proposed change, what a move
//! does to the list, and the proposals waiting for their confirmation tap (one per user,
//! single use, five minutes).

use std::time::{Duration, Instant};

use dashmap::DashMap;

use crate::chat::backend::{OrderChange, OrderView};
use crate::chat::callback::OrderMove;
use crate::chat::paging::ListKey;
use crate::chat::transport::UserId;
use crate::engine::profile::ProfileId;

/// How long a proposed order change stays confirmable.
const PROPOSAL_TTL: Duration = Duration::from_secs(5 * 60);

/// A change waiting for its confirmation tap.
#[derive(Debug, Clone)]
pub(crate) struct Proposal {
    /// The change shown.
    pub change: OrderChange,
    /// The key of the order it was drawn from.
    pub drawn: ListKey,
    /// Its own key ([`change_key`]).
    pub key: ListKey,
    /// When it was shown.
    pub at: Instant,
}

/// Proposed order changes, one per user (a newer one replaces it).
#[derive(Debug, Default)]
pub(crate) struct Proposals(DashMap<UserId, Proposal>);

impl Proposals {
    /// Offer `p` to `user`, replacing an earlier one.
    pub(crate) fn offer(&self, user: UserId, p: Proposal) {
        let now = Instant::now();
        self.0
            .retain(|_, p| now.saturating_duration_since(p.at) < PROPOSAL_TTL);
        self.0.insert(user, p);
    }

    /// The user's proposal if it is the one `key` names and still fresh; used up.
    pub(crate) fn take(&self, user: UserId, key: &ListKey) -> Option<Proposal> {
        let (_, p) = self.0.remove(&user)?;
        (p.key == *key && p.at.elapsed() < PROPOSAL_TTL).then_some(p)
    }

    /// Forget the user's proposal (a cancel).
    pub(crate) fn cancel(&self, user: UserId) {
        self.0.remove(&user);
    }
}

/// The key of the list the order buttons move: stored and effective lists are told apart.
pub(crate) fn working_key(v: &OrderView) -> ListKey {
    let ids: Vec<&str> = v.working.iter().map(|m| m.id.as_str()).collect();
    ListKey::of(
        if v.stored.is_some() {
            "stored"
        } else {
            "effective"
        },
        &ids,
    )
}

/// The key of a proposed change, which its confirmation button carries.
pub(crate) fn change_key(c: &OrderChange) -> ListKey {
    match c {
        OrderChange::Set(ids) => {
            let ids: Vec<&str> = ids.iter().map(ProfileId::as_str).collect();
            ListKey::of("set", &ids)
        }
        OrderChange::Clear => ListKey::of("clear", &[] as &[&str]),
    }
}

/// `ids` with the profile at `at` moved; `None` when that would leave the order empty.
pub(crate) fn moved(ids: &[ProfileId], at: usize, mv: OrderMove) -> Option<Vec<ProfileId>> {
    let mut next = ids.to_vec();
    match mv {
        OrderMove::First => {
            let id = next.remove(at);
            next.insert(0, id);
        }
        OrderMove::Up => next.swap(at, at.saturating_sub(1)),
        OrderMove::Down => {
            if at + 1 < next.len() {
                next.swap(at, at + 1);
            }
        }
        OrderMove::Out => {
            next.remove(at);
            if next.is_empty() {
                return None;
            }
        }
    }
    Some(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(s: &[&str]) -> Vec<ProfileId> {
        s.iter().map(|i| ProfileId::parse(i).unwrap()).collect()
    }

    #[test]
    fn moves() {
        let l = ids(&["openai:a", "openai:b", "openai:c"]);
        let m = |at, mv| {
            moved(&l, at, mv).map(|v| v.iter().map(|i| i.name().to_owned()).collect::<Vec<_>>())
        };
        assert_eq!(m(2, OrderMove::First).unwrap(), ["c", "a", "b"]);
        assert_eq!(m(1, OrderMove::Up).unwrap(), ["b", "a", "c"]);
        assert_eq!(m(0, OrderMove::Up).unwrap(), ["a", "b", "c"]);
        assert_eq!(m(1, OrderMove::Down).unwrap(), ["a", "c", "b"]);
        assert_eq!(m(2, OrderMove::Down).unwrap(), ["a", "b", "c"]);
        assert_eq!(m(0, OrderMove::Out).unwrap(), ["b", "c"]);
        assert_eq!(moved(&ids(&["openai:a"]), 0, OrderMove::Out), None);
    }

    #[test]
    fn proposals_are_single_use_and_named() {
        let p = Proposals::default();
        let key = change_key(&OrderChange::Clear);
        let other = change_key(&OrderChange::Set(ids(&["openai:a"])));
        let drawn = ListKey::of("stored", &["openai:a"]);
        let offer = || Proposal {
            change: OrderChange::Clear,
            drawn: drawn.clone(),
            key: key.clone(),
            at: Instant::now(),
        };
        p.offer(UserId(1), offer());
        assert!(p.take(UserId(2), &key).is_none());
        assert!(
            p.take(UserId(1), &other).is_none(),
            "a wrong key uses it up"
        );
        assert!(p.take(UserId(1), &key).is_none());
        p.offer(UserId(1), offer());
        assert!(p.take(UserId(1), &key).is_some());
        assert!(p.take(UserId(1), &key).is_none());
    }
}
