//! Unit tests of `decide` over built snapshots and hand-made usage results.

use serde_json::{Value, json};

use super::decide::{KeepWhy, MoveWhy, Verdict};
use super::render::{pins_sentence, sentence};
use super::standing::Standing;
use super::*;
use crate::engine::change::session::{SessionOrigin, SessionOverride};
use crate::engine::health::{UsageStats, local_health};
use crate::engine::profile::{CodexProfile, Fence, ProfileId, Provider};
use crate::engine::store::Snapshot;
use crate::engine::store::config::AuthConfig;
use crate::engine::usage::parse::parse;
use crate::engine::usage::{ProfileResult, RemoteError};

const NOW: i64 = 1_800_000_000_000;
const NOW_S: i64 = NOW / 1000;

fn oauth() -> Value {
    json!({"type": "oauth", "provider": "openai", "access": "a.b.c", "refresh": "r",
        "expires": NOW + 86_400_000 * 5})
}

/// A state-db snapshot holding profiles `names`, the stored order `order`, and `stats`.
fn snap(names: &[&str], order: &[&str], stats: Value) -> Snapshot {
    let profiles: serde_json::Map<String, Value> = names
        .iter()
        .map(|n| (format!("openai:{n}"), oauth()))
        .collect();
    let order: Vec<String> = order.iter().map(|n| format!("openai:{n}")).collect();
    Snapshot::of_shared_state_db(
        json!({"version": 1, "profiles": profiles}),
        json!({"version": 1, "order": {"openai": order}, "usageStats": stats}),
        AuthConfig::default(),
        NOW,
    )
}

fn base(name: &str) -> ProfileResult {
    let profile = CodexProfile {
        id: ProfileId::parse(&format!("openai:{name}")).unwrap(),
        provider: Provider::OpenAi,
        access: None,
        has_refresh: true,
        expires_ms: Some(NOW + 86_400_000 * 5),
        account_id: None,
        email: None,
        plan: Some("plus".into()),
        fence: Fence::None,
    };
    let local = local_health(&profile, &UsageStats::default(), true, false, NOW);
    ProfileResult::unanswered(&profile, local)
}

/// An answer with the 5h window at `five_h` percent used and the week at `week`.
fn used(name: &str, five_h: u32, week: u32) -> ProfileResult {
    let mut r = base(name);
    let body = json!({"plan_type": "plus", "rate_limit": {
        "allowed": true, "limit_reached": five_h >= 100 || week >= 100,
        "primary_window": {"used_percent": five_h, "limit_window_seconds": 18000,
            "reset_at": NOW_S + 3600},
        "secondary_window": {"used_percent": week, "limit_window_seconds": 604800,
            "reset_at": NOW_S + 5 * 86_400}}});
    r.remote_usage = Some(parse(body.to_string().as_bytes(), NOW_S).unwrap());
    r.remote_usage_ok = true;
    r
}

fn failed(name: &str, e: RemoteError) -> ProfileResult {
    let mut r = base(name);
    r.remote_error = Some(e);
    r
}

fn pin(key: &str, name: &str, source: Option<&str>, compaction: Option<i64>) -> SessionOverride {
    SessionOverride {
        session_key: key.into(),
        profile: format!("openai:{name}"),
        source: source.map(str::to_owned),
        origin: SessionOrigin::AgentDb,
        compaction_count: compaction,
    }
}

fn run(s: &Snapshot, results: &[ProfileResult], strategy: Strategy) -> Decision {
    run_pinned(s, results, strategy, &[])
}

fn run_pinned(
    s: &Snapshot,
    results: &[ProfileResult],
    strategy: Strategy,
    pins: &[SessionOverride],
) -> Decision {
    decide(
        s,
        &Round {
            provider: "openai",
            results,
            strategy,
            last_threshold: 95,
            pins,
        },
    )
}

fn ids(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| format!("openai:{n}")).collect()
}

