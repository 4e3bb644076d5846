//! The rules over scripted rounds: each change once, nothing when nothing changed, the
//! first round only records, clocks going backwards repeat nothing.

use super::*;
use crate::engine::forecast::{ProfileForecast, Status as F, WindowForecast};
use crate::engine::health::{LocalHealth, TokenStatus};
use crate::engine::usage::{ProfileResult, RemoteError, RemoteUsage, UsageWindow, WindowKind};

const H: i64 = 3_600_000;
const NOW: i64 = 1_900_000_000_000;

fn window(used: f64, reset_s: i64) -> UsageWindow {
    UsageWindow {
        label: "5h".into(),
        used_percent: Some(used),
        remaining_percent: Some(100.0 - used),
        reset_at: Some(reset_s),
        reset_after_seconds: Some(3600),
        kind: WindowKind::Codex,
        name: None,
        limit_window_seconds: Some(18_000),
    }
}

fn usage(used: f64, reset_s: i64) -> RemoteUsage {
    RemoteUsage {
        plan: Some("plus".into()),
        allowed: Some(used < 100.0),
        limit_reached: Some(used >= 100.0),
        credits_balance: None,
        has_credits: None,
        credits_unlimited: None,
        windows: vec![window(used, reset_s)],
        other_windows: vec![],
        additional_limits: vec![],
        spend: None,
        resets_banked: None,
        rate_limit_reached_type: None,
        workspace_out: false,
        limited: used >= 100.0,
    }
}

fn local(status: TokenStatus) -> LocalHealth {
    LocalHealth {
        token_expires_at: None,
        status,
        cooldown_until: None,
        blocked_until: None,
        disabled_until: None,
        last_used: None,
        error_count: 0,
        in_order: true,
        last_good: false,
        fence: "none",
    }
}

fn result(id: &str, u: Option<RemoteUsage>, err: Option<RemoteError>) -> ProfileResult {
    ProfileResult {
        profile: id.into(),
        provider: "openai-codex",
        email: None,
        account_id: Some(format!("acct-{id}")),
        plan: Some("plus".into()),
        local: local(TokenStatus::Ok),
        remote_usage_ok: u.is_some(),
        remote_usage: u,
        remote_error: err,
        remote_status: None,
        remote_hint: None,
        retry_after_seconds: None,
        retry_at: None,
        elapsed_ms: 1,
        attempts: 1,
        attempt_ms: vec![],
    }
}

fn obs(r: ProfileResult) -> Observation {
    Observation {
        label: r.profile.clone(),
        result: r,
        token_expires_at_ms: None,
        unusable_until_ms: None,
    }
}

fn used(id: &str, pct: f64, reset_s: i64) -> Observation {
    obs(result(id, Some(usage(pct, reset_s)), None))
}

/// Run rounds through the rules; the kinds of each round's events.
fn rounds(script: Vec<(i64, Vec<Observation>)>) -> Vec<Vec<&'static str>> {
    let config = WatchConfig::default();
    let mut state = WatchState::fresh();
    script
        .into_iter()
        .map(|(now, o)| {
            let (c, next) = evaluate(&state, &o, &[], &config, now);
            state = next;
            c.events.iter().map(|e| e.words(now).kind).collect()
        })
        .collect()
}

const RESET: i64 = NOW / 1000 + 3600;

#[test]
fn each_change_is_notified_once_and_nothing_when_nothing_changed() {
    let got = rounds(vec![
        (NOW, vec![used("a", 10.0, RESET)]),                  // baseline
        (NOW + H / 6, vec![used("a", 10.0, RESET)]),          // nothing
        (NOW + H / 3, vec![used("a", 85.0, RESET)]),          // 80 crossed
        (NOW + H / 2, vec![used("a", 90.0, RESET)]),          // still 80: nothing
        (NOW + H, vec![used("a", 100.0, RESET)]),             // limited + 95
        (NOW + 2 * H, vec![used("a", 100.0, RESET)]),         // nothing
        (NOW + 3 * H, vec![used("a", 2.0, RESET + 18_000)]),  // reset: usable again
        (NOW + 4 * H, vec![used("a", 81.0, RESET + 18_000)]), // new cycle: 80 again
    ]);
    assert_eq!(
        got,
        vec![
            vec![],
            vec![],
            vec!["threshold_crossed"],
            vec![],
            vec!["limited", "threshold_crossed"],
            vec![],
            vec!["usable_again"],
            vec!["threshold_crossed"],
        ]
    );
}

