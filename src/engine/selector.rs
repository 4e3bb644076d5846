//! How users name profiles: `all`, `default`, a full profile id, the id's name, an email
//! (case-insensitive), any label the product shows ([`crate::engine::label`]), an account id
//! or its short form, or the end of an id (`alice@example.com` names
//! `openai:alice@example.com`). Parsed once at the edge; resolved against the effective store.
//!
//! Resolution goes in tiers and stops at the first that matches anything: the exact id; then
//! every exact name (id, id name, email, label, account); then id suffixes. A tier matching
//! one profile picks it; matching several is [`SelectError::Ambiguous`] (with the candidates);
//! nothing at all is [`SelectError::NoMatch`], with up to three close names that each select
//! one profile ([`suggest`]).

mod suggest;

use crate::engine::label::{LabelParts, display_labels};
use crate::engine::profile::{CodexProfile, ProfileId, Provider, short_account};
use crate::engine::store::Snapshot;
use crate::engine::{Failure, FailureKind};

/// A parsed selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// Every Codex profile.
    All,
    /// `<provider>:default` if it exists, else the first of the effective order, else the
    /// first by id.
    Default,
    /// A full profile id (when no profile has it exactly, it is matched like any other text).
    Exact(ProfileId),
    /// Any other text: a name, email, label, account id, or the end of a profile id.
    Suffix(String),
}

/// One of the profiles an ambiguous selector fits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// Its profile id (always a working selector).
    pub id: String,
    /// Its label, as lists show it.
    pub label: String,
}

/// Why a selector did not resolve to profiles.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SelectError {
    /// Empty or blank input.
    #[error("no profile was named: use all, default, a profile id or the end of one")]
    Empty,
    /// Nothing matched.
    #[error("no Codex profile matches `{given}`{}", did_you_mean(suggestions))]
    NoMatch {
        /// What the user typed.
        given: String,
        /// Up to three close names, each selecting exactly one profile.
        suggestions: Vec<String>,
    },
    /// The store has no Codex profile at all.
    #[error(
        "the store holds no Codex profile yet: log in with `codex-profiler auth start --profile NAME`"
    )]
    NoProfiles,
    /// Input that fits more than one profile.
    #[error(
        "`{given}` matches more than one profile: {}; name one by its id",
        list(candidates)
    )]
    Ambiguous {
        /// What the user typed.
        given: String,
        /// Every profile it fits, by id.
        candidates: Vec<Candidate>,
    },
}

fn did_you_mean(suggestions: &[String]) -> String {
    match suggestions {
        [] => " (`codex-profiler profiles` lists them)".to_owned(),
        [one] => format!("; did you mean {one}?"),
        [init @ .., last] => format!("; did you mean {} or {last}?", init.join(", ")),
    }
}

fn list(candidates: &[Candidate]) -> String {
    let each: Vec<String> = candidates
        .iter()
        .map(|c| format!("{} — {}", c.id, c.label))
        .collect();
    each.join("; ")
}

impl Failure for SelectError {
    fn kind(&self) -> FailureKind {
        match self {
            SelectError::Empty => FailureKind::Usage,
            _ => FailureKind::NoMatch,
        }
    }
    fn code(&self) -> &'static str {
        match self {
            SelectError::Empty => "empty_selector",
            SelectError::NoMatch { .. } | SelectError::NoProfiles => "no_matching_profile",
            SelectError::Ambiguous { .. } => "ambiguous_selector",
        }
    }
}

/// Text as selectors compare it: trimmed, inner whitespace single, `...` read as `…` (the
/// short account form), lowercase.
fn norm(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace("...", "…")
        .to_lowercase()
}

/// The exact names a profile answers to (normalised).
fn names(p: &LabelParts<'_>, label: &str) -> Vec<String> {
    let mut keys = vec![norm(p.id), norm(p.name()), norm(label)];
    keys.extend(p.email.map(norm));
    if let Some(a) = p.account_id.filter(|a| !a.is_empty()) {
        keys.push(norm(a));
        keys.push(norm(&short_account(a)));
    }
    keys
}

