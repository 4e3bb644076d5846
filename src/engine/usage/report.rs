//! Rendering a [`UsageRun`], purely: the SPEC section 6 JSON document and one line of text per
//! profile in the style of SPEC section 7
//! (`alice@example.com · plus · 5h 42% left (resets 2h 13m) · week 88% left (resets 4d 15h)`).
//! The chat core renders its own templates from the typed results; these lines are what the
//! CLI prints and what `formatted_profiles` carries.
//!
//! Text for people ([`render_text_shown`], [`lines_shown`]) names each reset time in the
//! operator's zone as well (`resets 14:25 IST, in 2h 13m`, issue 11): the presenter passes the
//! zone and the instant in a [`ShownAt`], so this module reads no environment. The JSON
//! document's `formatted_profiles` and `suggested_user_message` keep the relative form of
//! SPEC section 7 (scripts and bots pass them on; their readers may be in any zone).

use serde::Serialize;
use serde_json::{Value, json};

use super::{ProfileResult, RemoteError, Summary, UsageRun};
use crate::engine::clock::Zone;
use crate::engine::label::LabelParts;

mod parts;
pub use parts::{spend_text, spend_text_shown, window_text, window_text_shown};

/// Where and when a text is read: reset times are shown in `zone`, on the day of `now_ms`
/// (a date when they fall on another day), as well as relative.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShownAt {
    /// The operator's zone.
    pub zone: Zone,
    /// Now, in ms since the epoch (a reset the endpoint gave only as a delay is `now + delay`).
    pub now_ms: i64,
}

/// The message sent before any remote work (SPEC section 7).
pub const PROGRESS_MESSAGE: &str = "Running Codex usage check…";

/// Separator between the parts of a line.
const SEP: &str = " · ";

/// A duration in seconds as people read it: `4d 15h`, `2h 13m`, `7m`, `<1m`.
pub fn human_duration(secs: i64) -> String {
    crate::engine::clock::span(secs)
}

/// A percentage without noise: `42`, `12.5`.
pub(crate) fn percent(p: f64) -> String {
    let r = (p * 10.0).round() / 10.0;
    if r.fract() == 0.0 {
        format!("{}", r as i64)
    } else {
        format!("{r:.1}")
    }
}

/// Each profile's label, told apart where two share one (the same email in two workspaces,
/// or one account under two ids): [`crate::engine::label::display_labels`] over the run.
pub fn labels(profiles: &[ProfileResult]) -> Vec<String> {
    labels_among(profiles, &[])
}

