//! What a watcher round found: a [`ChangeSet`] of [`Event`]s, each with its sentence (the
//! CLI's text), its JSON (the `watch --json` document) and its [`Words`] (the facts a chat
//! template words itself). Add a variant by adding its three renderings here.

use serde::Serialize;

use crate::engine::forecast::render::{approx, clock};
use crate::engine::usage::report::percent;

/// Which profile an event is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Who {
    /// Profile id.
    pub profile: String,
    /// The name shown.
    pub label: String,
}

/// One change worth telling the admins.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// The usage endpoint now says a limit is reached.
    Limited {
        /// The profile.
        #[serde(flatten)]
        who: Who,
        /// The window used up, when one is.
        window: Option<String>,
        /// When it resets (ms), when known.
        #[serde(
            rename = "reset_at",
            serialize_with = "crate::engine::forecast::ser_opt_iso"
        )]
        reset_at_ms: Option<i64>,
    },
    /// It was limited and is usable again.
    UsableAgain {
        /// The profile.
        #[serde(flatten)]
        who: Who,
    },
    /// A window's used percent reached a threshold of `CODEX_PROFILER_ALERT_AT`.
    ThresholdCrossed {
        /// The profile.
        #[serde(flatten)]
        who: Who,
        /// The window (`5h`, `week`, `code_review 5h`).
        window: String,
        /// The highest threshold reached.
        threshold: u8,
        /// Used percent now.
        used_percent: f64,
        /// When it resets (ms), when known.
        #[serde(
            rename = "reset_at",
            serialize_with = "crate::engine::forecast::ser_opt_iso"
        )]
        reset_at_ms: Option<i64>,
    },
    /// At the current pace the window runs out before its reset, within
    /// `CODEX_PROFILER_ALERT_AHEAD`.
    RunsOutSoon {
        /// The profile.
        #[serde(flatten)]
        who: Who,
        /// The window.
        window: String,
        /// When it runs out (ms).
        #[serde(
            rename = "runs_out_at",
            serialize_with = "crate::engine::forecast::ser_iso"
        )]
        runs_out_at_ms: i64,
        /// When it resets (ms).
        #[serde(
            rename = "reset_at",
            serialize_with = "crate::engine::forecast::ser_iso"
        )]
        reset_at_ms: i64,
    },
    /// The token expires within 24 h (the gateway should refresh it).
    TokenExpiresSoon {
        /// The profile.
        #[serde(flatten)]
        who: Who,
        /// When (ms).
        #[serde(
            rename = "expires_at",
            serialize_with = "crate::engine::forecast::ser_iso"
        )]
        expires_at_ms: i64,
    },
    /// The token has expired.
    TokenExpired {
        /// The profile.
        #[serde(flatten)]
        who: Who,
    },
    /// The gateway's refresh failed: a new login is needed.
    RefreshFailed {
        /// The profile.
        #[serde(flatten)]
        who: Who,
    },
    /// The usage endpoint started refusing the profile's token (401/403).
    EndpointRejecting {
        /// The profile.
        #[serde(flatten)]
        who: Who,
        /// The `remote_error` class.
        error: String,
    },
    /// It takes the token again.
    EndpointAccepting {
        /// The profile.
        #[serde(flatten)]
        who: Who,
    },
    /// A workspace's limit is reached: none of its profiles will help.
    WorkspaceOut {
        /// The account (workspace) id.
        account_id: String,
        /// Its profiles' names.
        labels: Vec<String>,
        /// `rate_limit_reached_type`, when given.
        reached_type: Option<String>,
    },
    /// The gateway keeps the profile blocked or cooling down although the usage endpoint
    /// says it has quota: an admin can clear it (`unblock`, or the button).
    StaleBlock {
        /// The profile.
        #[serde(flatten)]
        who: Who,
        /// Until when the gateway keeps it out (ms).
        #[serde(rename = "until", serialize_with = "crate::engine::forecast::ser_iso")]
        until_ms: i64,
    },
    /// Auto-order (`CODEX_PROFILER_AUTO_ORDER`) wrote a new order after the round (or, in a dry
    /// run, would have).
    Reordered {
        /// The order before.
        from: Vec<String>,
        /// The order written.
        to: Vec<String>,
        /// The first profile before and after.
        first_before: Option<String>,
        /// The first profile after.
        first_after: Option<String>,
        /// What moved and why, in words (`auto_order::render::sentence`).
        why: String,
        /// The pinned sessions that keep their profile, in words, when there are any.
        pins: Option<String>,
        /// The backup taken before the write.
        backup: Option<String>,
        /// Only shown: `watch --once --dry-run` wrote nothing.
        dry_run: bool,
    },
}

