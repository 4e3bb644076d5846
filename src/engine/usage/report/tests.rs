//! Rendering tests on hand-made results.

use serde_json::json;

use super::*;
use crate::engine::health::{UsageStats, local_health};
use crate::engine::profile::{CodexProfile, Fence, ProfileId, Provider};
use crate::engine::usage::parse::parse;
use crate::engine::usage::{ProfileResult, RemoteError, UsageRun};

const NOW_S: i64 = 1_800_000_000;

fn result(id: &str, email: Option<&str>) -> ProfileResult {
    let profile = CodexProfile {
        id: ProfileId::parse(id).unwrap(),
        provider: Provider::OpenAi,
        access: None,
        has_refresh: true,
        expires_ms: Some((NOW_S + 86_400 * 5) * 1000),
        account_id: Some("acc-1".into()),
        email: email.map(str::to_owned),
        plan: Some("plus".into()),
        fence: Fence::None,
    };
    let mut r = ProfileResult::unanswered(
        &profile,
        local_health(&profile, &UsageStats::default(), true, false, NOW_S * 1000),
    );
    r.elapsed_ms = 12;
    r.attempts = 1;
    r.attempt_ms = vec![12];
    r
}

fn ok_result() -> ProfileResult {
    let body = json!({"plan_type": "plus", "rate_limit": {
        "primary_window": {"used_percent": 58, "limit_window_seconds": 18000, "reset_after_seconds": 7980},
        "secondary_window": {"used_percent": 12, "limit_window_seconds": 604800, "reset_after_seconds": 399_600}}});
    let mut r = result("openai:alice@example.com", Some("alice@example.com"));
    r.remote_usage = Some(parse(body.to_string().as_bytes(), NOW_S).unwrap());
    r.remote_usage_ok = true;
    r
}

fn failed_result() -> ProfileResult {
    let mut r = result("openai:bob", None);
    r.remote_error = Some(RemoteError::RateLimited);
    r.remote_status = Some(429);
    r.attempts = 1;
    r
}

fn run() -> UsageRun {
    UsageRun {
        remote_endpoint: "http://127.0.0.1:9/usage".into(),
        profiles: vec![ok_result(), failed_result()],
        elapsed_ms: 40,
    }
}

#[test]
fn durations_read_like_spec() {
    assert_eq!(human_duration(7980), "2h 13m");
    assert_eq!(human_duration(399_600), "4d 15h");
    assert_eq!(human_duration(420), "7m");
    assert_eq!(human_duration(5), "<1m");
    assert_eq!(human_duration(-3), "<1m");
}

#[test]
fn success_line_matches_spec_example() {
    assert_eq!(
        line(&ok_result()),
        "alice@example.com · plus · 5h 42% left (resets 2h 13m) · week 88% left (resets 4d 15h)"
    );
}

#[test]
fn failure_lines_are_short_reasons() {
    assert_eq!(line(&failed_result()), "bob · ⚠ rate limited (429)");
    let mut r = result("openai:carol@example.com", Some("carol@example.com"));
    r.remote_error = Some(RemoteError::TokenExpiredLocally);
    assert!(line(&r).starts_with("carol@example.com · ⚠ token expired"));
    assert!(line_debug(&failed_result()).ends_with("[1 attempt, 12 ms]"));
}

#[test]
fn limit_reached_and_unknown_windows_are_shown() {
    let mut r = ok_result();
    let body = json!({"rate_limit": {"limit_reached": true, "primary_window": {"limit_window_seconds": 18000}}});
    r.remote_usage = Some(parse(body.to_string().as_bytes(), NOW_S).unwrap());
    assert_eq!(
        line(&r),
        "alice@example.com · plus · 5h usage unknown · ⚠ limit reached"
    );
}