fn kept(d: &Decision) -> &KeepWhy {
    match &d.verdict {
        Verdict::Keep { why } => why,
        v => panic!("expected keep, got {v:?}"),
    }
}

fn moved(d: &Decision) -> (&[String], &MoveWhy) {
    match &d.verdict {
        Verdict::Reorder { to, why, .. } => (to, why),
        v => panic!("expected a reorder, got {v:?}"),
    }
}

#[test]
fn most_left_ranks_usable_by_the_tighter_window_and_limited_last() {
    let s = snap(&["a", "b", "c", "d"], &["a", "b", "c", "d"], json!({}));
    // a: limited; b: 5h 30% used but week 80% used (20 left); c: 40 left; d: 90 left.
    let r = [
        used("a", 100, 10),
        used("b", 30, 80),
        used("c", 60, 10),
        used("d", 10, 5),
    ];
    let d = run(&s, &r, Strategy::MostLeft);
    let (to, why) = moved(&d);
    assert_eq!(to, ids(&["d", "c", "b", "a"]).as_slice());
    assert_eq!(why, &MoveWhy::FirstLimited);
    assert_eq!(d.first_before.as_deref(), Some("openai:a"));
    assert_eq!(d.from, ids(&["a", "b", "c", "d"]));
    let b = d.standing_of("openai:b").unwrap();
    assert_eq!(b.standing.remaining(), Some(20.0), "the week is tighter");
    assert!(b.reason.contains("week window 20% left"), "{}", b.reason);
    let line = sentence(&d);
    assert!(
        line.starts_with("move openai:d first") && line.contains("openai:a is limited"),
        "{line}"
    );
}

#[test]
fn ties_and_a_small_lead_keep_the_first() {
    let s = snap(&["a", "b"], &["a", "b"], json!({}));
    for b_used in [40, 35, 31] {
        let d = run(
            &s,
            &[used("a", 40, 0), used("b", b_used, 0)],
            Strategy::MostLeft,
        );
        assert_eq!(kept(&d), &KeepWhy::FirstFine, "b at {b_used}% used");
    }
    // A lead of the margin moves it.
    let d = run(
        &s,
        &[used("a", 40, 0), used("b", 30, 0)],
        Strategy::MostLeft,
    );
    assert_eq!(moved(&d).0, ids(&["b", "a"]).as_slice());
    assert!(matches!(moved(&d).1, MoveWhy::MoreLeft { .. }));
    // Tied non-first profiles keep their current relative order.
    let s = snap(&["a", "b", "c", "d"], &["a", "b", "c", "d"], json!({}));
    let r = [
        used("a", 100, 0),
        used("b", 20, 0),
        used("c", 20, 0),
        used("d", 20, 0),
    ];
    let d = run(&s, &r, Strategy::MostLeft);
    assert_eq!(moved(&d).0, ids(&["b", "c", "d", "a"]).as_slice());
}

#[test]
fn all_limited_keeps_the_order() {
    let s = snap(&["a", "b", "c"], &["a", "b", "c"], json!({}));
    let r = [used("a", 100, 0), used("b", 0, 100), used("c", 100, 100)];
    for strategy in [Strategy::MostLeft, Strategy::DrainFirst] {
        let d = run(&s, &r, strategy);
        assert_eq!(kept(&d), &KeepWhy::NoBetterProfile, "{strategy:?}");
        assert!(sentence(&d).starts_with("order kept: openai:a should give way"));
    }
}

#[test]
fn one_usable_profile_goes_first_and_a_single_profile_is_kept() {
    let s = snap(&["a", "b", "c"], &["a", "b", "c"], json!({}));
    let r = [used("a", 100, 0), used("b", 100, 0), used("c", 97, 50)];
    for strategy in [Strategy::MostLeft, Strategy::DrainFirst] {
        let d = run(&s, &r, strategy);
        assert_eq!(
            moved(&d).0,
            ids(&["c", "a", "b"]).as_slice(),
            "{strategy:?}: even past the threshold, c is the only usable one"
        );
    }
    let one = snap(&["a"], &["a"], json!({}));
    let d = run(&one, &[used("a", 100, 0)], Strategy::MostLeft);
    assert_eq!(kept(&d), &KeepWhy::OneProfile);
    let none = snap(&[], &[], json!({}));
    assert_eq!(
        kept(&run(&none, &[], Strategy::DrainFirst)),
        &KeepWhy::NoProfiles
    );
}

