//! The usage endpoint's reply, read tolerantly into typed values: every field may be missing
//! or null, numbers may arrive as strings, and unknown fields are ignored. Only a reply that
//! is not a JSON object at all is malformed.

use serde::Serialize;
use serde_json::Value;

use crate::engine::lenient::{boolean, number, text};

use crate::engine::health::iso_ms;

/// Seconds in an hour, for window labels.
const HOUR_S: f64 = 3600.0;

/// What the usage endpoint said about one account, as shown to users.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RemoteUsage {
    /// `plan_type`.
    pub plan: Option<String>,
    /// `rate_limit.allowed`.
    pub allowed: Option<bool>,
    /// `rate_limit.limit_reached`.
    pub limit_reached: Option<bool>,
    /// `credits.balance`, as a number (the endpoint may send a string).
    pub credits_balance: Option<f64>,
    /// `credits.has_credits`.
    pub has_credits: Option<bool>,
    /// `credits.unlimited`.
    pub credits_unlimited: Option<bool>,
    /// The primary then the secondary window, those present.
    pub windows: Vec<UsageWindow>,
    /// `additional_rate_limits[]`: other metered limits, each with its own windows.
    pub additional_limits: Vec<AdditionalLimit>,
}

/// One rate-limit window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UsageWindow {
    /// `5h`, `day`, `week` (from `limit_window_seconds`), or `primary`/`secondary` when the
    /// endpoint did not say.
    pub label: String,
    /// `used_percent`, clamped to 0..=100.
    pub used_percent: Option<f64>,
    /// `100 - used_percent`.
    pub remaining_percent: Option<f64>,
    /// `reset_at` (unix seconds) as RFC 3339 UTC.
    #[serde(serialize_with = "ser_reset_at")]
    pub reset_at: Option<i64>,
    /// `reset_after_seconds`, else computed from `reset_at` at the time of the check.
    pub reset_after_seconds: Option<i64>,
}

/// One entry of `additional_rate_limits`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AdditionalLimit {
    /// `limit_name`, else `metered_feature`.
    pub name: Option<String>,
    /// Its windows, read like the main ones.
    pub windows: Vec<UsageWindow>,
}

fn ser_reset_at<S: serde::Serializer>(v: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match v.and_then(|secs| iso_ms(secs.saturating_mul(1000))) {
        Some(t) => s.serialize_str(&t),
        None => s.serialize_none(),
    }
}

/// The reply was not a JSON object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed;

/// The label SPEC section 5 gives a window: under 24 h `<n>h`, from 168 h `week`, else `day`.
pub fn window_label(limit_window_seconds: f64) -> String {
    let hours = (limit_window_seconds / HOUR_S).round().max(1.0);
    if hours < 24.0 {
        format!("{}h", hours as i64)
    } else if hours >= 168.0 {
        "week".to_owned()
    } else {
        "day".to_owned()
    }
}

fn window(v: Option<&Value>, fallback_label: &str, now_s: i64) -> Option<UsageWindow> {
    let v = v.filter(|v| v.is_object())?;
    let used = number(v.get("used_percent")).map(|u| u.clamp(0.0, 100.0));
    let reset_at = number(v.get("reset_at")).map(|f| f as i64);
    let reset_after_seconds = number(v.get("reset_after_seconds"))
        .map(|f| f.max(0.0) as i64)
        .or_else(|| reset_at.map(|at| at.saturating_sub(now_s).max(0)));
    Some(UsageWindow {
        label: number(v.get("limit_window_seconds"))
            .filter(|s| *s > 0.0)
            .map_or_else(|| fallback_label.to_owned(), window_label),
        used_percent: used,
        remaining_percent: used.map(|u| 100.0 - u),
        reset_at,
        reset_after_seconds,
    })
}

