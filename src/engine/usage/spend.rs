//! `spend_control` of a usage-based plan's reply (those answer `rate_limit: null`): each named
//! limit (`individual_limit`, `group_default_limit`, `workspace_default_limit`, ...) with its
//! `{limit, used, remaining, used_percent, remaining_percent, reset_after_seconds, reset_at}`,
//! plus `reached` and `reached_limit_type`. Read tolerantly: unknown limit names are kept,
//! any field may be missing, absurd numbers are unknown.

use serde::Serialize;
use serde_json::Value;

use super::window::{percent, reset, ser_unix_s};
use crate::engine::lenient::{boolean, number, text};

/// `spend_control`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpendControl {
    /// `reached`: a spend limit is reached.
    pub reached: Option<bool>,
    /// `reached_limit_type`: which one.
    pub reached_limit_type: Option<String>,
    /// Every object-valued entry, in reply order.
    pub limits: Vec<SpendLimit>,
}

/// One named spend limit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpendLimit {
    /// The key, e.g. `individual_limit`.
    pub name: String,
    /// `limit`.
    pub limit: Option<f64>,
    /// `used`.
    pub used: Option<f64>,
    /// `remaining`, else `limit - used`.
    pub remaining: Option<f64>,
    /// `used_percent`, else from `used / limit`.
    pub used_percent: Option<f64>,
    /// `remaining_percent`, else `100 - used_percent`.
    pub remaining_percent: Option<f64>,
    /// `reset_after_seconds`, else from `reset_at`.
    pub reset_after_seconds: Option<i64>,
    /// `reset_at` (unix seconds) as RFC 3339 UTC.
    #[serde(serialize_with = "ser_unix_s")]
    pub reset_at: Option<i64>,
}

impl SpendLimit {
    /// `individual_limit` → `individual`, `group_default_limit` → `group default`.
    pub fn display_name(&self) -> String {
        let base = self.name.strip_suffix("_limit").unwrap_or(&self.name);
        base.replace('_', " ")
    }
}

/// An amount: finite and not negative, else unknown.
fn amount(v: Option<&Value>) -> Option<f64> {
    number(v).filter(|a| *a >= 0.0)
}

fn limit(name: &str, v: &Value, now_s: i64) -> SpendLimit {
    let total = amount(v.get("limit"));
    let used = amount(v.get("used"));
    let remaining = amount(v.get("remaining")).or_else(|| match (total, used) {
        (Some(t), Some(u)) => Some((t - u).max(0.0)),
        _ => None,
    });
    let used_percent = percent(v.get("used_percent")).or_else(|| match (total, used) {
        (Some(t), Some(u)) if t > 0.0 => Some((u / t * 100.0).min(100.0)),
        _ => None,
    });
    let remaining_percent = percent(v.get("remaining_percent")).or(used_percent.map(|u| 100.0 - u));
    let (reset_at, reset_after_seconds) =
        reset(v.get("reset_at"), v.get("reset_after_seconds"), now_s);
    SpendLimit {
        name: name.to_owned(),
        limit: total,
        used,
        remaining,
        used_percent,
        remaining_percent,
        reset_after_seconds,
        reset_at,
    }
}

/// Read `spend_control`; `None` when it is missing, null or not an object.
pub fn parse(v: Option<&Value>, now_s: i64) -> Option<SpendControl> {
    let obj = v?.as_object()?;
    Some(SpendControl {
        reached: boolean(obj.get("reached")),
        reached_limit_type: text(obj.get("reached_limit_type")),
        limits: obj
            .iter()
            .filter(|(_, l)| l.is_object())
            .map(|(k, l)| limit(k, l, now_s))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_800_000_000;

    #[test]
    fn limits_are_read_by_name_and_filled_in() {
        let v = json!({
            "individual_limit": {"limit": 50, "used": "12.5", "remaining": 37.5,
                "used_percent": 25, "remaining_percent": 75, "reset_after_seconds": 86400,
                "reset_at": NOW + 86400},
            "group_default_limit": {"limit": 100, "used": 40},
            "workspace_default_limit": null,
            "reached": false, "reached_limit_type": null, "future_field": 3
        });
        let s = parse(Some(&v), NOW).unwrap();
        assert_eq!(s.reached, Some(false));
        assert_eq!(s.limits.len(), 2);
        assert_eq!(s.limits[0].display_name(), "individual");
        assert_eq!(s.limits[0].used, Some(12.5));
        assert_eq!(s.limits[0].remaining_percent, Some(75.0));
        assert_eq!(s.limits[1].display_name(), "group default");
        assert_eq!(s.limits[1].remaining, Some(60.0));
        assert_eq!(s.limits[1].used_percent, Some(40.0));
        assert_eq!(s.limits[1].remaining_percent, Some(60.0));
        assert_eq!(parse(Some(&json!(null)), NOW), None);
    }

    #[test]
    fn absurd_amounts_are_unknown() {
        let v = json!({"individual_limit": {"limit": -1, "used": "NaN",
            "reset_after_seconds": 1e18}});
        let l = &parse(Some(&v), NOW).unwrap().limits[0];
        assert_eq!((l.limit, l.used, l.remaining), (None, None, None));
        assert_eq!(l.reset_after_seconds, None);
    }
}
