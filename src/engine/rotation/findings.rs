//! The findings of rotation guidance, each with the command that helps. Messages name
//! profiles and models only; chat templates rebuild their own wording from `facts`.

use super::{RATE_LIMIT_ROTATIONS, RotationFinding};
use crate::engine::change::doctor::Severity;
use crate::engine::change::layers::hidden_by_config;
use crate::engine::change::session::SessionOverride;
use crate::engine::health::iso_ms;
use crate::engine::store::config::FallbackSource;
use crate::engine::store::{EffectiveOrder, OrderSource, Snapshot};

/// What the findings are made from.
pub(super) struct Ctx<'a> {
    pub snap: &'a Snapshot,
    pub provider: &'a str,
    pub eff: &'a EffectiveOrder,
    pub usable: &'a [String],
    pub fallback_model: Option<&'a str>,
    pub fallback_source: FallbackSource,
    pub pins: &'a [SessionOverride],
}

fn f(
    code: &'static str,
    severity: Severity,
    message: String,
    fix: Option<String>,
    facts: &[(&str, String)],
) -> RotationFinding {
    RotationFinding {
        code,
        severity,
        message,
        fix,
        facts: facts
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect(),
    }
}

const ORDINALS: [&str; 10] = [
    "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
];

/// "the third and fourth", "the third, fourth and fifth", "the third to 12th".
pub fn ordinals(from: usize, to: usize) -> String {
    let word = |n: usize| {
        ORDINALS
            .get(n - 1)
            .map_or_else(|| format!("{n}th"), |w| (*w).to_owned())
    };
    if to <= from {
        return format!("the {}", word(from));
    }
    if to > ORDINALS.len() {
        return format!("the {} to the {}", word(from), word(to));
    }
    let words: Vec<String> = (from..=to).map(word).collect();
    let (last, rest) = words
        .split_last()
        .map_or((String::new(), &[][..]), |(l, r)| (l.clone(), r));
    format!("the {} and {last}", rest.join(", "))
}

/// "2 h 5 min", "3 min", "40 s".
pub fn duration(ms: i64) -> String {
    let s = (ms.max(0) + 999) / 1000;
    let minutes = (s + 59) / 60;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{minutes} min"),
        _ => {
            let m = minutes;
            let (d, h, m) = (m / 1440, m / 60 % 24, m % 60);
            if d > 0 {
                format!("{d} d {h} h")
            } else {
                format!("{h} h {m} min")
            }
        }
    }
}

pub(super) fn all(c: &Ctx<'_>, home_scope_user: bool) -> Vec<RotationFinding> {
    let mut out = Vec::new();
    fallback_cap(c, &mut out);
    config(c, &mut out);
    if home_scope_user {
        out.push(f(
            "codex_home_scope_user",
            Severity::Action,
            "openclaw.json sets plugins.entries.codex.config.appServer.homeScope to \"user\": the Codex harness uses ~/.codex/auth.json (or $CODEX_HOME), not the gateway's profiles, so none of them is rotated for it".into(),
            Some("remove plugins.entries.codex.config.appServer.homeScope from openclaw.json, then openclaw gateway restart".into()),
            &[],
        ));
    }
    pins(c, &mut out);
    blocks(c, &mut out);
    let stored = c
        .snap
        .codex
        .iter()
        .any(|p| p.id.provider_part() == c.provider);
    if c.usable.is_empty() && stored {
        out.push(f(
            "no_usable_profile",
            Severity::Action,
            format!("no {} profile is usable now: every request fails until one is", c.provider),
            Some("codex-profiler usage (which quota is back), codex-profiler auth start --profile NAME (a new login)".into()),
            &[],
        ));
    }
    out
}

fn fallback_cap(c: &Ctx<'_>, out: &mut Vec<RotationFinding>) {
    let per_turn = RATE_LIMIT_ROTATIONS + 1;
    let (Some(model), true) = (c.fallback_model, c.usable.len() > per_turn) else {
        return;
    };
    let n = c.usable.len();
    let which = ordinals(per_turn + 1, n);
    let never = c.usable[per_turn..].join(", ");
    let whence = match c.fallback_source {
        FallbackSource::Agent => "the agent's model.fallbacks",
        FallbackSource::Defaults => "agents.defaults.model.fallbacks",
    };
    out.push(f(
        "fallback_caps_rotation",
        Severity::Info,
        format!(
            "{n} profiles are usable, but a model fallback is configured ({model}, from {whence}): on a rate limit OpenClaw tries one other profile and then moves to {model}, so {which} are never tried on that turn ({never})"
        ),
        Some(format!(
            "put the profile with the most quota first (codex-profiler usage, then codex-profiler order set ID...), or let the gateway rotate by itself (codex-profiler order clear), or remove {whence} from openclaw.json where Codex should be used to the end"
        )),
        &[
            ("model", model.to_owned()),
            ("usable", n.to_string()),
            ("which", which),
            ("never", never),
            ("whence", whence.to_owned()),
        ],
    ));
}

