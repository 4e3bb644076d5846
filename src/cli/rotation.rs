//! `rotation [--deep]`: how many Codex profiles are usable now, what the gateway tries on a
//! rate limit and in which order, and what stands in the way (from
//! [`crate::engine::rotation`]); `--deep` adds the failover policy, how order, `lastGood` and
//! session pins interact, and the commands that act. Exit 0 unless the store is unreadable.

use serde_json::json;

use super::args::{GlobalArgs, RotationArgs};
use super::output::{CmdResult, Report};
use super::store_opts::open_store;
use crate::engine::change::doctor::Severity;
use crate::engine::rotation::{self, RATE_LIMIT_ROTATIONS, Rotation};

/// Run `rotation`.
pub fn run(g: &GlobalArgs, a: RotationArgs) -> CmdResult {
    let store = open_store(g)?;
    let (snap, r) = rotation::for_store(&store)?;
    if g.json {
        let mut v = serde_json::to_value(&r).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.insert("ok".into(), json!(true));
            o.insert("store".into(), json!(snap.info));
            if a.deep {
                o.insert("deep".into(), deep_json());
            }
        }
        return Ok(Report::Json(v));
    }
    let mut out = short(&r);
    if a.deep {
        out.push_str(&deep(&r));
    }
    Ok(Report::Text(out))
}

fn deep_json() -> serde_json::Value {
    json!({
        "openclaw_version": "2026.9.6",
        "rate_limit_profile_rotations": RATE_LIMIT_ROTATIONS,
        "rate_limit_cooldowns": ["30 s", "1 min", "5 min"],
        "billing_disable": "10 min",
        "last_good_moves_order": false,
        "pin_survives_cooldown": true,
    })
}

fn short(r: &Rotation) -> String {
    let mut out = format!(
        "rotation ({}, agent {}): {} of {} profiles usable now\n",
        r.provider,
        r.agent,
        r.usable_now,
        r.try_order.len()
    );
    let order = if r.try_order.is_empty() {
        "(none)".to_owned()
    } else {
        r.try_order.join(", ")
    };
    out.push_str(&format!("try order ({}): {order}\n", r.order_source));
    match &r.fallback_model {
        Some(m) => out.push_str(&format!(
            "model fallback: {m}: a rate-limited turn tries {} profile(s), then {m}\n",
            r.tried_per_turn
        )),
        None => out.push_str(&format!(
            "no model fallback: a rate-limited turn tries every usable profile in turn ({})\n",
            r.tried_per_turn
        )),
    }
    if r.findings.is_empty() {
        out.push_str("nothing stands in the way\n");
    }
    for f in &r.findings {
        let mark = if f.severity == Severity::Action {
            "!"
        } else {
            "i"
        };
        out.push_str(&format!("[{mark}] {}\n", f.message));
        if let Some(fix) = &f.fix {
            out.push_str(&format!("    fix: {fix}\n"));
        }
    }
    out
}

fn deep(r: &Rotation) -> String {
    let last_good = r.last_good.as_deref().unwrap_or("none recorded");
    format!(
        "\nfailover policy (OpenClaw 2026.9.6):
  - rate limit (429, usage-window limits): the profile goes into cooldown (30 s, then 1 min, then 5 min per failure, per OpenClaw's docs) and the gateway fails over to the next profile; with a model fallback it tries {RATE_LIMIT_ROTATIONS} other profile and then the fallback model (a fixed limit in its code, not a setting)
  - auth failure (401/403): the profile goes into cooldown and the next one is tried (per OpenClaw's docs)
  - billing failure: the profile is disabled for ten minutes (per OpenClaw's docs)
  - blocked, cooling down or disabled profiles are tried last, soonest usable first
order, lastGood and session pins:
  - the order is the stored order, else openclaw.json auth.order, else auth.profiles, else every stored profile (now: {source})
  - lastGood ({last_good}) is recorded after a success; it does not move a profile in the order
  - a session pin is tried first in that session while usable; while it cools down the next profile is tried and the pin stays; /new or /reset in that chat clears an automatic pin (per OpenClaw's docs)
commands:
  - codex-profiler usage                   which profile has quota left
  - codex-profiler order set ID...         put the most quota first
  - codex-profiler order clear             let the gateway order by itself
  - codex-profiler unblock SEL             clear a block once usage says quota is back
  - codex-profiler layers --session-key K  see a session's pin
  - codex-profiler doctor                  the same findings with the rest of the checks
",
        source = r.order_source
    )
}