#[test]
fn json_document_has_every_spec_field() {
    let store = json!({"format": "state-db", "path": "/x/openclaw.sqlite"});
    let doc = render_json(&run(), &store, false);
    for k in [
        "ok",
        "store",
        "remote_endpoint",
        "profiles",
        "summary",
        "formatted_profiles",
        "suggested_user_message",
        "progress_message",
    ] {
        assert!(doc.get(k).is_some(), "missing {k}");
    }
    assert_eq!(doc["store"], store);
    assert_eq!(
        doc["summary"],
        json!({"profiles_checked": 2, "remote_ok_count": 1, "remote_failed_count": 1,
            "usable_count": 1, "limited_count": 0})
    );
    let p = &doc["profiles"][0];
    for k in [
        "profile",
        "provider",
        "email",
        "account_id",
        "plan",
        "local",
        "remote_usage_ok",
        "remote_usage",
        "remote_error",
        "remote_status",
        "remote_hint",
        "elapsed_ms",
    ] {
        assert!(p.get(k).is_some(), "missing profiles[].{k}");
    }
    for k in [
        "token_expires_at",
        "status",
        "cooldown_until",
        "blocked_until",
        "disabled_until",
        "last_used",
        "error_count",
        "in_order",
        "last_good",
    ] {
        assert!(p["local"].get(k).is_some(), "missing local.{k}");
    }
    for k in [
        "plan",
        "allowed",
        "limit_reached",
        "credits_balance",
        "windows",
    ] {
        assert!(
            p["remote_usage"].get(k).is_some(),
            "missing remote_usage.{k}"
        );
    }
    let w = &p["remote_usage"]["windows"][0];
    assert_eq!(w["label"], "5h");
    assert_eq!(w["remaining_percent"], json!(42.0));
    for k in ["used_percent", "reset_at", "reset_after_seconds"] {
        assert!(w.get(k).is_some(), "missing window.{k}");
    }
    assert_eq!(doc["profiles"][1]["remote_error"], "rate_limited");
    assert_eq!(doc["profiles"][1]["remote_status"], 429);
    assert!(p.get("attempts").is_none());
    assert_eq!(doc["formatted_profiles"][1], "bob · ⚠ rate limited (429)");
    assert_eq!(doc["progress_message"], PROGRESS_MESSAGE);
    assert!(
        doc["suggested_user_message"]
            .as_str()
            .unwrap()
            .ends_with("2 checked: 1 usable, 0 limited, 1 failed")
    );
}

#[test]
fn debug_adds_attempts_and_timings() {
    let doc = render_json(&run(), &json!(null), true);
    assert_eq!(doc["profiles"][1]["attempts"], 1);
    assert_eq!(doc["profiles"][1]["attempt_ms"], json!([12]));
    assert_eq!(doc["elapsed_ms"], 40);
    let text = render_text(&run(), true);
    assert!(text.lines().next().unwrap().contains("attempt"));
    let plain = render_text(&run(), false);
    assert_eq!(plain.lines().count(), 3);
    assert_eq!(
        plain.lines().last().unwrap(),
        "2 checked: 1 usable, 0 limited, 1 failed"
    );
}

fn answered(body: serde_json::Value) -> ProfileResult {
    answered_at(body, NOW_S)
}

/// Alice's result for the reply `body`, read at `now_s`.
pub(super) fn answered_at(body: serde_json::Value, now_s: i64) -> ProfileResult {
    let mut r = result("openai:alice@example.com", Some("alice@example.com"));
    r.remote_usage = Some(parse(body.to_string().as_bytes(), now_s).unwrap());
    r.remote_usage_ok = true;
    r
}

fn fixture(body: &str) -> ProfileResult {
    answered(serde_json::from_str(body).unwrap())
}

/// Usage-based plans answer `rate_limit: null`: the line shows the spend left and the
/// credits, not "no limits reported".
#[test]
fn usage_based_line_shows_spend_and_credits() {
    let r = fixture(include_str!(
        "../../../../tests/fixtures/usage/usage_based.json"
    ));
    assert_eq!(
        line(&r),
        "alice@example.com · business_usage_based · individual spend 37.5 of 50 left (resets 12d 0h) · \
         group default spend 60 of 100 left (resets 12d 0h) · credits 412.8"
    );
}