/// The facts of one event as a chat template takes them: strings and numbers only, times
/// already worded (`14:25 UTC`, `40 min`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Words {
    /// The variant, snake_case (`limited`, `threshold_crossed`, ...).
    pub kind: &'static str,
    /// Profile id (empty for a workspace).
    pub profile: String,
    /// The name shown (a workspace: its profiles' names joined).
    pub label: String,
    /// The window, if the event has one.
    pub window: Option<String>,
    /// The threshold, for `threshold_crossed`.
    pub threshold: Option<u8>,
    /// Used percent, for `threshold_crossed`.
    pub used: Option<String>,
    /// The event's time (run-out, expiry, block end) as a clock time.
    pub at: Option<String>,
    /// The same, from now (`40 min`).
    pub from_now: Option<String>,
    /// The window's reset as a clock time.
    pub reset: Option<String>,
    /// An error class or reached type.
    pub detail: Option<String>,
}

impl Event {
    /// The profile the event is about (none for a workspace).
    pub fn who(&self) -> Option<&Who> {
        match self {
            Event::Limited { who, .. }
            | Event::UsableAgain { who }
            | Event::ThresholdCrossed { who, .. }
            | Event::RunsOutSoon { who, .. }
            | Event::TokenExpiresSoon { who, .. }
            | Event::TokenExpired { who }
            | Event::RefreshFailed { who }
            | Event::EndpointRejecting { who, .. }
            | Event::EndpointAccepting { who }
            | Event::StaleBlock { who, .. } => Some(who),
            Event::WorkspaceOut { .. } | Event::Reordered { .. } => None,
        }
    }

    /// Its facts for a template, times in the operator's zone (`CODEX_PROFILER_TZ`, else the
    /// system's).
    pub fn words(&self, now_ms: i64) -> Words {
        let zone = crate::engine::clock::Zone::system()
            .unwrap_or_else(|_| crate::engine::clock::Zone::utc());
        self.words_in(now_ms, &zone)
    }

    /// Its facts for a template, times in `zone` (the chat's configured zone).
    pub fn words_in(&self, now_ms: i64, zone: &crate::engine::clock::Zone) -> Words {
        let when = |ms: i64| Some(clock(ms, now_ms, zone));
        let from_now = |ms: i64| Some(approx((ms.saturating_sub(now_ms)) / 1000));
        let mut w = Words {
            profile: self.who().map(|w| w.profile.clone()).unwrap_or_default(),
            label: self.who().map(|w| w.label.clone()).unwrap_or_default(),
            ..Words::default()
        };
        match self {
            Event::Limited {
                window,
                reset_at_ms,
                ..
            } => {
                w.kind = "limited";
                w.window.clone_from(window);
                w.reset = reset_at_ms.and_then(when);
                w.from_now = reset_at_ms.and_then(from_now);
            }
            Event::UsableAgain { .. } => w.kind = "usable_again",
            Event::ThresholdCrossed {
                window,
                threshold,
                used_percent,
                reset_at_ms,
                ..
            } => {
                w.kind = "threshold_crossed";
                w.window = Some(window.clone());
                w.threshold = Some(*threshold);
                w.used = Some(percent(*used_percent));
                w.reset = reset_at_ms.and_then(when);
            }
            Event::RunsOutSoon {
                window,
                runs_out_at_ms,
                reset_at_ms,
                ..
            } => {
                w.kind = "runs_out_soon";
                w.window = Some(window.clone());
                w.at = when(*runs_out_at_ms);
                w.from_now = from_now(*runs_out_at_ms);
                w.reset = when(*reset_at_ms);
            }
            Event::TokenExpiresSoon { expires_at_ms, .. } => {
                w.kind = "token_expires_soon";
                w.at = when(*expires_at_ms);
                w.from_now = from_now(*expires_at_ms);
            }
            Event::TokenExpired { .. } => w.kind = "token_expired",
            Event::RefreshFailed { .. } => w.kind = "refresh_failed",
            Event::EndpointRejecting { error, .. } => {
                w.kind = "endpoint_rejecting";
                w.detail = Some(error.clone());
            }
            Event::EndpointAccepting { .. } => w.kind = "endpoint_accepting",
            Event::WorkspaceOut {
                account_id,
                labels,
                reached_type,
            } => {
                w.kind = "workspace_out";
                w.profile = account_id.clone();
                w.label = labels.join(", ");
                w.detail.clone_from(reached_type);
            }
            Event::StaleBlock { until_ms, .. } => {
                w.kind = "stale_block";
                w.at = when(*until_ms);
                w.from_now = from_now(*until_ms);
            }
            Event::Reordered {
                first_after,
                why,
                pins,
                dry_run,
                ..
            } => {
                w.kind = if *dry_run {
                    "would_reorder"
                } else {
                    "reordered"
                };
                w.profile = first_after.clone().unwrap_or_default();
                w.label = first_after.clone().unwrap_or_default();
                w.detail = Some(match pins {
                    Some(p) => format!("{why} {p}"),
                    None => why.clone(),
                });
            }
        }
        w
    }

