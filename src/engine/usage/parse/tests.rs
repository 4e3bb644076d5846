//! Parsing whole reply documents of every shape the endpoint sends today
//! (`tests/fixtures/usage/*.json`, also served by the loopback usage server).

use serde_json::json;

use super::*;

const NOW: i64 = 1_800_000_000;

fn fixture(name: &str) -> RemoteUsage {
    let body = match name {
        "usage_based" => include_str!("../../../../tests/fixtures/usage/usage_based.json"),
        "code_review" => include_str!("../../../../tests/fixtures/usage/code_review.json"),
        "workspace_out" => include_str!("../../../../tests/fixtures/usage/workspace_out.json"),
        "weekly_only" => include_str!("../../../../tests/fixtures/usage/weekly_only.json"),
        "absurd" => include_str!("../../../../tests/fixtures/usage/absurd.json"),
        other => panic!("no fixture {other}"),
    };
    parse(body.as_bytes(), NOW).unwrap()
}

#[test]
fn full_reply() {
    let body = json!({
        "plan_type": "plus",
        "rate_limit": {
            "allowed": true, "limit_reached": false,
            "primary_window": {"used_percent": 58, "limit_window_seconds": 18000,
                "reset_after_seconds": 7980, "reset_at": NOW + 7980},
            "secondary_window": {"used_percent": "12.5", "limit_window_seconds": "604800",
                "reset_at": NOW + 399_600}
        },
        "credits": {"has_credits": true, "unlimited": false, "balance": "17.25"},
        "additional_rate_limits": [{"limit_name": "codex_other", "metered_feature": "x",
            "rate_limit": {"primary_window": {"used_percent": 3, "limit_window_seconds": 18000}}}],
        "unknown": {"kept": "ignored"}
    });
    let u = parse(body.to_string().as_bytes(), NOW).unwrap();
    assert_eq!(u.plan.as_deref(), Some("plus"));
    assert_eq!(u.allowed, Some(true));
    assert_eq!(u.limit_reached, Some(false));
    assert_eq!(u.credits_balance, Some(17.25));
    let codex = &u.windows;
    assert_eq!(codex.len(), 2);
    assert_eq!(codex[0].label, "5h");
    assert_eq!(codex[0].remaining_percent, Some(42.0));
    assert_eq!(codex[1].label, "week");
    assert_eq!(codex[1].remaining_percent, Some(87.5));
    assert_eq!(codex[1].reset_after_seconds, Some(399_600));
    assert_eq!(u.additional_limits[0].name.as_deref(), Some("codex_other"));
    assert_eq!(u.additional_limits[0].windows[0].label, "5h");
    assert_eq!(u.other_windows[0].kind, WindowKind::Additional);
    assert_eq!(u.other_windows[0].name.as_deref(), Some("codex_other"));
    assert!(!u.limited && !u.workspace_out);
    let j = serde_json::to_value(&u.windows[0]).unwrap();
    assert_eq!(j["reset_at"], json!("2027-01-15T10:13:00Z"));
    assert_eq!(j["kind"], "codex");
    assert_eq!(j["name"], json!(null));
}

#[test]
fn nulls_and_missing_fields_are_absent() {
    let body = json!({"plan_type": null, "rate_limit": {"allowed": null,
        "primary_window": {"used_percent": null, "limit_window_seconds": null,
            "reset_at": null}, "secondary_window": null},
        "credits": null, "additional_rate_limits": null, "spend_control": null,
        "code_review_rate_limit": null, "rate_limit_reset_credits": null,
        "rate_limit_reached_type": null});
    let u = parse(body.to_string().as_bytes(), NOW).unwrap();
    assert_eq!(u.plan, None);
    assert_eq!(u.credits_balance, None);
    assert_eq!(u.windows.len(), 1);
    assert_eq!(u.windows[0].label, "limit");
    assert_eq!(u.windows[0].remaining_percent, None);
    assert!(u.additional_limits.is_empty());
    assert_eq!((u.spend, u.resets_banked, u.limited), (None, None, false));
    assert_eq!(parse(b"{}", NOW).unwrap().windows, vec![]);
}

