//! The pure decision: from the snapshot (stored and effective order, the gateway's windows),
//! this round's usage results, the strategy, the last threshold and the session pins, either
//! keep the order (`Keep`, with why) or write a new one (`Reorder`, with from, to and why).
//!
//! The order changes **only when the first profile must change**: every reorder that moves
//! the first costs the gateway's prompt cache, so a new order is written only when another
//! profile should be tried first, never to tidy the tail.
//!
//! - **most-left**: the first must change when it is limited or broken, or when a usable
//!   profile has at least [`MOST_LEFT_MARGIN`] points more left in its tighter window (a
//!   smaller lead, and ties, keep the first: two profiles a point apart would otherwise swap
//!   on every round).
//! - **drain-first**: the first must change when it is limited or broken, or once its tighter
//!   window has reached the last threshold; it then goes to the usable profile with the most
//!   left that has not reached it (none such: keep draining the first while it is usable).
//! - A first whose check said nothing (timeout, 5xx...) is kept: no move on a guess.
//! - The new order holds exactly the profiles the current order names (the ones retired stay
//!   out), the new first, then the rest ranked as in [`super::standing`].

use serde::Serialize;

use super::config::Strategy;
use super::standing::{Standing, standing};
use crate::engine::change::session::SessionOverride;
use crate::engine::store::Snapshot;
use crate::engine::usage::ProfileResult;

/// The lead (percentage points of the tighter window) another profile needs over the first
/// for most-left to move it first.
pub const MOST_LEFT_MARGIN: f64 = 10.0;

/// One profile of the order and where it stands.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProfileStanding {
    /// Profile id.
    pub profile: String,
    /// Its standing (`state`: usable, unknown, limited, broken, with its facts).
    #[serde(flatten)]
    pub standing: Standing,
    /// Whether its tighter window has reached the last threshold.
    pub crossed_threshold: bool,
    /// The standing in words.
    pub reason: String,
}

/// A session pin and what the decision does to it (nothing: auto-order never writes pins).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PinnedSession {
    /// The session key.
    pub session_key: String,
    /// The pinned profile.
    pub profile: String,
    /// The pin's source as OpenClaw resolves it (`user`, `user-link`, `auto`).
    pub source: String,
    /// A user pin: the gateway keeps it whatever the order says.
    pub user_pin: bool,
}

/// Why the order is kept.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum KeepWhy {
    /// No profile is in the order.
    NoProfiles,
    /// One profile only: there is nothing to reorder.
    OneProfile,
    /// The first profile is still fine for this strategy.
    FirstFine,
    /// The first's check said nothing about its quota.
    FirstUnknown,
    /// The first should change but no usable profile could take its place.
    NoBetterProfile,
}

/// Why the first profile changes.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum MoveWhy {
    /// The first is limited (usage endpoint or gateway window).
    FirstLimited,
    /// The first will not work without someone acting.
    FirstBroken,
    /// drain-first: the first's tighter window reached the last threshold.
    FirstCrossedThreshold {
        /// The threshold, percent used.
        threshold: u8,
    },
    /// most-left: another profile has at least the margin more left.
    MoreLeft {
        /// The margin, percentage points.
        margin: f64,
    },
}

/// What auto-order decided.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Verdict {
    /// Write nothing.
    Keep {
        /// Why.
        why: KeepWhy,
    },
    /// Store a new order.
    Reorder {
        /// The new order, first preferred.
        to: Vec<String>,
        /// Its first profile.
        first_after: String,
        /// Why the first changes.
        why: MoveWhy,
    },
}

/// The decision, in data: the renderers and templates word it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    /// The provider whose order it is.
    pub provider: String,
    /// The strategy used.
    pub strategy: Strategy,
    /// The last threshold, percent used.
    pub last_threshold: u8,
    /// The order the gateway follows now (every profile it names, tried first first).
    pub from: Vec<String>,
    /// The profile the gateway tries first now.
    pub first_before: Option<String>,
    /// Keep or reorder.
    #[serde(flatten)]
    pub verdict: Verdict,
    /// Each profile of `from` and where it stands, in `from`'s order.
    pub profiles: Vec<ProfileStanding>,
    /// The sessions that pin a profile of this order: they keep it (auto-order never writes
    /// a pin; a user pin holds whatever the order says, an automatic one while its profile is
    /// usable).
    pub pinned_sessions: Vec<PinnedSession>,
}

impl Decision {
    /// Whether a new order is to be written.
    pub fn reorders(&self) -> bool {
        matches!(self.verdict, Verdict::Reorder { .. })
    }

    /// The new order, when one is to be written.
    pub fn new_order(&self) -> Option<&[String]> {
        match &self.verdict {
            Verdict::Reorder { to, .. } => Some(to),
            Verdict::Keep { .. } => None,
        }
    }