fn windows(rate_limit: Option<&Value>, now_s: i64) -> Vec<UsageWindow> {
    let get = |k: &str| rate_limit.and_then(|r| r.get(k));
    [
        window(get("primary_window"), "primary", now_s),
        window(get("secondary_window"), "secondary", now_s),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Read a reply body. `now_s` (unix seconds) turns `reset_at` into `reset_after_seconds` when
/// the endpoint sent only the former.
pub fn parse(body: &[u8], now_s: i64) -> Result<RemoteUsage, Malformed> {
    let v: Value = serde_json::from_slice(body).map_err(|_| Malformed)?;
    if !v.is_object() {
        return Err(Malformed);
    }
    let rate_limit = v.get("rate_limit").filter(|r| r.is_object());
    let credits = v.get("credits").filter(|c| c.is_object());
    let additional_limits = v
        .get("additional_rate_limits")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter(|a| a.is_object())
                .map(|a| AdditionalLimit {
                    name: text(a.get("limit_name")).or_else(|| text(a.get("metered_feature"))),
                    windows: windows(a.get("rate_limit"), now_s),
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(RemoteUsage {
        plan: text(v.get("plan_type")),
        allowed: boolean(rate_limit.and_then(|r| r.get("allowed"))),
        limit_reached: boolean(rate_limit.and_then(|r| r.get("limit_reached"))),
        credits_balance: number(credits.and_then(|c| c.get("balance"))),
        has_credits: boolean(credits.and_then(|c| c.get("has_credits"))),
        credits_unlimited: boolean(credits.and_then(|c| c.get("unlimited"))),
        windows: windows(rate_limit, now_s),
        additional_limits,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_800_000_000;

    #[test]
    fn labels_follow_spec() {
        assert_eq!(window_label(5.0 * 3600.0), "5h");
        assert_eq!(window_label(60.0), "1h");
        assert_eq!(window_label(23.0 * 3600.0), "23h");
        assert_eq!(window_label(24.0 * 3600.0), "day");
        assert_eq!(window_label(167.0 * 3600.0), "day");
        assert_eq!(window_label(604_800.0), "week");
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
        assert_eq!(u.windows.len(), 2);
        assert_eq!(u.windows[0].label, "5h");
        assert_eq!(u.windows[0].remaining_percent, Some(42.0));
        assert_eq!(u.windows[1].label, "week");
        assert_eq!(u.windows[1].remaining_percent, Some(87.5));
        assert_eq!(u.windows[1].reset_after_seconds, Some(399_600));
        assert_eq!(u.additional_limits[0].name.as_deref(), Some("codex_other"));
        assert_eq!(u.additional_limits[0].windows[0].label, "5h");
        let j = serde_json::to_value(&u.windows[0]).unwrap();
        assert_eq!(j["reset_at"], json!("2027-01-15T10:13:00Z"));
    }

    #[test]
    fn nulls_and_missing_fields_are_absent() {
        let body = json!({"plan_type": null, "rate_limit": {"allowed": null,
            "primary_window": {"used_percent": null, "limit_window_seconds": null,
                "reset_at": null}, "secondary_window": null},
            "credits": null, "additional_rate_limits": null});
        let u = parse(body.to_string().as_bytes(), NOW).unwrap();
        assert_eq!(u.plan, None);
        assert_eq!(u.credits_balance, None);
        assert_eq!(u.windows.len(), 1);
        assert_eq!(u.windows[0].label, "primary");
        assert_eq!(u.windows[0].remaining_percent, None);
        assert!(u.additional_limits.is_empty());
        assert_eq!(parse(b"{}", NOW).unwrap().windows, vec![]);
    }

    #[test]
    fn out_of_range_percent_is_clamped() {
        let body = json!({"rate_limit": {"primary_window": {"used_percent": 130}}});
        let u = parse(body.to_string().as_bytes(), NOW).unwrap();
        assert_eq!(u.windows[0].remaining_percent, Some(0.0));
    }

    #[test]
    fn non_objects_are_malformed() {
        assert_eq!(parse(b"<html>hi</html>", NOW), Err(Malformed));
        assert_eq!(parse(b"[1,2]", NOW), Err(Malformed));
        assert_eq!(parse(b"", NOW), Err(Malformed));
    }

    /// A far-past `reset_at` (any finite number is accepted) must not overflow the
    /// subtraction that derives `reset_after_seconds`.
    #[test]
    fn extreme_reset_at_does_not_overflow() {
        for at in [-1e300, 1e300, -9.3e18] {
            let body = json!({"rate_limit": {"primary_window": {"reset_at": at}}});
            let u = parse(body.to_string().as_bytes(), NOW).unwrap();
            let after = u.windows[0].reset_after_seconds.unwrap();
            assert!(after >= 0, "{at}: {after}");
        }
    }
}