#[test]
fn over_full_percent_is_clamped() {
    let body = json!({"rate_limit": {"primary_window": {"used_percent": 130}}});
    let u = parse(body.to_string().as_bytes(), NOW).unwrap();
    assert_eq!(u.windows[0].remaining_percent, Some(0.0));
    assert!(u.limited, "a window used up is a limit reached");
}

#[test]
fn non_objects_are_malformed() {
    assert_eq!(parse(b"<html>hi</html>", NOW), Err(Malformed));
    assert_eq!(parse(b"[1,2]", NOW), Err(Malformed));
    assert_eq!(parse(b"", NOW), Err(Malformed));
}

/// A far-past or far-future `reset_at` must neither overflow nor become a huge delay.
#[test]
fn extreme_reset_at_is_unknown() {
    for at in [-1e300, 1e300, -9.3e18, 9.3e18] {
        let body = json!({"rate_limit": {"primary_window": {"reset_at": at}}});
        let u = parse(body.to_string().as_bytes(), NOW).unwrap();
        assert_eq!(u.windows[0].reset_after_seconds, None, "{at}");
        assert_eq!(u.windows[0].reset_at, None, "{at}");
    }
}

#[test]
fn usage_based_plan_has_spend_and_credits() {
    let u = fixture("usage_based");
    assert_eq!(u.plan.as_deref(), Some("business_usage_based"));
    assert!(u.windows.is_empty());
    assert_eq!(u.credits_balance, Some(412.8));
    let spend = u.spend.as_ref().unwrap();
    assert_eq!(spend.reached, Some(false));
    let names: Vec<_> = spend.limits.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["individual_limit", "group_default_limit"]);
    assert_eq!(spend.limits[0].remaining, Some(37.5));
    assert_eq!(spend.limits[0].reset_after_seconds, Some(1_036_800));
    assert!(!u.limited);
    let j = serde_json::to_value(&u).unwrap();
    assert_eq!(j["spend"]["limits"][0]["reset_at"], "2027-01-27T08:00:00Z");
}

#[test]
fn code_review_and_additional_limits_are_their_own_windows() {
    let u = fixture("code_review");
    let kinds: Vec<_> = u
        .all_windows()
        .map(|w| (w.kind, w.name.as_deref(), w.label.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            (WindowKind::Codex, None, "5h"),
            (WindowKind::Codex, None, "week"),
            (WindowKind::CodeReview, Some("code_review"), "week"),
            (WindowKind::Additional, Some("GPT-5.3-Codex-Spark"), "5h"),
        ]
    );
    assert_eq!(u.resets_banked, Some(2));
    assert_eq!(u.windows.len(), 2);
    assert_eq!(u.other_windows.len(), 2);
    assert!(!u.limited);
}

#[test]
fn workspace_wide_limit_is_flagged() {
    let u = fixture("workspace_out");
    assert_eq!(
        u.rate_limit_reached_type.as_deref(),
        Some("workspace_owner_credits_depleted")
    );
    assert!(u.workspace_out && u.limited);
    assert_eq!(u.resets_banked, Some(0));
    let member = json!({"rate_limit": null,
        "rate_limit_reached_type": "workspace_member_usage_limit_reached"});
    let m = parse(member.to_string().as_bytes(), NOW).unwrap();
    assert!(m.workspace_out && m.limited);
    let own = json!({"rate_limit_reached_type": "individual_usage_limit_reached"});
    let o = parse(own.to_string().as_bytes(), NOW).unwrap();
    assert!(!o.workspace_out && o.limited);
}

#[test]
fn weekly_only_primary_is_labelled_week() {
    let u = fixture("weekly_only");
    assert_eq!(u.windows.len(), 1);
    assert_eq!(u.windows[0].label, "week");
    assert_eq!(u.windows[0].remaining_percent, Some(65.0));
}

#[test]
fn absurd_values_are_unknown() {
    let u = fixture("absurd");
    for w in &u.windows {
        assert_eq!(w.used_percent, None, "{}", w.label);
        assert_eq!(w.reset_after_seconds, None, "{}", w.label);
        assert_eq!(w.reset_at, None, "{}", w.label);
    }
    assert_eq!(u.credits_balance, None);
}
