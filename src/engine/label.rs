//! The one way the product names a profile to people: the email (else the id's name), told
//! apart from every other Codex profile of the store that would read the same. Two
//! workspaces of one email get their plan and short account id
//! (`alice@example.com (team, account 3333…0003)`); one account stored under two ids gets the
//! id's name as well. Every label made here resolves back to its profile as a selector
//! (see [`crate::engine::selector`]). Pure.

use crate::engine::profile::{CodexProfile, short_account};

/// What a label is made of: borrowed from a [`CodexProfile`] or from a usage result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LabelParts<'a> {
    /// The full profile id, `<provider>:<name>`.
    pub id: &'a str,
    /// The email, when known.
    pub email: Option<&'a str>,
    /// The ChatGPT account (workspace) id, when known.
    pub account_id: Option<&'a str>,
    /// The plan, when known.
    pub plan: Option<&'a str>,
}

impl<'a> LabelParts<'a> {
    /// The parts of a stored profile.
    pub fn of(p: &'a CodexProfile) -> LabelParts<'a> {
        LabelParts {
            id: p.id.as_str(),
            email: p.email.as_deref(),
            account_id: p.account_id.as_deref(),
            plan: p.plan.as_deref(),
        }
    }

    /// The part of the id after `<provider>:`.
    pub fn name(&self) -> &'a str {
        self.id.split_once(':').map_or(self.id, |(_, n)| n)
    }

    /// The email when known, else the id's name: what a label starts with.
    pub fn base(&self) -> &'a str {
        self.email.unwrap_or_else(|| self.name())
    }

    /// `team, account 3333…0003`: what tells two workspaces apart (`None` when neither the
    /// plan nor the account is known).
    pub fn workspace(&self) -> Option<String> {
        let mut parts: Vec<String> = Vec::new();
        if let Some(plan) = self.plan.filter(|p| !p.is_empty()) {
            parts.push(plan.to_owned());
        }
        if let Some(acct) = self.account_id.filter(|a| !a.is_empty()) {
            parts.push(format!("account {}", short_account(acct)));
        }
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

/// The label of each of `profiles` (same order), told apart from the others: the base when
/// no other profile has it (case-insensitive), else `base (plan, account …)`, and where that
/// still reads like another one (the same account under two ids), `base (plan, account …,
/// name)`, finally `base (full id)`.
pub fn display_labels(profiles: &[LabelParts<'_>]) -> Vec<String> {
    labels_among(profiles, profiles)
}

/// The labels of `wanted`, told apart from every profile in `peers` (the store's Codex
/// profiles; `wanted` may be a subset, e.g. the profiles one usage check ran on, whose lines
/// must still name them unambiguously). Profiles in `wanted` that are not in `peers` count as
/// peers too.
pub fn labels_among(wanted: &[LabelParts<'_>], peers: &[LabelParts<'_>]) -> Vec<String> {
    let mut all: Vec<LabelParts<'_>> = peers.to_vec();
    for w in wanted {
        if !all.iter().any(|p| p.id == w.id) {
            all.push(*w);
        }
    }
    let every: Vec<String> = (0..all.len()).map(|i| label_in(&all, i)).collect();
    wanted
        .iter()
        .map(|w| {
            all.iter()
                .position(|p| p.id == w.id)
                .map_or_else(|| w.base().to_owned(), |i| every[i].clone())
        })
        .collect()
}

/// The label of `all[i]` among `all`.
fn label_in(all: &[LabelParts<'_>], i: usize) -> String {
    let me = &all[i];
    let base = me.base();
    let rivals: Vec<&LabelParts<'_>> = all
        .iter()
        .enumerate()
        .filter(|(j, o)| *j != i && o.base().eq_ignore_ascii_case(base))
        .map(|(_, o)| o)
        .collect();
    if rivals.is_empty() {
        return base.to_owned();
    }
    // Each step adds what the rivals it has not yet told apart from do not share.
    let same_ws = |o: &LabelParts<'_>| o.workspace() == me.workspace();
    let mut tag: Vec<String> = me.workspace().into_iter().collect();
    if me.workspace().is_none() || rivals.iter().any(|o| same_ws(o)) {
        let name_shared = rivals
            .iter()
            .any(|o| same_ws(o) && o.name().eq_ignore_ascii_case(me.name()));
        if name_shared || me.name().eq_ignore_ascii_case(base) {
            tag.push(me.id.to_owned());
        } else {
            tag.push(me.name().to_owned());
        }
    }
    format!("{base} ({})", tag.join(", "))
}

/// `team, account 3333…0003` of a stored profile, for lists of candidates (`None` when
/// unknown).
pub fn workspace_of(p: &CodexProfile) -> Option<String> {
    LabelParts::of(p).workspace()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts<'a>(
        id: &'a str,
        email: Option<&'a str>,
        acct: Option<&'a str>,
        plan: Option<&'a str>,
    ) -> LabelParts<'a> {
        LabelParts {
            id,
            email,
            account_id: acct,
            plan,
        }
    }

    const A1: &str = "11111111-aaaa-4bbb-8ccc-000000000001";
    const A2: &str = "22222222-aaaa-4bbb-8ccc-000000000002";

    #[test]
    fn unique_labels_are_the_email_or_the_name() {
        let ps = [
            parts("openai:laptop", Some("ivy@example.com"), Some(A1), None),
            parts("openai:work", None, None, None),
        ];
        assert_eq!(display_labels(&ps), ["ivy@example.com", "work"]);
    }

    #[test]
    fn workspaces_of_one_email_get_plan_and_account() {
        let ps = [
            parts(
                "openai:alice@example.com",
                Some("alice@example.com"),
                Some(A1),
                Some("plus"),
            ),
            parts(
                "openai:alice@example.com-22222222",
                Some("Alice@example.com"),
                Some(A2),
                Some("team"),
            ),
            parts("openai:bob", Some("bob@example.com"), Some(A2), None),
        ];
        assert_eq!(
            display_labels(&ps),
            [
                "alice@example.com (plus, account 1111…0001)",
                "Alice@example.com (team, account 2222…0002)",
                "bob@example.com",
            ]
        );
        // A usage check of one of them still tells it apart from the rest of the store.
        assert_eq!(
            labels_among(&ps[1..2], &ps),
            ["Alice@example.com (team, account 2222…0002)"]
        );
        assert_eq!(labels_among(&ps[1..2], &[]), ["Alice@example.com"]);
    }

    #[test]
    fn one_account_under_two_ids_gets_the_name_then_the_id() {
        let e = Some("a@x.io");
        let ps = [
            parts("openai:a@x.io", e, Some(A1), Some("plus")),
            parts("openai:laptop", e, Some(A1), Some("plus")),
            parts("openai-codex:laptop", e, Some(A1), Some("plus")),
            parts("openai:other", e, None, None),
        ];
        assert_eq!(
            display_labels(&ps),
            [
                "a@x.io (plus, account 1111…0001, openai:a@x.io)",
                "a@x.io (plus, account 1111…0001, openai:laptop)",
                "a@x.io (plus, account 1111…0001, openai-codex:laptop)",
                "a@x.io (other)",
            ]
        );
    }
}