    /// A profile's standing, by id.
    pub fn standing_of(&self, id: &str) -> Option<&ProfileStanding> {
        self.profiles.iter().find(|p| p.profile == id)
    }
}

/// The inputs of [`decide`] besides the snapshot.
#[derive(Debug, Clone, Copy)]
pub struct Round<'a> {
    /// The provider whose order to decide (the store's Codex provider).
    pub provider: &'a str,
    /// This round's usage results (profiles not in it count as unchecked).
    pub results: &'a [ProfileResult],
    /// The strategy.
    pub strategy: Strategy,
    /// The last alert threshold, percent used.
    pub last_threshold: u8,
    /// The agent's session pins.
    pub pins: &'a [SessionOverride],
}

/// Decide, purely, over a snapshot and a round.
pub fn decide(snap: &Snapshot, round: &Round<'_>) -> Decision {
    let eff = snap.effective_order(round.provider);
    // Every stored profile the order names, tried ones first (an `order set` may name
    // stored profiles only).
    let from: Vec<String> = eff
        .members()
        .into_iter()
        .filter(|id| snap.raw_profile(id).is_some())
        .collect();
    let profiles: Vec<ProfileStanding> = from
        .iter()
        .map(|id| {
            let entry = eff.tried.iter().chain(&eff.skipped).find(|e| &e.id == id);
            let result = round.results.iter().find(|r| &r.profile == id);
            let s = standing(result, entry);
            ProfileStanding {
                profile: id.clone(),
                crossed_threshold: s.crossed(round.last_threshold),
                reason: s.describe(),
                standing: s,
            }
        })
        .collect();
    let pinned_sessions = round
        .pins
        .iter()
        .filter(|p| from.contains(&p.profile))
        .map(|p| PinnedSession {
            session_key: p.session_key.clone(),
            profile: p.profile.clone(),
            source: p.resolved_source().to_owned(),
            user_pin: p.is_user_pin(),
        })
        .collect();
    let first_before = eff.ids.first().cloned().or_else(|| from.first().cloned());
    let verdict = verdict(&profiles, first_before.as_deref(), round);
    Decision {
        provider: round.provider.to_owned(),
        strategy: round.strategy,
        last_threshold: round.last_threshold,
        from,
        first_before,
        verdict,
        profiles,
        pinned_sessions,
    }
}

fn keep(why: KeepWhy) -> Verdict {
    Verdict::Keep { why }
}

fn verdict(profiles: &[ProfileStanding], first: Option<&str>, round: &Round<'_>) -> Verdict {
    let Some(first) = first.and_then(|f| profiles.iter().find(|p| p.profile == f)) else {
        return keep(KeepWhy::NoProfiles);
    };
    if profiles.len() < 2 {
        return keep(KeepWhy::OneProfile);
    }
    let mut ranked: Vec<&ProfileStanding> = profiles.iter().collect();
    ranked.sort_by(|a, b| a.standing.cmp_rank(&b.standing));
    let others = || {
        ranked
            .iter()
            .copied()
            .filter(|p| p.profile != first.profile && p.standing.is_usable())
    };
    let (candidate, why) = match &first.standing {
        Standing::Unknown { .. } => return keep(KeepWhy::FirstUnknown),
        Standing::Limited { .. } => (others().next(), MoveWhy::FirstLimited),
        Standing::Broken { .. } => (others().next(), MoveWhy::FirstBroken),
        Standing::Usable { .. } => match round.strategy {
            Strategy::DrainFirst if !first.crossed_threshold => return keep(KeepWhy::FirstFine),
            Strategy::DrainFirst => (
                others().find(|p| !p.crossed_threshold),
                MoveWhy::FirstCrossedThreshold {
                    threshold: round.last_threshold,
                },
            ),
            Strategy::MostLeft => {
                let Some(mine) = first.standing.remaining() else {
                    return keep(KeepWhy::FirstFine);
                };
                let best = others().next().filter(|b| {
                    b.standing
                        .remaining()
                        .is_some_and(|r| r >= mine + MOST_LEFT_MARGIN)
                });
                if best.is_none() {
                    return keep(KeepWhy::FirstFine);
                }
                (
                    best,
                    MoveWhy::MoreLeft {
                        margin: MOST_LEFT_MARGIN,
                    },
                )
            }
        },
    };
    let Some(next) = candidate else {
        return keep(KeepWhy::NoBetterProfile);
    };
    let mut to = vec![next.profile.clone()];
    to.extend(
        ranked
            .iter()
            .filter(|p| p.profile != next.profile)
            .map(|p| p.profile.clone()),
    );
    Verdict::Reorder {
        first_after: next.profile.clone(),
        to,
        why,
    }
}