#[test]
fn a_first_round_only_records_and_a_new_profile_too() {
    let config = WatchConfig::default();
    let (c, s) = evaluate(
        &WatchState::fresh(),
        &[used("a", 100.0, RESET)],
        &[],
        &config,
        NOW,
    );
    assert!(c.baseline && c.events.is_empty());
    let (c, _) = evaluate(
        &s,
        &[used("a", 100.0, RESET), used("b", 100.0, RESET)],
        &[],
        &config,
        NOW + H,
    );
    assert!(!c.baseline);
    assert!(c.events.is_empty(), "{:?}", c.events);
}

#[test]
fn a_clock_going_backwards_repeats_nothing() {
    let got = rounds(vec![
        (NOW, vec![used("a", 10.0, RESET)]),
        (NOW + H, vec![used("a", 96.0, RESET)]),
        (NOW - 5 * H, vec![used("a", 96.0, RESET)]),
        (NOW - 4 * H, vec![used("a", 97.0, RESET)]),
    ]);
    assert_eq!(got, vec![vec![], vec!["threshold_crossed"], vec![], vec![]]);
    let config = WatchConfig::default();
    let (_, s) = evaluate(
        &WatchState::fresh(),
        &[used("a", 1.0, RESET)],
        &[],
        &config,
        NOW,
    );
    let (c, s) = evaluate(&s, &[used("a", 1.0, RESET)], &[], &config, NOW - H);
    assert_eq!(
        s.last_round_ms,
        Some(NOW),
        "the round time never moves back"
    );
    assert!(c.events.is_empty());
}

#[test]
fn endpoint_rejecting_and_back_passing_faults_say_nothing() {
    let rejected = || {
        obs(result(
            "a",
            None,
            Some(RemoteError::AuthNotAcceptedByUsageEndpoint),
        ))
    };
    let timeout = || obs(result("a", None, Some(RemoteError::Timeout)));
    let got = rounds(vec![
        (NOW, vec![used("a", 10.0, RESET)]),
        (NOW + 1, vec![timeout()]),
        (NOW + 2, vec![used("a", 10.0, RESET)]),
        (NOW + 3, vec![rejected()]),
        (NOW + 4, vec![rejected()]),
        (NOW + 5, vec![used("a", 10.0, RESET)]),
    ]);
    assert_eq!(
        got,
        vec![
            vec![],
            vec![],
            vec![],
            vec!["endpoint_rejecting"],
            vec![],
            vec!["endpoint_accepting"]
        ]
    );
}

#[test]
fn a_429_holds_the_profile_back_for_its_retry_after() {
    let config = WatchConfig::default();
    let mut r = result("a", None, Some(RemoteError::RateLimited));
    r.retry_after_seconds = Some(120);
    let (_, s) = evaluate(&WatchState::fresh(), &[obs(r)], &[], &config, NOW);
    assert_eq!(s.profiles["a"].retry_not_before_ms, Some(NOW + 120_000));
}

