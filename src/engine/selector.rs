//! How users name profiles: `all`, `default`, a full profile id, or a suffix of one
//! (`alice@example.com` names `openai:alice@example.com`). Parsed once at the edge; resolved
//! against the effective store.

use crate::engine::profile::{ProfileId, Provider};
use crate::engine::{Failure, FailureKind};

/// A parsed selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// Every Codex profile.
    All,
    /// `<provider>:default` if it exists, else the first of the effective order, else the
    /// first by id.
    Default,
    /// A full profile id.
    Exact(ProfileId),
    /// The end of a profile id (usually the name part).
    Suffix(String),
}

/// Why a selector did not resolve to profiles.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SelectError {
    /// Empty or blank input.
    #[error("no profile was named: use all, default, a profile id or the end of one")]
    Empty,
    /// Nothing matched.
    #[error("no Codex profile matches `{0}`")]
    NoMatch(String),
    /// The store has no Codex profile at all.
    #[error(
        "the store holds no Codex profile yet: log in with `codex-profiler auth start --profile NAME`"
    )]
    NoProfiles,
    /// A suffix that fits more than one profile.
    #[error("`{given}` matches more than one profile: {}", candidates.join(", "))]
    Ambiguous {
        /// What the user typed.
        given: String,
        /// Every profile it fits.
        candidates: Vec<String>,
    },
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
            SelectError::NoMatch(_) | SelectError::NoProfiles => "no_matching_profile",
            SelectError::Ambiguous { .. } => "ambiguous_selector",
        }
    }
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

    /// Resolve against the Codex profile ids of the effective store (`ids`, any order) and the
    /// effective order for the Codex provider. The result keeps `ids`' order for `all`, sorted
    /// by id.
    pub fn resolve(
        &self,
        ids: &[ProfileId],
        order: &[ProfileId],
    ) -> Result<Vec<ProfileId>, SelectError> {
        let mut sorted: Vec<ProfileId> = ids.to_vec();
        sorted.sort();
        sorted.dedup();
        match self {
            Selector::All if sorted.is_empty() => Err(SelectError::NoProfiles),
            Selector::All => Ok(sorted),
            Selector::Default => {
                if sorted.is_empty() {
                    return Err(SelectError::NoProfiles);
                }
                let named_default = Provider::ALL
                    .iter()
                    .filter_map(|p| ProfileId::new(*p, "default").ok())
                    .find(|d| sorted.contains(d));
                let pick = named_default
                    .or_else(|| order.iter().find(|o| sorted.contains(o)).cloned())
                    .or_else(|| sorted.first().cloned());
                pick.map(|p| vec![p]).ok_or(SelectError::NoProfiles)
            }
            Selector::Exact(id) => {
                if sorted.contains(id) {
                    Ok(vec![id.clone()])
                } else {
                    Err(SelectError::NoMatch(id.to_string()))
                }
            }
            Selector::Suffix(s) => {
                let by_name: Vec<&ProfileId> = sorted.iter().filter(|id| id.name() == s).collect();
                let matches: Vec<&ProfileId> = if by_name.is_empty() {
                    sorted
                        .iter()
                        .filter(|id| id.as_str().ends_with(s.as_str()))
                        .collect()
                } else {
                    by_name
                };
                match matches.as_slice() {
                    [] => Err(SelectError::NoMatch(s.clone())),
                    [one] => Ok(vec![(*one).clone()]),
                    many => Err(SelectError::Ambiguous {
                        given: s.clone(),
                        candidates: many.iter().map(|id| id.to_string()).collect(),
                    }),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[&str]) -> Vec<ProfileId> {
        v.iter().map(|s| ProfileId::parse(s).unwrap()).collect()
    }

    #[test]
    fn parses() {
        assert_eq!(Selector::parse(" all ").unwrap(), Selector::All);
        assert_eq!(Selector::parse("default").unwrap(), Selector::Default);
        assert!(matches!(
            Selector::parse("openai:a").unwrap(),
            Selector::Exact(_)
        ));
        assert!(matches!(
            Selector::parse("a@example.com").unwrap(),
            Selector::Suffix(_)
        ));
        assert_eq!(Selector::parse("  "), Err(SelectError::Empty));
    }

    #[test]
    fn default_prefers_named_then_order_then_id() {
        let all = ids(&["openai:b", "openai:a", "openai:default"]);
        assert_eq!(
            Selector::Default.resolve(&all, &[]).unwrap(),
            ids(&["openai:default"])
        );
        let all = ids(&["openai:b", "openai:a"]);
        assert_eq!(
            Selector::Default
                .resolve(&all, &ids(&["openai:x", "openai:b"]))
                .unwrap(),
            ids(&["openai:b"])
        );
        assert_eq!(
            Selector::Default.resolve(&all, &[]).unwrap(),
            ids(&["openai:a"])
        );
    }

    #[test]
    fn suffix_and_ambiguity() {
        let all = ids(&[
            "openai:alice@example.com",
            "openai:malice@example.com",
            "openai:bob@example.com",
        ]);
        assert_eq!(
            Selector::parse("alice@example.com")
                .unwrap()
                .resolve(&all, &[])
                .unwrap(),
            ids(&["openai:alice@example.com"])
        );
        let err = Selector::parse("example.com")
            .unwrap()
            .resolve(&all, &[])
            .unwrap_err();
        assert!(
            matches!(err, SelectError::Ambiguous { ref candidates, .. } if candidates.len() == 3)
        );
        assert!(err.to_string().contains("openai:bob@example.com"));
        assert!(matches!(
            Selector::parse("carol").unwrap().resolve(&all, &[]),
            Err(SelectError::NoMatch(_))
        ));
        assert_eq!(
            Selector::All.resolve(&[], &[]),
            Err(SelectError::NoProfiles)
        );
    }
}
