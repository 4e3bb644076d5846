//! A decision in engine-side words: one sentence for the outcome (what moved and why, or why
//! the order is kept), one for the pinned sessions. The chat templates word the same facts
//! themselves from the [`Decision`]'s data.

use super::decide::{Decision, KeepWhy, MoveWhy, Verdict};

fn standing_words(d: &Decision, id: &str) -> String {
    d.standing_of(id)
        .map_or_else(|| "no standing".to_owned(), |p| p.reason.clone())
}

/// The outcome in one sentence: `order kept: …` or `move X first: …`.
pub fn sentence(d: &Decision) -> String {
    let first = d.first_before.as_deref().unwrap_or("none");
    match &d.verdict {
        Verdict::Keep { why } => {
            let because = match why {
                KeepWhy::NoProfiles => format!("no {} profile is in the order", d.provider),
                KeepWhy::OneProfile => format!("{first} is the only profile in the order"),
                KeepWhy::FirstFine => match d.strategy {
                    super::Strategy::DrainFirst => format!(
                        "{first} is still below {}% used ({}); drain-first keeps it until it is limited or reaches it",
                        d.last_threshold,
                        standing_words(d, first)
                    ),
                    super::Strategy::MostLeft => format!(
                        "{first} has the most left, or within {} points of it ({})",
                        super::decide::MOST_LEFT_MARGIN,
                        standing_words(d, first)
                    ),
                },
                KeepWhy::FirstUnknown => format!(
                    "the check of {first} said nothing about its quota ({}); no move on a guess",
                    standing_words(d, first)
                ),
                KeepWhy::NoBetterProfile => format!(
                    "{first} should give way ({}) but no other profile is usable{}",
                    standing_words(d, first),
                    if d.strategy == super::Strategy::DrainFirst {
                        format!(" below {}% used", d.last_threshold)
                    } else {
                        String::new()
                    }
                ),
            };
            format!("order kept: {because}")
        }
        Verdict::Reorder {
            first_after, why, ..
        } => {
            let because = match why {
                MoveWhy::FirstLimited => format!("{first} is {}", standing_words(d, first)),
                MoveWhy::FirstBroken => format!("{first} is {}", standing_words(d, first)),
                MoveWhy::FirstCrossedThreshold { threshold } => format!(
                    "{first} reached {threshold}% used ({})",
                    standing_words(d, first)
                ),
                MoveWhy::MoreLeft { margin } => format!(
                    "it has at least {margin} points more left than {first} ({})",
                    standing_words(d, first)
                ),
            };
            format!(
                "move {first_after} first ({}), before {first}: {because}",
                standing_words(d, first_after)
            )
        }
    }
}

/// The pinned sessions in one sentence, `None` when no session pins a profile of the order.
pub fn pins_sentence(d: &Decision) -> Option<String> {
    if d.pinned_sessions.is_empty() {
        return None;
    }
    let list: Vec<String> = d
        .pinned_sessions
        .iter()
        .map(|p| format!("{} → {} ({})", p.session_key, p.profile, p.source))
        .collect();
    Some(format!(
        "pinned sessions keep their profile (auto-order never changes a session pin; the gateway keeps a user pin whatever the order says, an automatic one while its profile is usable): {}",
        list.join(", ")
    ))
}
