//! Usage replies: any body never panics the parser or the report; no number reported is NaN
//! or infinite, no percentage is outside 0..=100, no delay is negative or absurd; the text
//! report holds no raw control character, whatever the endpoint sent.

use codex_profiler::engine::usage::parse::{RemoteUsage, parse};
use codex_profiler::engine::usage::report::{render_json, render_text};
use codex_profiler::engine::usage::window::{MAX_RESET_S, UsageWindow};
use proptest::prelude::*;
use serde_json::{Value, json};

use super::strategies::{hostile_text, json_leaf, json_object_with, json_value};
use super::{answered, config};

/// Every key the reader looks for.
const KEYS: &[&str] = &[
    "rate_limit",
    "primary_window",
    "secondary_window",
    "used_percent",
    "limit_window_seconds",
    "reset_after_seconds",
    "reset_at",
    "allowed",
    "limit_reached",
    "credits",
    "balance",
    "has_credits",
    "unlimited",
    "code_review_rate_limit",
    "additional_rate_limits",
    "limit_name",
    "metered_feature",
    "spend_control",
    "individual_limit",
    "limit",
    "used",
    "remaining",
    "remaining_percent",
    "reached",
    "reached_limit_type",
    "rate_limit_reset_credits",
    "available_count",
    "rate_limit_reached_type",
    "plan_type",
];

/// A leaf, or now and then any JSON at all.
fn value() -> BoxedStrategy<Value> {
    prop_oneof![4 => json_leaf(), 1 => json_value()].boxed()
}

fn window() -> impl Strategy<Value = Value> {
    (value(), value(), value(), value()).prop_map(|(u, l, a, r)| {
        json!({"used_percent": u, "limit_window_seconds": l, "reset_after_seconds": a, "reset_at": r})
    })
}

fn rate_limit() -> impl Strategy<Value = Value> {
    (
        window(),
        prop_oneof![window(), value()],
        value(),
        value(),
        value(),
    )
        .prop_map(|(p, s, allowed, reached, t)| {
            json!({"primary_window": p, "secondary_window": s, "allowed": allowed,
                "limit_reached": reached, "rate_limit_reached_type": t})
        })
}

fn spend_limit() -> impl Strategy<Value = Value> {
    (
        value(),
        value(),
        value(),
        value(),
        value(),
        value(),
        value(),
    )
        .prop_map(|(l, u, r, up, rp, a, at)| {
            json!({"limit": l, "used": u, "remaining": r, "used_percent": up,
                "remaining_percent": rp, "reset_after_seconds": a, "reset_at": at})
        })
}

/// A reply shaped like the endpoint's, every value hostile.
fn reply() -> impl Strategy<Value = Value> {
    (
        (
            rate_limit(),
            rate_limit(),
            hostile_text(),
            value(),
            value(),
            value(),
        ),
        prop::collection::vec((hostile_text(), rate_limit()), 0..3),
        prop::collection::vec((hostile_text(), spend_limit()), 0..3),
        (
            value(),
            hostile_text(),
            value(),
            value(),
            json_object_with(KEYS, 2),
        ),
    )
        .prop_map(
            |(
                (rl, cr, plan, bal, has, unl),
                extra,
                spends,
                (reached, rtype, banked, rtype2, junk),
            )| {
                let mut spend = json!({"reached": reached, "reached_limit_type": rtype});
                for (name, l) in spends {
                    spend[name] = l;
                }
                let extra: Vec<Value> = extra
                    .into_iter()
                    .map(|(n, rl)| json!({"limit_name": n, "metered_feature": n, "rate_limit": rl}))
                    .collect();
                let mut v = json!({
                    "plan_type": plan, "rate_limit": rl, "code_review_rate_limit": cr,
                    "credits": {"balance": bal, "has_credits": has, "unlimited": unl},
                    "additional_rate_limits": extra, "spend_control": spend,
                    "rate_limit_reset_credits": {"available_count": banked},
                    "rate_limit_reached_type": rtype2,
                });
                for (k, j) in junk.as_object().into_iter().flatten() {
                    v[k] = j.clone();
                }
                v
            },
        )
}

fn now() -> impl Strategy<Value = i64> {
    prop_oneof![3 => Just(1_800_000_000_i64), 1 => any::<i64>()]
}

fn check_window(w: &UsageWindow) -> Result<(), TestCaseError> {
    for p in [w.used_percent, w.remaining_percent].into_iter().flatten() {
        prop_assert!(p.is_finite() && (0.0..=100.0).contains(&p), "{:?}", w);
    }
    if let Some(s) = w.reset_after_seconds {
        prop_assert!((0..=MAX_RESET_S).contains(&s), "{:?}", w);
    }
    if let Some(l) = w.limit_window_seconds {
        prop_assert!(l > 0, "{:?}", w);
    }
    Ok(())
}

fn check(u: &RemoteUsage) -> Result<(), TestCaseError> {
    for w in u
        .all_windows()
        .chain(u.additional_limits.iter().flat_map(|a| &a.windows))
    {
        check_window(w)?;
    }
    if let Some(b) = u.credits_balance {
        prop_assert!(b.is_finite() && b >= 0.0);
    }
    for l in u.spend.iter().flat_map(|s| &s.limits) {
        for n in [l.limit, l.used, l.remaining].into_iter().flatten() {
            prop_assert!(n.is_finite(), "{:?}", l);
        }
        for p in [l.used_percent, l.remaining_percent].into_iter().flatten() {
            prop_assert!(p.is_finite() && (0.0..=100.0).contains(&p), "{:?}", l);
        }
        if let Some(s) = l.reset_after_seconds {
            prop_assert!((0..=MAX_RESET_S).contains(&s), "{:?}", l);
        }
    }
    Ok(())
}

/// The report of one answered profile: every number sane, no raw control character.
fn check_report(u: RemoteUsage) -> Result<(), TestCaseError> {
    check(&u)?;
    let run = answered(u);
    for debug in [false, true] {
        let text = render_text(&run, debug);
        prop_assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "raw control character in {:?}",
            text
        );
        let _ = render_json(&run, &json!({"format": "test"}), debug);
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_body_never_panics(body in prop_oneof![
        hostile_text().prop_map(String::into_bytes),
        prop::collection::vec(any::<u8>(), 0..64),
        json_value().prop_map(|v| v.to_string().into_bytes()),
    ], now in now()) {
        if let Ok(u) = parse(&body, now) {
            check_report(u)?;
        }
    }

    #[test]
    fn shaped_replies_report_sane_numbers(reply in reply(), now in now()) {
        let u = parse(reply.to_string().as_bytes(), now);
        prop_assert!(u.is_ok(), "an object is never malformed");
        check_report(u.unwrap())?;
    }
}
