//! Where each profile of the order stands after this round's usage check, from its result
//! and the gateway's own state (a block, cooldown or disabled window in `usageStats`), and
//! the ranking both strategies share:
//!
//! 1. **usable**: answered, no limit reached, not kept out by the gateway; by the remaining
//!    quota of the tighter Codex window, most first (a profile without Codex windows, e.g. a
//!    usage-based plan, after those with a known figure);
//! 2. **unknown**: the check said nothing about quota (timeout, connection, 5xx, 429 from the
//!    usage endpoint, an expired token the gateway will refresh, a refresh in flight, a
//!    profile that is not a Codex OAuth one): it may well work, so it stays ahead of the
//!    ones known not to;
//! 3. **limited**: a limit is reached on the usage endpoint, or the gateway keeps it out for
//!    now; the soonest to recover first;
//! 4. **broken**: it will not work without someone acting (refresh failed, no token, 401 or
//!    403 from the usage endpoint).
//!
//! Within a rank, ties keep their place in the current order (a stable sort).

use std::cmp::Ordering;

use serde::Serialize;

use crate::engine::health::iso_ms;
use crate::engine::store::OrderEntry;
use crate::engine::usage::window::ser_unix_s;
use crate::engine::usage::{ProfileResult, RemoteError, WindowKind};

/// Who says a profile is limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitedBy {
    /// The usage endpoint: a limit is reached.
    UsageEndpoint,
    /// The gateway: `blockedUntil`, `cooldownUntil` or `disabledUntil` is in the future.
    Gateway,
}

/// One profile's standing this round.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Standing {
    /// Answered with quota left.
    Usable {
        /// Remaining percent of the tighter Codex window (`None`: no Codex window reported).
        remaining_percent: Option<f64>,
        /// Used percent of that window.
        used_percent: Option<f64>,
        /// That window's label (`5h`, `week`...).
        window: Option<String>,
    },
    /// The check said nothing about quota.
    Unknown {
        /// The `remote_error` code, or `not_checked`.
        why: String,
        /// The same in words.
        words: String,
    },
    /// Cannot be used until it recovers.
    Limited {
        /// Who says so.
        by: LimitedBy,
        /// When it recovers (unix s), when known.
        #[serde(serialize_with = "ser_unix_s")]
        until: Option<i64>,
    },
    /// Will not work until someone acts.
    Broken {
        /// The `remote_error` code.
        why: String,
        /// The same in words.
        words: String,
    },
}

impl Standing {
    /// 0 usable, 1 unknown, 2 limited, 3 broken.
    pub fn rank(&self) -> u8 {
        match self {
            Standing::Usable { .. } => 0,
            Standing::Unknown { .. } => 1,
            Standing::Limited { .. } => 2,
            Standing::Broken { .. } => 3,
        }
    }

    /// Whether it is usable.
    pub fn is_usable(&self) -> bool {
        matches!(self, Standing::Usable { .. })
    }

    /// Remaining percent of the tighter window, for a usable profile.
    pub fn remaining(&self) -> Option<f64> {
        match self {
            Standing::Usable {
                remaining_percent, ..
            } => *remaining_percent,
            _ => None,
        }
    }

    /// Whether a usable profile's tighter window has reached `threshold` percent used.
    pub fn crossed(&self, threshold: u8) -> bool {
        match self {
            Standing::Usable {
                used_percent: Some(u),
                ..
            } => *u >= f64::from(threshold),
            _ => false,
        }
    }

    /// The standing in a few words (`5h window 42% left`, `limited until …`).
    pub fn describe(&self) -> String {
        match self {
            Standing::Usable {
                remaining_percent: Some(r),
                window,
                ..
            } => format!(
                "{} window {}% left",
                window.as_deref().unwrap_or("tighter"),
                r.round()
            ),
            Standing::Usable { .. } => "usable (no Codex window reported)".into(),
            Standing::Unknown { words, .. } => format!("unknown: {words}"),
            Standing::Limited { by, until } => {
                let who = match by {
                    LimitedBy::UsageEndpoint => "limited",
                    LimitedBy::Gateway => "kept out by the gateway",
                };
                match until.and_then(|s| iso_ms(s.saturating_mul(1000))) {
                    Some(t) => format!("{who} until {t}"),
                    None => who.to_owned(),
                }
            }
            Standing::Broken { words, .. } => format!("not working: {words}"),
        }
    }