fn config(c: &Ctx<'_>, out: &mut Vec<RotationFinding>) {
    let p = c.provider;
    if let Some((listed, hidden)) = hidden_by_config(c.snap, p) {
        out.push(f(
            "config_profiles_hide_stored",
            Severity::Action,
            format!(
                "openclaw.json auth.profiles lists only {} and so hides {}: the gateway never uses them",
                listed.join(", "),
                hidden.join(", ")
            ),
            Some("codex-profiler order set ID... (naming them), or remove the entries from openclaw.json auth.profiles".into()),
            &[("listed", listed.join(", ")), ("hidden", hidden.join(", "))],
        ));
    }
    let Some(order) = c.snap.config.order_for(p) else {
        return;
    };
    let order_list = order.join(", ");
    if matches!(c.eff.source, OrderSource::Store { .. }) {
        out.push(f(
            "config_order_overridden",
            Severity::Info,
            format!(
                "openclaw.json auth.order.{p} ({order_list}) is not used: the stored order decides"
            ),
            None,
            &[("order", order_list)],
        ));
        return;
    }
    let left: Vec<&str> = c
        .snap
        .codex
        .iter()
        .map(|x| x.id.as_str())
        .filter(|id| id.split_once(':').is_some_and(|(pp, _)| pp == p))
        .filter(|id| !order.iter().any(|o| o == id))
        .collect();
    if left.is_empty() {
        out.push(f(
            "config_order_decides",
            Severity::Info,
            format!("openclaw.json auth.order.{p} decides the order: {order_list}"),
            None,
            &[("order", order_list)],
        ));
    } else {
        out.push(f(
            "config_order_hides_stored",
            Severity::Action,
            format!(
                "openclaw.json auth.order.{p} names only {order_list}: {} are never used",
                left.join(", ")
            ),
            Some(format!("codex-profiler order set ID... (a stored order naming them wins over openclaw.json), or add them to auth.order.{p}")),
            &[("order", order_list), ("hidden", left.join(", "))],
        ));
    }
}

fn pins(c: &Ctx<'_>, out: &mut Vec<RotationFinding>) {
    for pin in c.pins {
        let source = pin.resolved_source();
        let tried = c.eff.ids.iter().any(|i| i == &pin.profile);
        let blocked = tried && !c.usable.iter().any(|i| i == &pin.profile);
        let facts = [
            ("session", pin.session_key.clone()),
            ("profile", pin.profile.clone()),
            ("source", source.to_owned()),
        ];
        let (sev, message) = if !tried {
            if c.snap.raw_profile(&pin.profile).is_some_and(|_| {
                pin.profile
                    .split_once(':')
                    .is_some_and(|(pp, _)| pp != c.provider)
            }) {
                continue;
            }
            (
                Severity::Action,
                format!(
                    "session {} pins {} ({source}), which the gateway does not try: the session falls back to the order",
                    pin.session_key, pin.profile
                ),
            )
        } else if blocked {
            (
                Severity::Info,
                format!(
                    "session {} pins {} ({source}), which is blocked now: the next usable profile is tried meanwhile and the pin stays",
                    pin.session_key, pin.profile
                ),
            )
        } else {
            (
                Severity::Info,
                format!(
                    "session {} pins {} ({source}): that session tries it first, whatever the order says",
                    pin.session_key, pin.profile
                ),
            )
        };
        out.push(f(
            "session_pin",
            sev,
            message,
            Some(format!("codex-profiler layers --session-key {} (see it); in that chat /new or /reset clears an automatic pin", pin.session_key)),
            &facts,
        ));
    }
}

fn blocks(c: &Ctx<'_>, out: &mut Vec<RotationFinding>) {
    let now = c.snap.read_at_ms;
    for e in &c.eff.tried {
        let Some(reason) = e.reasons.iter().find(|r| r.moves_last()) else {
            continue;
        };
        let Some(until) = c.snap.usage_stats(&e.id).unusable_until(now) else {
            continue;
        };
        let left = duration(until - now);
        let at = iso_ms(until).unwrap_or_else(|| until.to_string());
        out.push(f(
            "profile_blocked",
            Severity::Info,
            format!(
                "{} is {} (another {left}): the gateway tries it last; without a usage check the quota window's reset is unknown",
                e.id,
                reason.describe()
            ),
            Some(format!(
                "codex-profiler usage {id} (is its quota back?), then codex-profiler unblock {id}",
                id = e.id
            )),
            &[("profile", e.id.clone()), ("until", at), ("left", left)],
        ));
    }
}