    /// One sentence for the CLI's text output, times in the operator's zone.
    pub fn sentence(&self, now_ms: i64) -> String {
        let zone = crate::engine::clock::Zone::system()
            .unwrap_or_else(|_| crate::engine::clock::Zone::utc());
        self.sentence_in(now_ms, &zone)
    }

    /// One sentence for the CLI's text output, times in `zone` (`--utc`: UTC).
    pub fn sentence_in(&self, now_ms: i64, zone: &crate::engine::clock::Zone) -> String {
        let w = self.words_in(now_ms, zone);
        let or_unknown = |v: &Option<String>| v.clone().unwrap_or_else(|| "an unknown time".into());
        let who = &w.label;
        match self {
            Event::Limited { .. } => match &w.window {
                Some(win) => format!(
                    "{who} is limited: its {win} window is used up and resets at {}.",
                    or_unknown(&w.reset)
                ),
                None => format!("{who} is limited on the usage endpoint."),
            },
            Event::UsableAgain { .. } => format!("{who} is usable again."),
            Event::ThresholdCrossed { .. } => format!(
                "{who} has used {}% of its {} window (threshold {}%), which resets at {}.",
                w.used.clone().unwrap_or_default(),
                w.window.clone().unwrap_or_default(),
                w.threshold.unwrap_or_default(),
                or_unknown(&w.reset)
            ),
            Event::RunsOutSoon { .. } => format!(
                "{who}'s {} window runs out in ~{} (at {}), before its reset at {}.",
                w.window.clone().unwrap_or_default(),
                w.from_now.clone().unwrap_or_default(),
                or_unknown(&w.at),
                or_unknown(&w.reset)
            ),
            Event::TokenExpiresSoon { .. } => format!(
                "{who}'s token expires in {} (at {}); the gateway refreshes it when it is used.",
                w.from_now.clone().unwrap_or_default(),
                or_unknown(&w.at)
            ),
            Event::TokenExpired { .. } => format!(
                "{who}'s token has expired; the gateway refreshes it when it is used, or log in again."
            ),
            Event::RefreshFailed { .. } => {
                format!(
                    "{who}'s token refresh failed: log it in again (codex-profiler auth login)."
                )
            }
            Event::EndpointRejecting { .. } => format!(
                "The usage endpoint started refusing {who}'s token ({}).",
                w.detail.clone().unwrap_or_default()
            ),
            Event::EndpointAccepting { .. } => {
                format!("The usage endpoint takes {who}'s token again.")
            }
            Event::WorkspaceOut { .. } => format!(
                "The workspace of {who} is out{}: another profile of it will not help.",
                w.detail
                    .as_ref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default()
            ),
            Event::Reordered {
                why,
                pins,
                backup,
                dry_run,
                ..
            } => {
                let mut s = if *dry_run {
                    format!("Auto-order would write a new order (dry run, nothing written): {why}")
                } else {
                    format!("Auto-order wrote a new order: {why}")
                };
                if let Some(p) = pins {
                    s.push(' ');
                    s.push_str(p);
                }
                if let Some(b) = backup {
                    s.push_str(&format!(" Backup: {b}."));
                }
                s
            }
            Event::StaleBlock { who: p, .. } => format!(
                "The gateway keeps {who} out until {} although the usage endpoint says it has quota: codex-profiler unblock {}",
                or_unknown(&w.at),
                p.profile
            ),
        }
    }
}

/// One round's changes, the unit of one notification.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangeSet {
    /// When the round ended (ms; RFC 3339 in JSON).
    #[serde(
        rename = "checked_at",
        serialize_with = "crate::engine::forecast::ser_iso"
    )]
    pub now_ms: i64,
    /// Profiles checked in the round.
    pub profiles_checked: usize,
    /// A first round (no earlier state, or it could not be read): it only records, so a
    /// lost state file never sends a storm of old news.
    pub baseline: bool,
    /// What changed, in profile order.
    pub events: Vec<Event>,
}

impl ChangeSet {
    /// Nothing to tell.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The CLI's text: a sentence per event, or what it means that there is none.
    pub fn text(&self) -> String {
        let zone = crate::engine::clock::Zone::system()
            .unwrap_or_else(|_| crate::engine::clock::Zone::utc());
        self.text_in(&zone)
    }

    /// [`ChangeSet::text`] with the times in `zone`.
    pub fn text_in(&self, zone: &crate::engine::clock::Zone) -> String {
        if self.baseline {
            return format!(
                "First check: recorded the state of {} profile{}; changes are reported from the next check on.\n",
                self.profiles_checked,
                if self.profiles_checked == 1 { "" } else { "s" }
            );
        }
        if self.events.is_empty() {
            return "No change since the last check.\n".to_owned();
        }
        self.events
            .iter()
            .map(|e| format!("{}\n", e.sentence_in(self.now_ms, zone)))
            .collect()
    }
}