    /// The ranking order of two standings (ties are `Equal`: the caller's stable sort keeps
    /// the current order).
    pub fn cmp_rank(&self, other: &Standing) -> Ordering {
        self.rank()
            .cmp(&other.rank())
            .then_with(|| match (self, other) {
                (Standing::Usable { .. }, Standing::Usable { .. }) => {
                    // Known figures first, the larger first; NaN never reaches here (sanitised).
                    let key = |s: &Standing| s.remaining().map_or(-1.0, |r| r);
                    key(other)
                        .partial_cmp(&key(self))
                        .unwrap_or(Ordering::Equal)
                }
                (Standing::Limited { until: a, .. }, Standing::Limited { until: b, .. }) => {
                    a.unwrap_or(i64::MAX).cmp(&b.unwrap_or(i64::MAX))
                }
                _ => Ordering::Equal,
            })
    }
}

/// Whether an error says nothing about quota (the profile may work) or that it will not work.
fn is_broken(e: RemoteError) -> bool {
    matches!(
        e,
        RemoteError::RefreshFailed
            | RemoteError::MissingAccessToken
            | RemoteError::AuthNotAcceptedByUsageEndpoint
            | RemoteError::ForbiddenByUsageEndpoint
    )
}

/// The tighter Codex window of an answer: the one with the least left.
fn tighter(r: &ProfileResult) -> Option<&crate::engine::usage::UsageWindow> {
    r.remote_usage
        .as_ref()?
        .windows
        .iter()
        .filter(|w| w.kind == WindowKind::Codex)
        .filter(|w| w.remaining_percent.is_some())
        .min_by(|a, b| {
            a.remaining_percent
                .partial_cmp(&b.remaining_percent)
                .unwrap_or(Ordering::Equal)
        })
}

/// When a limited answer recovers: the latest reset of the used-up windows, else of any.
fn recovers_at(r: &ProfileResult) -> Option<i64> {
    let u = r.remote_usage.as_ref()?;
    let used_up = u
        .all_windows()
        .filter(|w| w.used_percent.is_some_and(|p| p >= 100.0))
        .filter_map(|w| w.reset_at)
        .max();
    used_up.or_else(|| u.windows.iter().filter_map(|w| w.reset_at).max())
}

/// The gateway's own window on a profile, from its effective-order entry, in unix s.
fn gateway_until(entry: Option<&OrderEntry>) -> Option<Option<i64>> {
    use crate::engine::store::OrderReason as R;
    let e = entry?;
    let moved: Vec<Option<i64>> = e
        .reasons
        .iter()
        .filter(|r| r.moves_last())
        .map(|r| match r {
            R::BlockedUntil { until } | R::CooldownUntil { until } | R::DisabledUntil { until } => {
                chrono::DateTime::parse_from_rfc3339(until)
                    .ok()
                    .map(|t| t.timestamp())
            }
            _ => None,
        })
        .collect();
    if moved.is_empty() {
        return None;
    }
    Some(moved.into_iter().flatten().max())
}

/// The standing of one profile: its result (if it was checked) and its entry in the
/// effective order (what the gateway itself holds against it).
pub fn standing(result: Option<&ProfileResult>, entry: Option<&OrderEntry>) -> Standing {
    let gateway = gateway_until(entry);
    let Some(r) = result else {
        return match gateway {
            Some(until) => Standing::Limited {
                by: LimitedBy::Gateway,
                until,
            },
            None => Standing::Unknown {
                why: "not_checked".into(),
                words: "not a Codex OAuth profile, not checked".into(),
            },
        };
    };
    if let Some(e) = r.remote_error.filter(|e| is_broken(*e)) {
        return Standing::Broken {
            why: e.as_str().into(),
            words: e.reason().into(),
        };
    }
    if r.is_limited() {
        let until = match gateway {
            Some(g) => recovers_at(r).max(g),
            None => recovers_at(r),
        };
        return Standing::Limited {
            by: LimitedBy::UsageEndpoint,
            until,
        };
    }
    if let Some(until) = gateway {
        return Standing::Limited {
            by: LimitedBy::Gateway,
            until,
        };
    }
    if !r.remote_usage_ok {
        let (why, words) = r
            .remote_error
            .map_or(("no_usage", "no usage reported"), |e| {
                (e.as_str(), e.reason())
            });
        return Standing::Unknown {
            why: why.into(),
            words: words.into(),
        };
    }
    let w = tighter(r);
    Standing::Usable {
        remaining_percent: w.and_then(|w| w.remaining_percent),
        used_percent: w.and_then(|w| w.used_percent),
        window: w.map(|w| w.label.clone()),
    }
}