#[test]
fn failed_checks_rank_between_usable_and_limited_and_broken_last() {
    let s = snap(
        &["a", "b", "c", "d", "e"],
        &["a", "b", "c", "d", "e"],
        json!({}),
    );
    let r = [
        failed("a", RemoteError::RefreshFailed),
        used("b", 100, 0),
        failed("c", RemoteError::Timeout),
        used("d", 50, 0),
        failed("e", RemoteError::ServerError),
    ];
    let d = run(&s, &r, Strategy::MostLeft);
    let (to, why) = moved(&d);
    assert_eq!(to, ids(&["d", "c", "e", "b", "a"]).as_slice());
    assert_eq!(why, &MoveWhy::FirstBroken);
    assert!(matches!(
        d.standing_of("openai:c").unwrap().standing,
        Standing::Unknown { .. }
    ));
    // A first whose check failed is kept: no move on a guess.
    let d = run(
        &s,
        &[failed("a", RemoteError::Timeout), used("b", 0, 0)],
        Strategy::MostLeft,
    );
    assert_eq!(kept(&d), &KeepWhy::FirstUnknown);
    // A profile of the order that was not checked at all counts as unknown too.
    let d = run(&s, &[used("b", 0, 0)], Strategy::DrainFirst);
    assert_eq!(kept(&d), &KeepWhy::FirstUnknown);
}

#[test]
fn drain_first_keeps_the_first_below_the_threshold() {
    let s = snap(&["a", "b"], &["a", "b"], json!({}));
    // a has far less left than b, and is kept: no reorder while it drains.
    let d = run(
        &s,
        &[used("a", 94, 10), used("b", 0, 0)],
        Strategy::DrainFirst,
    );
    assert_eq!(kept(&d), &KeepWhy::FirstFine);
    assert!(
        sentence(&d).contains("still below 95% used"),
        "{}",
        sentence(&d)
    );
    // The same round under most-left moves b first.
    let d = run(
        &s,
        &[used("a", 94, 10), used("b", 0, 0)],
        Strategy::MostLeft,
    );
    assert_eq!(moved(&d).0, ids(&["b", "a"]).as_slice());
}

#[test]
fn drain_first_moves_once_the_first_crosses_the_threshold() {
    let s = snap(&["a", "b", "c"], &["a", "b", "c"], json!({}));
    // a reaches 95% of its week; c has the most left of those under the threshold.
    let r = [used("a", 20, 95), used("b", 96, 0), used("c", 30, 10)];
    let d = run(&s, &r, Strategy::DrainFirst);
    let (to, why) = moved(&d);
    assert_eq!(to, ids(&["c", "a", "b"]).as_slice());
    assert_eq!(why, &MoveWhy::FirstCrossedThreshold { threshold: 95 });
    assert!(d.standing_of("openai:a").unwrap().crossed_threshold);
    assert!(
        sentence(&d).contains("openai:a reached 95% used"),
        "{}",
        sentence(&d)
    );
    // Every other usable profile crossed too: keep draining a.
    let r = [used("a", 20, 95), used("b", 96, 0), used("c", 99, 0)];
    assert_eq!(
        kept(&run(&s, &r, Strategy::DrainFirst)),
        &KeepWhy::NoBetterProfile
    );
}