/// Each profile's label, told apart from every profile in `peers` too (the store's Codex
/// profiles: a check of one profile still names it the way it selects).
pub fn labels_among(profiles: &[ProfileResult], peers: &[LabelParts<'_>]) -> Vec<String> {
    let parts: Vec<LabelParts<'_>> = profiles.iter().map(ProfileResult::label_parts).collect();
    crate::engine::label::labels_among(&parts, peers)
}

/// One line per profile of a run, with labels told apart (see [`labels`]).
pub fn lines(run: &UsageRun) -> Vec<String> {
    lines_labelled(run, &labels(&run.profiles))
}

/// [`lines`] with labels told apart among `peers` (see [`labels_among`]).
pub fn lines_among(run: &UsageRun, peers: &[LabelParts<'_>]) -> Vec<String> {
    lines_labelled(run, &labels_among(&run.profiles, peers))
}

/// [`lines_among`] for people: each reset time in `shown`'s zone too.
pub fn lines_shown(run: &UsageRun, peers: &[LabelParts<'_>], shown: &ShownAt) -> Vec<String> {
    let labels = labels_among(&run.profiles, peers);
    lines_with(run, &labels, Some(shown))
}

fn lines_labelled(run: &UsageRun, labels: &[String]) -> Vec<String> {
    lines_with(run, labels, None)
}

fn lines_with(run: &UsageRun, labels: &[String], shown: Option<&ShownAt>) -> Vec<String> {
    run.profiles
        .iter()
        .zip(labels)
        .map(|(r, l)| line_with(r, l, shown))
        .collect()
}

/// One line for one profile: usage windows on success, a short reason on failure
/// (`bob@example.com · ⚠ rate limited (429)`). Use [`lines`] for a whole run: it tells
/// profiles with the same label apart.
pub fn line(r: &ProfileResult) -> String {
    line_labelled(r, r.label())
}

/// [`line`] with the label given.
pub fn line_labelled(r: &ProfileResult, label: &str) -> String {
    line_with(r, label, None)
}

/// [`line_labelled`] for people: each reset time in `shown`'s zone too.
pub fn line_shown(r: &ProfileResult, label: &str, shown: &ShownAt) -> String {
    line_with(r, label, Some(shown))
}

fn line_with(r: &ProfileResult, label: &str, shown: Option<&ShownAt>) -> String {
    let mut parts: Vec<String> = vec![label.to_owned()];
    match (&r.remote_usage, r.remote_error) {
        (Some(u), _) => {
            // The reply's plan is fresher than the token's claim.
            if let Some(plan) = u.plan.as_deref().or(r.plan.as_deref()) {
                parts.push(plan.to_owned());
            }
            parts.extend(parts::usage_parts(u, shown));
        }
        (None, Some(e)) => {
            let mut reason = format!("⚠ {}", e.reason());
            if let Some(status) = r.remote_status {
                reason.push_str(&format!(" ({status})"));
            }
            if let (RemoteError::RateLimited, Some(after)) = (e, r.retry_after_seconds) {
                let after = i64::try_from(after).unwrap_or(i64::MAX);
                reason.push_str(&format!(", retry in {}", human_duration(after)));
            }
            parts.push(reason);
        }
        (None, None) => parts.push("⚠ not checked".to_owned()),
    }
    // The label, the plan and limit names come from the store and the endpoint: no control
    // character of theirs reaches a chat or the JSON a bot passes on.
    crate::escape::visible(&parts.join(SEP)).into_owned()
}

/// `line` plus, for `--debug`, ` [2 attempts, 1234 ms]`.
pub fn line_debug(r: &ProfileResult) -> String {
    line_debug_labelled(r, r.label(), None)
}

fn line_debug_labelled(r: &ProfileResult, label: &str, shown: Option<&ShownAt>) -> String {
    format!(
        "{} [{} attempt{}, {} ms]",
        line_with(r, label, shown),
        r.attempts,
        if r.attempts == 1 { "" } else { "s" },
        r.elapsed_ms
    )
}

/// `4 checked: 2 usable, 1 limited, 1 failed`.
pub fn summary_line(s: &Summary) -> String {
    format!(
        "{} checked: {} usable, {} limited, {} failed",
        s.profiles_checked, s.usable_count, s.limited_count, s.remote_failed_count
    )
}

/// The message a chat or script can pass on as is: every line, then the summary.
pub fn suggested_user_message(run: &UsageRun) -> String {
    suggested_labelled(run, &labels(&run.profiles))
}

fn suggested_labelled(run: &UsageRun, labels: &[String]) -> String {
    let mut out = lines_labelled(run, labels);
    out.push(summary_line(&run.summary()));
    out.join("\n")
}

/// `--format text`: one line per profile, then the summary line.
pub fn render_text(run: &UsageRun, debug: bool) -> String {
    render_text_among(run, debug, &[])
}

/// [`render_text`] with labels told apart among `peers` (see [`labels_among`]).
/// The lines are sorted by the label they start with.
pub fn render_text_among(run: &UsageRun, debug: bool, peers: &[LabelParts<'_>]) -> String {
    render_text_with(run, debug, peers, None)
}

/// [`render_text_among`] for people (the CLI's text output): each reset time in `shown`'s
/// zone too, `5h 42% left (resets 14:25 IST, in 2h 13m)`.
pub fn render_text_shown(
    run: &UsageRun,
    debug: bool,
    peers: &[LabelParts<'_>],
    shown: &ShownAt,
) -> String {
    render_text_with(run, debug, peers, Some(shown))
}

fn render_text_with(
    run: &UsageRun,
    debug: bool,
    peers: &[LabelParts<'_>],
    shown: Option<&ShownAt>,
) -> String {
    let mut out = String::new();
    let mut rows: Vec<(&ProfileResult, String)> = run
        .profiles
        .iter()
        .zip(labels_among(&run.profiles, peers))
        .collect();
    rows.sort_by(|a, b| a.1.cmp(&b.1));
    for (p, l) in rows {
        out.push_str(&if debug {
            line_debug_labelled(p, &l, shown)
        } else {
            line_with(p, &l, shown)
        });
        out.push('\n');
    }
    out.push_str(&summary_line(&run.summary()));
    if debug {
        out.push_str(&format!(" [{} ms]", run.elapsed_ms));
    }
    out.push('\n');
    out
}

/// The SPEC section 6 document. `store` is the store's `{format, path}`; `debug` adds
/// `attempts` and `attempt_ms` to each profile and `elapsed_ms` at the top.
pub fn render_json(run: &UsageRun, store: &impl Serialize, debug: bool) -> Value {
    render_json_among(run, store, debug, &[])
}

/// [`render_json`] with labels told apart among `peers` (see [`labels_among`]).
pub fn render_json_among(
    run: &UsageRun,
    store: &impl Serialize,
    debug: bool,
    peers: &[LabelParts<'_>],
) -> Value {
    let labels = labels_among(&run.profiles, peers);
    let profiles: Vec<Value> = run
        .profiles
        .iter()
        .map(|p| {
            let mut v = serde_json::to_value(p).unwrap_or(Value::Null);
            if let (true, Some(obj)) = (debug, v.as_object_mut()) {
                obj.insert("attempts".into(), json!(p.attempts));
                obj.insert("attempt_ms".into(), json!(p.attempt_ms));
            }
            v
        })
        .collect();
    let mut doc = json!({
        "ok": true,
        "store": serde_json::to_value(store).unwrap_or(Value::Null),
        "remote_endpoint": run.remote_endpoint,
        "profiles": profiles,
        "summary": run.summary(),
        "formatted_profiles": lines_labelled(run, &labels),
        "suggested_user_message": suggested_labelled(run, &labels),
        "progress_message": PROGRESS_MESSAGE,
    });
    if let (true, Some(obj)) = (debug, doc.as_object_mut()) {
        obj.insert("elapsed_ms".into(), json!(run.elapsed_ms));
    }
    doc
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod zone_tests;
