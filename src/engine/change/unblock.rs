//! Clearing a stale block (issue 10 item 5): where the gateway keeps a profile blocked, in
//! cooldown or disabled though the usage endpoint says its window has reset. One entry point,
//! [`unblock`], for the CLI and (later) the chat's button: a usage check of that profile first
//! (unless forced), then the change pipeline ([`super::execute`] with
//! [`Change::Unblock`]): plan naming the layer, backup of exactly it, apply, verify.

use super::error::ChangeError;
use super::pipeline::{ChangeReport, ExecuteOptions, execute};
use crate::engine::profile::ProfileId;
use crate::engine::store::{Change, Snapshot, Store, unblock as fields};
use crate::engine::usage::{ProfileResult, ProfileToCheck, UsageChecker};

/// Whether to ask the usage endpoint before clearing.
#[derive(Clone, Copy)]
pub enum UsageGate<'a> {
    /// Check the profile once with this checker; refuse if it is still limited or the check
    /// fails.
    Check(&'a UsageChecker),
    /// Clear without asking (`--force`).
    Skip,
}

/// Clear `id`'s blocked/cooldown/disabled windows, after the usage endpoint confirms no limit
/// is reached (unless `gate` is [`UsageGate::Skip`]). Nothing to clear: a `nothing_to_change`
/// report, no request sent, no backup. Refusals are [`ChangeError::Refused`] with a sentence
/// naming the window and its reset (see [`still_limited`]); nothing is written then. The
/// store write itself is blocking I/O (one SQLite transaction or file replace), as every
/// change is.
pub async fn unblock(
    store: &Store,
    id: &ProfileId,
    gate: UsageGate<'_>,
    opts: &ExecuteOptions<'_>,
) -> Result<ChangeReport, ChangeError> {
    if opts.via_gateway {
        return Err(ChangeError::Refused(
            "the gateway has no command to clear a block: run it without --via-gateway".into(),
        ));
    }
    let snap = store.load().map_err(ChangeError::store)?;
    if snap.raw_profile(id.as_str()).is_none() {
        return Err(ChangeError::UnknownProfile(id.to_string()));
    }
    let change = Change::Unblock { id: id.clone() };
    let has_window = !fields::describe_blocks(&snap, id.as_str()).is_empty();
    if let (UsageGate::Check(checker), true) = (gate, has_window) {
        let result = check_one(checker, &snap, id).await?;
        if let Some(refusal) = still_limited(&result) {
            return Err(refusal);
        }
    }
    execute(store, change, opts)
}

async fn check_one(
    checker: &UsageChecker,
    snap: &Snapshot,
    id: &ProfileId,
) -> Result<ProfileResult, ChangeError> {
    let profile = snap.profile(id).ok_or_else(|| {
        ChangeError::Refused(format!(
            "{id} is not a Codex OAuth profile the usage endpoint can check: add --force to clear it anyway"
        ))
    })?;
    let todo = ProfileToCheck {
        profile: profile.clone(),
        local: snap.health(profile, chrono::Utc::now().timestamp_millis()),
    };
    let run = checker.check(vec![todo]).await;
    run.profiles
        .into_iter()
        .next()
        .ok_or_else(|| ChangeError::Refused(format!("the usage check of {id} gave no result")))
}

/// Why the usage check does not allow clearing: a limit is still reached (naming the window
/// and its reset: [`ChangeError::StillLimited`]), the endpoint could not be asked
/// ([`ChangeError::UsageUnconfirmed`]: timeout, connection, 5xx) or it would not answer for
/// this profile ([`ChangeError::Refused`]: expired token, 401, 403...).
pub fn still_limited(r: &ProfileResult) -> Option<ChangeError> {
    let id = &r.profile;
    match &r.remote_usage {
        Some(u) if u.limited => {
            let window = u
                .all_windows()
                .find(|w| w.used_percent.is_some_and(|p| p >= 100.0));
            let what = match window {
                Some(w) => {
                    let name = w
                        .name
                        .as_deref()
                        .map(|n| format!("{n} "))
                        .unwrap_or_default();
                    let reset = w
                        .reset_at
                        .and_then(|s| crate::engine::health::iso_ms(s.saturating_mul(1000)))
                        .unwrap_or_else(|| "an unknown time".to_owned());
                    format!(
                        "its {name}{} window is used up and resets at {reset}",
                        w.label
                    )
                }
                None => match &u.rate_limit_reached_type {
                    Some(t) => format!("it reports {t}"),
                    None => "it reports limit_reached".to_owned(),
                },
            };
            Some(ChangeError::StillLimited(format!(
                "{id} is still limited on the usage endpoint: {what}; nothing was changed (add --force to clear the block anyway)"
            )))
        }
        Some(_) => None,
        None => {
            let why = r.remote_error.map_or("no usage", |e| e.reason());
            let sentence = format!(
                "the usage endpoint could not confirm that {id}'s window has reset ({why}); nothing was changed (add --force to clear the block anyway)"
            );
            Some(match r.remote_error {
                Some(e) if e.retryable() => ChangeError::UsageUnconfirmed(sentence),
                _ => ChangeError::Refused(sentence),
            })
        }
    }
}

/// The plan's lines for an unblock: what is cleared, from which layer.
pub(super) fn plan_lines(snap: &Snapshot, id: &ProfileId) -> Vec<String> {
    let blocks = fields::describe_blocks(snap, id.as_str());
    if blocks.is_empty() {
        return vec![format!("{id} has no blocked, cooldown or disabled window")];
    }
    vec![format!(
        "clear {} of {id} (with the reason fields OpenClaw clears with them; errorCount to 0), keeping every other field, profile and provider",
        blocks.join(", ")
    )]
}
