//! The usage endpoint's reply, read tolerantly into typed values: every field may be missing
//! or null, numbers may arrive as strings, and unknown fields are ignored. Only a reply that
//! is not a JSON object at all is malformed.
//!
//! Shapes read (issue 9 §4): `rate_limit` (null for usage-based plans), `code_review_rate_limit`
//! (same shape), `additional_rate_limits[]`, `credits`, `spend_control` ([`super::spend`]),
//! `rate_limit_reset_credits.available_count`, `rate_limit_reached_type`, `plan_type`.

use serde::Serialize;
use serde_json::Value;

use super::spend::{self, SpendControl};
use super::window::{WindowKind, windows};
use crate::engine::lenient::{boolean, integer, number, text};

pub use super::window::{UsageWindow, window_label};

/// The name given to the code review windows.
pub const CODE_REVIEW: &str = "code_review";

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
    /// The Codex windows (`rate_limit`: primary, then secondary), as SPEC section 6 has them.
    pub windows: Vec<UsageWindow>,
    /// The other windows, each tagged with its `kind` and `name`: code review first, then each
    /// additional limit's.
    pub other_windows: Vec<UsageWindow>,
    /// `additional_rate_limits[]`: other metered limits, each with its own windows.
    pub additional_limits: Vec<AdditionalLimit>,
    /// `spend_control` (usage-based plans).
    pub spend: Option<SpendControl>,
    /// `rate_limit_reset_credits.available_count`: limit resets the account has banked.
    pub resets_banked: Option<u64>,
    /// `rate_limit_reached_type`, e.g. `workspace_owner_credits_depleted`.
    pub rate_limit_reached_type: Option<String>,
    /// The limit reached is the whole workspace's: another profile of the same workspace
    /// will not help.
    pub workspace_out: bool,
    /// A limit is reached: the account answers but cannot be used for Codex now.
    pub limited: bool,
}

impl RemoteUsage {
    /// Every window: the Codex ones, then code review, then the additional limits'.
    pub fn all_windows(&self) -> impl Iterator<Item = &UsageWindow> {
        self.windows.iter().chain(&self.other_windows)
    }

    /// Scrub the endpoint's own words (plan, limit names, limit types) of `bearer` and of
    /// anything shaped like a credential: every report, chat and history shows them, and an
    /// endpoint or a proxy in front of it may echo what it was sent.
    pub fn scrub_words(&mut self, bearer: &str) {
        let clean = |t: &str| crate::secret::scrub(t, &[bearer]);
        let scrub = |w: &mut Option<String>| {
            if let Some(t) = w.as_mut() {
                *t = clean(t);
            }
        };
        let scrub_window = |w: &mut UsageWindow| {
            w.label = clean(&w.label);
            scrub(&mut w.name);
        };
        scrub(&mut self.plan);
        scrub(&mut self.rate_limit_reached_type);
        self.windows.iter_mut().for_each(scrub_window);
        self.other_windows.iter_mut().for_each(scrub_window);
        for l in &mut self.additional_limits {
            scrub(&mut l.name);
            l.windows.iter_mut().for_each(scrub_window);
        }
        if let Some(spend) = self.spend.as_mut() {
            scrub(&mut spend.reached_limit_type);
            for l in &mut spend.limits {
                l.name = clean(&l.name);
            }
        }
    }
}

/// One entry of `additional_rate_limits`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AdditionalLimit {
    /// `limit_name`, else `metered_feature`.
    pub name: Option<String>,
    /// Its windows, read like the main ones.
    pub windows: Vec<UsageWindow>,
}

/// The reply was not a JSON object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed;

/// Whether a `rate_limit_reached_type` is about the whole workspace
/// (`workspace_owner_credits_depleted`, `workspace_member_usage_limit_reached`, ...).
pub fn is_workspace_wide(reached_type: &str) -> bool {
    reached_type.starts_with("workspace_")
}

fn additional(v: &Value, now_s: i64) -> Option<AdditionalLimit> {
    v.is_object().then_some(())?;
    let name = text(v.get("limit_name")).or_else(|| text(v.get("metered_feature")));
    Some(AdditionalLimit {
        windows: windows(
            v.get("rate_limit"),
            WindowKind::Additional,
            name.as_deref(),
            now_s,
        ),
        name,
    })
}

/// Read a reply body. `now_s` (unix seconds) turns `reset_at` into `reset_after_seconds` when
/// the endpoint sent only the former.
pub fn parse(body: &[u8], now_s: i64) -> Result<RemoteUsage, Malformed> {
    let v: Value = serde_json::from_slice(body).map_err(|_| Malformed)?;
    if !v.is_object() {
        return Err(Malformed);
    }
    let object = |k: &str| v.get(k).filter(|r| r.is_object());
    let rate_limit = object("rate_limit");
    let credits = object("credits");
    let additional_limits: Vec<AdditionalLimit> = v
        .get("additional_rate_limits")
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(|a| additional(a, now_s)).collect())
        .unwrap_or_default();
    let codex = windows(rate_limit, WindowKind::Codex, None, now_s);
    let mut other = windows(
        object("code_review_rate_limit"),
        WindowKind::CodeReview,
        Some(CODE_REVIEW),
        now_s,
    );
    other.extend(additional_limits.iter().flat_map(|a| a.windows.clone()));
    let reached_type = text(v.get("rate_limit_reached_type"))
        .or_else(|| text(rate_limit.and_then(|r| r.get("rate_limit_reached_type"))));
    let spend = spend::parse(v.get("spend_control"), now_s);
    let resets_banked =
        integer(object("rate_limit_reset_credits").and_then(|r| r.get("available_count")))
            .and_then(|n| u64::try_from(n).ok());
    let allowed = boolean(rate_limit.and_then(|r| r.get("allowed")));
    let limit_reached = boolean(rate_limit.and_then(|r| r.get("limit_reached")));
    let workspace_out = reached_type.as_deref().is_some_and(is_workspace_wide);
    let limited = limit_reached == Some(true)
        || allowed == Some(false)
        || reached_type.is_some()
        || spend.as_ref().is_some_and(|s| s.reached == Some(true))
        || codex.iter().any(|w| w.remaining_percent == Some(0.0));
    Ok(RemoteUsage {
        plan: text(v.get("plan_type")),
        allowed,
        limit_reached,
        credits_balance: number(credits.and_then(|c| c.get("balance"))).filter(|b| *b >= 0.0),
        has_credits: boolean(credits.and_then(|c| c.get("has_credits"))),
        credits_unlimited: boolean(credits.and_then(|c| c.get("unlimited"))),
        windows: codex,
        other_windows: other,
        additional_limits,
        spend,
        resets_banked,
        rate_limit_reached_type: reached_type,
        workspace_out,
        limited,
    })
}

#[cfg(test)]
mod tests;
