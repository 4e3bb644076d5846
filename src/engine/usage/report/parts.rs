//! The parts of one usage line, each fact of a reply in a few words: the Codex windows, the
//! spend limits and credits of usage-based plans, code review and additional limits by name,
//! banked resets, and what a reached limit means (a workspace-wide one: rotating within the
//! workspace will not help). Unknown values read as unknown, never as a huge number.

use super::{ShownAt, human_duration, percent};
use crate::engine::usage::parse::RemoteUsage;
use crate::engine::usage::spend::SpendLimit;
use crate::engine::usage::window::{UsageWindow, WindowKind};

/// `resets 2h 13m`; with `shown`, the time too: `resets 14:25 IST, in 2h 13m`. The time is
/// `now + after`, so both parts always agree (the endpoint's delay, not its `reset_at`, is
/// what the relative form has always shown, and it does not depend on this machine's clock
/// agreeing with the endpoint's).
fn resets(after: i64, shown: Option<&ShownAt>) -> String {
    match shown {
        None => format!("resets {}", human_duration(after)),
        Some(s) => {
            let at_ms = s.now_ms.saturating_add(after.saturating_mul(1000));
            let when = s.zone.at(at_ms, s.now_ms);
            format!("resets {when}, in {}", human_duration(after))
        }
    }
}

/// `5h 42% left (resets 2h 13m)`; `code review week 20% left (...)`; `5h usage unknown`.
pub fn window_text(w: &UsageWindow) -> String {
    window_text_shown(w, None)
}

/// [`window_text`], with the reset time in `shown`'s zone when given
/// (`5h 42% left (resets 14:25 IST, in 2h 13m)`).
pub fn window_text_shown(w: &UsageWindow, shown: Option<&ShownAt>) -> String {
    let name = match (w.kind, w.name.as_deref()) {
        (WindowKind::Codex, _) | (_, None) => String::new(),
        (WindowKind::CodeReview, Some(_)) => "code review ".to_owned(),
        (WindowKind::Additional, Some(n)) => format!("{n} "),
    };
    let mut s = match w.remaining_percent {
        Some(r) => format!("{name}{} {}% left", w.label, percent(r)),
        None => format!("{name}{} usage unknown", w.label),
    };
    match (w.reset_after_seconds, w.remaining_percent) {
        (Some(after), _) => s.push_str(&format!(" ({})", resets(after, shown))),
        (None, Some(_)) => s.push_str(" (reset unknown)"),
        (None, None) => {}
    }
    s
}

/// An amount without noise: `37.5`, `50`.
fn amount(a: f64) -> String {
    let r = (a * 100.0).round() / 100.0;
    if r.fract() == 0.0 {
        format!("{}", r as i64)
    } else {
        format!("{r}")
    }
}

/// `individual spend 37.5 of 50 left (resets 12d 0h)`.
pub fn spend_text(l: &SpendLimit) -> String {
    spend_text_shown(l, None)
}

/// [`spend_text`], with the reset time in `shown`'s zone when given.
pub fn spend_text_shown(l: &SpendLimit, shown: Option<&ShownAt>) -> String {
    let name = l.display_name();
    let mut s = match (l.remaining, l.limit, l.remaining_percent) {
        (Some(r), Some(t), _) => format!("{name} spend {} of {} left", amount(r), amount(t)),
        (Some(r), None, _) => format!("{name} spend {} left", amount(r)),
        (None, _, Some(p)) => format!("{name} spend {}% left", percent(p)),
        (None, _, None) => format!("{name} spend unknown"),
    };
    if let Some(after) = l.reset_after_seconds {
        s.push_str(&format!(" ({})", resets(after, shown)));
    }
    s
}

/// `credits 412.8`, `credits unlimited`; `None` when the reply says nothing worth showing
/// (no credits on a plan that has windows).
fn credits_text(u: &RemoteUsage, has_windows: bool) -> Option<String> {
    if u.credits_unlimited == Some(true) {
        return Some("credits unlimited".to_owned());
    }
    let balance = u.credits_balance?;
    (u.has_credits == Some(true) || balance > 0.0 || !has_windows)
        .then(|| format!("credits {}", amount(balance)))
}

/// `workspace_owner_credits_depleted` in words.
fn reached_type_words(t: &str) -> String {
    match t {
        "workspace_owner_credits_depleted" => "workspace out of credits".to_owned(),
        "workspace_member_usage_limit_reached" => "workspace member usage limit reached".to_owned(),
        other => other.replace('_', " "),
    }
}

/// Every part for an answered profile, after its label and plan; reset times in `shown`'s
/// zone when given.
pub fn usage_parts(u: &RemoteUsage, shown: Option<&ShownAt>) -> Vec<String> {
    let window = |w| window_text_shown(w, shown);
    let mut parts: Vec<String> = u.windows.iter().map(window).collect();
    let has_windows = !parts.is_empty();
    if let Some(spend) = &u.spend {
        parts.extend(spend.limits.iter().map(|l| spend_text_shown(l, shown)));
    }
    parts.extend(credits_text(u, has_windows));
    parts.extend(u.other_windows.iter().map(window));
    if parts.is_empty() {
        parts.push("no limits reported".to_owned());
    }
    match u.resets_banked {
        Some(1) => parts.push("1 reset banked".to_owned()),
        Some(n) if n > 1 => parts.push(format!("{n} resets banked")),
        _ => {}
    }
    match (u.workspace_out, u.rate_limit_reached_type.as_deref()) {
        (true, Some(t)) => parts.push(format!(
            "⚠ {}: the whole workspace is out, another profile of it will not help",
            reached_type_words(t)
        )),
        (false, Some(t)) => parts.push(format!("⚠ limit reached ({})", reached_type_words(t))),
        (_, None) if u.limited => {
            let spend_reached = u.spend.as_ref().filter(|s| s.reached == Some(true));
            match spend_reached.and_then(|s| s.reached_limit_type.as_deref()) {
                Some(t) => parts.push(format!("⚠ spend limit reached ({})", t.replace('_', " "))),
                None => parts.push("⚠ limit reached".to_owned()),
            }
        }
        _ => {}
    }
    parts
}