#[test]
fn code_review_additional_and_banked_resets_are_shown() {
    let r = fixture(include_str!(
        "../../../../tests/fixtures/usage/code_review.json"
    ));
    assert_eq!(
        line(&r),
        "alice@example.com · pro · 5h 90% left (resets 1h 0m) · week 70% left (resets 3d 0h) · \
         code review week 20% left (resets 2d 0h) · GPT-5.3-Codex-Spark 5h 97% left (resets 10m) · \
         2 resets banked"
    );
    let doc = render_json(
        &UsageRun {
            remote_endpoint: "http://127.0.0.1:9/usage".into(),
            profiles: vec![r],
            elapsed_ms: 1,
        },
        &json!(null),
        false,
    );
    let u = &doc["profiles"][0]["remote_usage"];
    assert_eq!(u["resets_banked"], 2);
    assert_eq!(u["windows"][1]["kind"], "codex");
    assert_eq!(u["other_windows"][0]["kind"], "code_review");
    assert_eq!(u["other_windows"][1]["name"], "GPT-5.3-Codex-Spark");
}

#[test]
fn workspace_wide_limit_says_rotation_will_not_help() {
    let r = fixture(include_str!(
        "../../../../tests/fixtures/usage/workspace_out.json"
    ));
    let l = line(&r);
    assert!(
        l.ends_with(
            "⚠ workspace out of credits: the whole workspace is out, another profile of it \
             will not help"
        ),
        "{l}"
    );
    assert!(r.is_limited() && !r.is_usable());
}

#[test]
fn absurd_values_read_as_unknown() {
    let r = fixture(include_str!("../../../../tests/fixtures/usage/absurd.json"));
    let l = line(&r);
    assert_eq!(
        l,
        "alice@example.com · plus · 5h usage unknown · week usage unknown"
    );
    assert!(!l.contains("106751991167300d"));
    let w = answered(json!({"rate_limit": {"primary_window": {"used_percent": 10,
        "limit_window_seconds": 18000, "reset_after_seconds": 9.2e18}}}));
    assert_eq!(
        line(&w),
        "alice@example.com · plus · 5h 90% left (reset unknown)"
    );
}

#[test]
fn summary_counts_limited_apart_from_usable() {
    let limited = fixture(include_str!(
        "../../../../tests/fixtures/usage/workspace_out.json"
    ));
    let run = UsageRun {
        remote_endpoint: "http://127.0.0.1:9/usage".into(),
        profiles: vec![ok_result(), ok_result(), limited, failed_result()],
        elapsed_ms: 1,
    };
    assert_eq!(
        summary_line(&run.summary()),
        "4 checked: 2 usable, 1 limited, 1 failed"
    );
}

#[test]
fn rate_limited_line_gives_the_time() {
    let mut r = failed_result();
    r.retry_after_seconds = Some(600);
    assert_eq!(line(&r), "bob · ⚠ rate limited (429), retry in 10m");
}

/// The token said plus; the reply says pro: the line shows pro.
#[test]
fn the_reply_plan_wins_over_the_stored_one() {
    let r = answered(json!({"plan_type": "pro"}));
    assert_eq!(r.plan.as_deref(), Some("plus"));
    assert_eq!(line(&r), "alice@example.com · pro · no limits reported");
}

/// Issue 11: text lines are sorted by the label they show, not by the profile id they hide
/// (`openai:a` is zed's, `openai:z` is amy's).
#[test]
fn text_lines_are_sorted_by_the_label_shown() {
    let mut zed = result("openai:a", Some("zed@example.com"));
    zed.remote_error = Some(RemoteError::RateLimited);
    let mut amy = result("openai:z", Some("amy@example.com"));
    amy.remote_error = Some(RemoteError::RateLimited);
    let run = UsageRun {
        remote_endpoint: "http://127.0.0.1:9/usage".into(),
        profiles: vec![zed, amy],
        elapsed_ms: 1,
    };
    let text = render_text_among(&run, false, &[]);
    let firsts: Vec<&str> = text
        .lines()
        .map(|l| l.split(' ').next().unwrap_or(""))
        .collect();
    assert_eq!(
        firsts[..2],
        ["amy@example.com", "zed@example.com"],
        "{text}"
    );
}