#[test]
fn a_gateway_block_counts_as_limited_and_retired_profiles_stay_out() {
    // c is stored but not in the order (retired): it never comes back. a is in cooldown in
    // the gateway although the usage endpoint has quota for it.
    let stats = json!({"openai:a": {"cooldownUntil": NOW + 600_000}});
    let s = snap(&["a", "b", "c"], &["a", "b"], stats);
    let r = [used("a", 0, 0), used("b", 50, 0), used("c", 0, 0)];
    let d = run(&s, &r, Strategy::DrainFirst);
    // The gateway already tries b first (a is moved last): b is fine, keep.
    assert_eq!(d.first_before.as_deref(), Some("openai:b"));
    assert_eq!(d.from, ids(&["b", "a"]));
    assert_eq!(kept(&d), &KeepWhy::FirstFine);
    assert!(matches!(
        d.standing_of("openai:a").unwrap().standing,
        Standing::Limited {
            by: standing::LimitedBy::Gateway,
            ..
        }
    ));
    let d = run(
        &s,
        &[used("a", 0, 0), used("b", 100, 0)],
        Strategy::MostLeft,
    );
    assert_eq!(
        kept(&d),
        &KeepWhy::NoBetterProfile,
        "c is retired: not a candidate"
    );
}

#[test]
fn pinned_sessions_are_left_alone_and_named() {
    let s = snap(&["a", "b"], &["a", "b"], json!({}));
    let pins = [
        pin("agent:main:telegram:1", "a", Some("user"), None),
        pin("agent:main:telegram:2", "a", None, None),
        pin("agent:main:telegram:3", "a", None, Some(2)),
        pin("agent:main:telegram:4", "b", Some("user-link"), None),
        pin("agent:main:other", "zed", Some("user"), None),
    ];
    let d = run_pinned(
        &s,
        &[used("a", 100, 0), used("b", 0, 0)],
        Strategy::DrainFirst,
        &pins,
    );
    assert_eq!(moved(&d).0, ids(&["b", "a"]).as_slice());
    let got: Vec<(&str, &str, bool)> = d
        .pinned_sessions
        .iter()
        .map(|p| (p.session_key.as_str(), p.source.as_str(), p.user_pin))
        .collect();
    assert_eq!(
        got,
        [
            ("agent:main:telegram:1", "user", true),
            ("agent:main:telegram:2", "user", true),
            ("agent:main:telegram:3", "auto", false),
            ("agent:main:telegram:4", "user-link", true),
        ],
        "a pin without a source or compaction count is the user's (as OpenClaw resolves it); a pin of a profile outside the order is not listed"
    );
    let line = pins_sentence(&d).unwrap();
    assert!(
        line.contains("agent:main:telegram:1 → openai:a (user)"),
        "{line}"
    );
    // The decision is data: it holds no instruction to touch a pin, and keeping the order
    // lists the pins all the same.
    let d = run_pinned(&s, &[used("a", 0, 0)], Strategy::DrainFirst, &pins);
    assert_eq!(kept(&d), &KeepWhy::FirstFine);
    assert_eq!(d.pinned_sessions.len(), 4);
}

#[test]
fn the_decision_serialises_with_its_facts() {
    let s = snap(&["a", "b"], &["a", "b"], json!({}));
    let d = run(
        &s,
        &[used("a", 96, 0), used("b", 10, 0)],
        Strategy::DrainFirst,
    );
    let v = serde_json::to_value(&d).unwrap();
    assert_eq!(v["action"], "reorder");
    assert_eq!(v["strategy"], "drain-first");
    assert_eq!(v["to"], json!(["openai:b", "openai:a"]));
    assert_eq!(v["first_after"], "openai:b");
    assert_eq!(v["why"]["code"], "first_crossed_threshold");
    assert_eq!(v["profiles"][0]["state"], "usable");
    assert_eq!(v["profiles"][0]["crossed_threshold"], true);
    let v = serde_json::to_value(run(&s, &[used("a", 10, 0)], Strategy::DrainFirst)).unwrap();
    assert_eq!(v["action"], "keep");
    assert_eq!(v["why"]["code"], "first_fine");
    assert!(v.get("to").is_none());
}