#[test]
fn token_expiry_refresh_failure_stale_block_and_workspace_once_each() {
    let with = |status: TokenStatus, expires: Option<i64>, block: Option<i64>| {
        let mut o = used("a", 10.0, RESET);
        o.result.local.status = status;
        o.token_expires_at_ms = expires;
        o.unusable_until_ms = block;
        o
    };
    let mut out_a = used("a", 100.0, RESET);
    let mut out_b = used("b", 100.0, RESET);
    for o in [&mut out_a, &mut out_b] {
        o.result.account_id = Some("ws-1".into());
        if let Some(u) = o.result.remote_usage.as_mut() {
            u.workspace_out = true;
        }
    }
    let mut base_b = used("b", 10.0, RESET);
    base_b.result.account_id = Some("ws-1".into());
    let exp = NOW + 10 * H;
    let got = rounds(vec![
        (
            NOW,
            vec![with(TokenStatus::Ok, Some(exp), None), base_b.clone()],
        ),
        (NOW + 1, vec![with(TokenStatus::Expiring, Some(exp), None)]),
        (NOW + 2, vec![with(TokenStatus::Expiring, Some(exp), None)]),
        (NOW + 3, vec![with(TokenStatus::Expired, Some(exp), None)]),
        (NOW + 4, vec![with(TokenStatus::Expired, Some(exp), None)]),
        (NOW + 5, vec![with(TokenStatus::RefreshFailed, None, None)]),
        (NOW + 6, vec![with(TokenStatus::RefreshFailed, None, None)]),
        (
            NOW + 7,
            vec![with(TokenStatus::Ok, None, Some(NOW + 5 * H))],
        ),
        (
            NOW + 8,
            vec![with(TokenStatus::Ok, None, Some(NOW + 5 * H))],
        ),
        (NOW + 9, vec![out_a.clone(), out_b.clone()]),
        (NOW + 10, vec![out_a, out_b]),
    ]);
    assert_eq!(
        got,
        vec![
            vec![],
            vec!["token_expires_soon"],
            vec![],
            vec!["token_expired"],
            vec![],
            vec!["refresh_failed"],
            vec![],
            vec!["stale_block"],
            vec![],
            vec![
                "limited",
                "threshold_crossed",
                "limited",
                "threshold_crossed",
                "workspace_out"
            ],
            vec![],
        ]
    );
}

fn runs_out(in_ms: i64, reset_ms: i64) -> ProfileForecast {
    ProfileForecast {
        profile: "a".into(),
        label: "a".into(),
        usable: true,
        windows: vec![WindowForecast {
            limit: None,
            label: "5h".into(),
            status: F::RunsOut,
            samples: 5,
            used_percent: Some(70.0),
            remaining_percent: Some(30.0),
            rate_percent_per_hour: Some(60.0),
            runs_out_at_ms: Some(NOW + in_ms),
            runs_out_in_seconds: Some(in_ms / 1000),
            runs_out_range_seconds: None,
            reset_at_ms: Some(reset_ms),
            reset_in_seconds: None,
            as_of_ms: Some(NOW),
            rate_range_per_hour: None,
        }],
    }
}

#[test]
fn a_run_out_before_the_reset_is_told_once_per_window_cycle() {
    let config = WatchConfig::default();
    let o = || vec![used("a", 70.0, RESET)];
    let (_, s) = evaluate(&WatchState::fresh(), &o(), &[], &config, NOW);
    // Beyond the horizon (2 h > 60 min): nothing.
    let (c, s) = evaluate(&s, &o(), &[runs_out(2 * H, RESET * 1000)], &config, NOW);
    assert!(c.events.is_empty());
    // After the reset: nothing either.
    let (c, s) = evaluate(&s, &o(), &[runs_out(H / 2, NOW + H / 4)], &config, NOW);
    assert!(c.events.is_empty());
    let (c, s) = evaluate(&s, &o(), &[runs_out(H / 2, RESET * 1000)], &config, NOW);
    assert_eq!(c.events.len(), 1);
    assert!(c.text().contains("runs out in ~30 min"), "{}", c.text());
    let (c, _) = evaluate(&s, &o(), &[runs_out(H / 3, RESET * 1000)], &config, NOW + 1);
    assert!(c.events.is_empty(), "once per cycle: {:?}", c.events);
}

#[test]
fn texts_and_json_name_every_event() {
    let config = WatchConfig::default();
    let (_, s) = evaluate(
        &WatchState::fresh(),
        &[used("a", 10.0, RESET)],
        &[],
        &config,
        NOW,
    );
    let (c, _) = evaluate(&s, &[used("a", 100.0, RESET)], &[], &config, NOW);
    let text = c.text();
    assert!(
        text.contains("a is limited: its 5h window is used up"),
        "{text}"
    );
    let json = serde_json::to_value(&c).unwrap();
    assert_eq!(json["events"][0]["kind"], "limited");
    assert_eq!(json["events"][0]["profile"], "a");
    assert!(
        json["events"][0]["reset_at"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    assert!(json["checked_at"].is_string());
    let empty = ChangeSet {
        now_ms: NOW,
        profiles_checked: 1,
        baseline: false,
        events: vec![],
    };
    assert_eq!(empty.text(), "No change since the last check.\n");
}