impl Selector {
    /// Parse user input.
    pub fn parse(input: &str) -> Result<Selector, SelectError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(SelectError::Empty);
        }
        Ok(match s {
            "all" => Selector::All,
            "default" => Selector::Default,
            _ => match ProfileId::parse(s) {
                Ok(id) if Provider::parse(id.provider_part()).is_some() => Selector::Exact(id),
                _ => Selector::Suffix(s.to_owned()),
            },
        })
    }

    /// Resolve against the Codex profiles of the effective store, using the effective order
    /// of `provider` for `default`. Results are sorted by id.
    pub fn resolve_in(
        &self,
        snap: &Snapshot,
        provider: &str,
    ) -> Result<Vec<ProfileId>, SelectError> {
        // Only `default` looks at the order: computing the effective order (eligibility,
        // usage stats, sort of every profile) for any other selector cost a third of `usage`'s
        // start-up at 5,000 profiles.
        let order: Vec<ProfileId> = match self {
            Selector::Default => snap
                .effective_order(provider)
                .ids
                .iter()
                .filter_map(|id| ProfileId::parse(id).ok())
                .collect(),
            _ => Vec::new(),
        };
        self.resolve_profiles(&snap.codex, &order)
    }

    /// Resolve against Codex profiles (any order) and the effective order for the Codex
    /// provider: emails, labels and accounts count, as described in the module header.
    pub fn resolve_profiles(
        &self,
        profiles: &[CodexProfile],
        order: &[ProfileId],
    ) -> Result<Vec<ProfileId>, SelectError> {
        let parts: Vec<LabelParts<'_>> = profiles.iter().map(LabelParts::of).collect();
        self.resolve_parts(&parts, order)
    }

    /// Resolve against bare profile ids (no emails or accounts known: ids, names and
    /// suffixes only). Prefer [`Selector::resolve_profiles`] where the profiles are at hand.
    pub fn resolve(
        &self,
        ids: &[ProfileId],
        order: &[ProfileId],
    ) -> Result<Vec<ProfileId>, SelectError> {
        let parts: Vec<LabelParts<'_>> = ids
            .iter()
            .map(|id| LabelParts {
                id: id.as_str(),
                email: None,
                account_id: None,
                plan: None,
            })
            .collect();
        self.resolve_parts(&parts, order)
    }

    /// Resolve against label parts.
    pub fn resolve_parts(
        &self,
        parts: &[LabelParts<'_>],
        order: &[ProfileId],
    ) -> Result<Vec<ProfileId>, SelectError> {
        let mut sorted: Vec<ProfileId> = parts
            .iter()
            .filter_map(|p| ProfileId::parse(p.id).ok())
            .collect();
        sorted.sort();
        sorted.dedup();
        if sorted.is_empty() {
            return Err(SelectError::NoProfiles);
        }
        match self {
            Selector::All => Ok(sorted),
            Selector::Default => {
                let named_default = Provider::ALL
                    .iter()
                    .filter_map(|p| ProfileId::new(*p, "default").ok())
                    .find(|d| sorted.contains(d));
                let pick = named_default
                    .or_else(|| order.iter().find(|o| sorted.contains(o)).cloned())
                    .or_else(|| sorted.first().cloned());
                pick.map(|p| vec![p]).ok_or(SelectError::NoProfiles)
            }
            Selector::Exact(id) if sorted.contains(id) => Ok(vec![id.clone()]),
            Selector::Exact(id) => Matcher::new(parts).pick(id.as_str()),
            Selector::Suffix(s) => Matcher::new(parts).pick(s),
        }
    }
}

/// The text tiers over one set of profiles, with their labels.
struct Matcher<'p, 'a> {
    parts: &'p [LabelParts<'a>],
    labels: Vec<String>,
    names: Vec<Vec<String>>,
}

impl<'p, 'a> Matcher<'p, 'a> {
    fn new(parts: &'p [LabelParts<'a>]) -> Matcher<'p, 'a> {
        let labels = display_labels(parts);
        let names = parts
            .iter()
            .zip(&labels)
            .map(|(p, l)| names(p, l))
            .collect();
        Matcher {
            parts,
            labels,
            names,
        }
    }

    /// The indexes of the profiles `given` names in the first tier that names any.
    fn hits(&self, given: &str) -> Vec<usize> {
        if let Some(i) = self.parts.iter().position(|p| p.id == given) {
            return vec![i];
        }
        let g = norm(given);
        let exact: Vec<usize> = (0..self.parts.len())
            .filter(|&i| self.names[i].contains(&g))
            .collect();
        if !exact.is_empty() {
            return exact;
        }
        (0..self.parts.len())
            .filter(|&i| norm(self.parts[i].id).ends_with(&g))
            .collect()
    }

    /// The one profile `given` names, or why not.
    fn pick(&self, given: &str) -> Result<Vec<ProfileId>, SelectError> {
        let id = |i: usize| ProfileId::parse(self.parts[i].id).ok();
        match self.hits(given).as_slice() {
            [] => Err(SelectError::NoMatch {
                given: given.to_owned(),
                suggestions: suggest::closest(given, self),
            }),
            [one] => Ok(id(*one).into_iter().collect()),
            many => {
                let mut candidates: Vec<Candidate> = many
                    .iter()
                    .map(|&i| Candidate {
                        id: self.parts[i].id.to_owned(),
                        label: self.labels[i].clone(),
                    })
                    .collect();
                candidates.sort_by(|a, b| a.id.cmp(&b.id));
                Err(SelectError::Ambiguous {
                    given: given.to_owned(),
                    candidates,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests;
