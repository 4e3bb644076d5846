//! `layers`: the seven things that together decide which Codex profile is used, side by side,
//! and every disagreement between them in plain words. The rules follow OpenClaw 2026.9.6:
//! the auth order is the store's order (overlay over shared), else `openclaw.json`
//! `auth.order`, else its `auth.profiles` ids, else every stored profile, with unusable
//! profiles last; a session's `authProfileOverride` wins for that session; usage is read with
//! the session's override when it is an `openai` profile, else with the first OAuth profile
//! of the auth order (`type: "oauth"`: the usage endpoint takes a ChatGPT OAuth token, never a
//! pasted token or an API key). Every row names what kind of profile it points at.

use std::path::Path;

use serde::Serialize;
use serde_json::Value;

pub use super::conflict::Conflict;
use super::conflict::Found;
use super::error::ChangeError;
pub use super::external::{ExternalLogin, default_codex_home, read_external};
use super::session::{self, SessionOverride};
use crate::engine::store::{Snapshot, Store, StoreInfo};

/// One row of the view.
#[derive(Debug, Clone, Serialize)]
pub struct LayerRow {
    /// Stable key: `stored_preference`, `auth_order`, `session_override`,
    /// `effective_runtime_profile`, `usage_source_profile`, `display_label`, `external_repo`.
    pub layer: &'static str,
    /// The profile this layer points at, if any.
    pub profile: Option<String>,
    /// What the layer holds, in words.
    pub detail: String,
    /// Where it was read from.
    pub source: String,
}

/// The whole view.
#[derive(Debug, Clone, Serialize)]
pub struct LayersReport {
    /// Which store.
    pub store: StoreInfo,
    /// The Codex provider shown.
    pub provider: String,
    /// The session asked about.
    pub session_key: Option<String>,
    /// The seven rows, in order.
    pub layers: Vec<LayerRow>,
    /// Every disagreement, one sentence each.
    pub disagreements: Vec<String>,
    /// The same disagreements for chat templates, in the same order: a code, the layers
    /// (row keys) they concern, and the facts they name.
    pub conflicts: Vec<Conflict>,
}

/// The auth order as the gateway walks it (the effective order: unusable profiles, in
/// cooldown, blocked or disabled, already last), and when each unusable one is usable again.
pub fn runtime_order(snap: &Snapshot, provider: &str) -> (Vec<String>, Vec<(String, i64)>) {
    let now = snap.read_at_ms;
    let order = snap.effective_order(provider).ids;
    let unusable = order
        .iter()
        .filter_map(|id| Some((id.clone(), snap.usage_stats(id).unusable_until(now)?)))
        .collect();
    (order, unusable)
}

/// When `openclaw.json` `auth.profiles` decides the order (no stored order, no config
/// order) and leaves stored Codex profiles out: (listed ids, hidden ids).
pub fn hidden_by_config(snap: &Snapshot, provider: &str) -> Option<(Vec<String>, Vec<String>)> {
    let listed = snap.config.profile_ids_for(provider);
    if listed.is_empty()
        || snap.stored_order(provider).is_some()
        || snap.config.order_for(provider).is_some()
    {
        return None;
    }
    let hidden: Vec<String> = snap
        .codex
        .iter()
        .filter(|p| p.id.provider_part() == provider && !listed.iter().any(|l| l == p.id.as_str()))
        .map(|p| p.id.to_string())
        .collect();
    (!hidden.is_empty()).then_some((listed, hidden))
}

/// What a profile is, in words: `OAuth profile`, `token profile`, `API-key profile`.
pub fn kind_of(snap: &Snapshot, id: &str) -> &'static str {
    match snap
        .raw_profile(id)
        .and_then(|e| e.get("type"))
        .and_then(Value::as_str)
    {
        None => "profile not in the store",
        Some("oauth") => "OAuth profile",
        Some("token") => "token profile",
        Some("api_key") => "API-key profile",
        Some(_) => "profile of an unknown type",
    }
}

fn when(ms: i64) -> String {
    crate::engine::health::iso_ms(ms).unwrap_or_else(|| ms.to_string())
}

/// Build the view for the store's Codex provider and (optionally) one session.
pub fn layers(
    store: &Store,
    session_key: Option<&str>,
    codex_home: Option<&Path>,
) -> Result<LayersReport, ChangeError> {
    let snap = store.load().map_err(ChangeError::store)?;
    let provider = store.codex_provider().as_str().to_owned();
    let session = match session_key {
        Some(k) => session::read_override(store.state_dir(), store.agent(), k)?,
        None => None,
    };
    let overrides = session::read_overrides(store.state_dir(), store.agent())?;
    let external = codex_home.and_then(read_external);
    Ok(build(
        &snap,
        &provider,
        session_key,
        session,
        &overrides,
        external,
    ))
}

/// The pure part of [`layers`]: rows and disagreements from what was read.
pub fn build(
    snap: &Snapshot,
    provider: &str,
    session_key: Option<&str>,
    session: Option<SessionOverride>,
    all_overrides: &[SessionOverride],
    external: Option<ExternalLogin>,
) -> LayersReport {
    let mut rows = Vec::new();
    let mut dis = Found::default();
    let stored = snap.stored_order(provider);
    let last_good = snap.last_good(provider);
    let label_of = |id: &str| {
        snap.codex
            .iter()
            .find(|p| p.id.as_str() == id)
            .map(|p| p.label().to_owned())
    };

    // 1. Stored preference.
    rows.push(LayerRow {
        layer: "stored_preference",
        profile: stored
            .as_ref()
            .and_then(|(ids, _)| ids.first().cloned())
            .or_else(|| last_good.clone()),
        detail: format!(
            "order: {}; lastGood: {}",
            stored
                .as_ref()
                .map_or("none stored".to_owned(), |(ids, _)| ids.join(", ")),
            last_good.as_deref().unwrap_or("none")
        ),
        source: stored
            .as_ref()
            .map_or("the store holds no order".to_owned(), |(_, l)| {
                l.to_string()
            }),
    });
    let shared_and_overlay: Vec<_> = snap
        .layers
        .iter()
        .filter(|(_, d)| {
            d.state_map("order")
                .is_some_and(|o| o.contains_key(provider))
        })
        .map(|(l, _)| l)
        .collect();
    if let (true, Some(used)) = (shared_and_overlay.len() > 1, shared_and_overlay.last()) {
        let used = used.to_string();
        dis.push(
            "order_in_two_layers",
            &["stored_preference"],
            &[("layer", &used)],
            format!(
                "an order is stored in more than one layer; the gateway uses the one in {used} and ignores the others"
            ),
        );
    }

    // 2. Auth order.
    let eff = snap.effective_order(provider);
    let (order, unusable) = runtime_order(snap, provider);
    rows.push(LayerRow {
        layer: "auth_order",
        profile: order.first().cloned(),
        detail: if order.is_empty() {
            "empty".into()
        } else {
            let named: Vec<String> = order
                .iter()
                .map(|i| format!("{i} ({})", kind_of(snap, i)))
                .collect();
            named.join(", ")
        },
        source: eff.source.describe(),
    });
    for (id, until) in &unusable {
        let until = when(*until);
        dis.push(
            "unusable_in_order",
            &["auth_order"],
            &[("profile", id), ("until", &until)],
            format!(
                "{id} is in the order but unusable until {until} (cooldown, blocked or disabled), so the gateway tries it last"
            ),
        );
    }
    if let Some((listed, hidden)) = hidden_by_config(snap, provider) {
        let (listed, hidden) = (listed.join(", "), hidden.join(", "));
        dis.push(
            "config_profiles_hide_stored",
            &["auth_order"],
            &[("listed", &listed), ("hidden", &hidden)],
            format!(
                "openclaw.json auth.profiles lists only {listed}, which hides the stored profiles {hidden} from the gateway"
            ),
        );
    }
    if let Some((ids, _)) = &stored {
        for id in ids.iter().filter(|id| snap.raw_profile(id).is_none()) {
            dis.push(
                "stored_order_names_missing",
                &["stored_preference"],
                &[("profile", id)],
                format!("the stored order names {id}, which is not in the store"),
            );
        }
    }
    if let Some(lg) = &last_good {
        if snap.raw_profile(lg).is_none() {
            dis.push(
                "last_good_missing",
                &["stored_preference"],
                &[("profile", lg)],
                format!("lastGood points to {lg}, which is not in the store"),
            );
        } else if !order.contains(lg) {
            dis.push(
                "last_good_not_in_order",
                &["stored_preference", "auth_order"],
                &[("profile", lg)],
                format!("lastGood is {lg}, which is not in the auth order"),
            );
        }
    }
    if let (Some(first), Some(pref)) = (order.first(), stored.as_ref().and_then(|(i, _)| i.first()))
    {
        if first != pref {
            dis.push(
                "preference_not_first",
                &["stored_preference", "auth_order"],
                &[("preferred", pref), ("first", first)],
                format!("the stored order prefers {pref} but the gateway will try {first} first"),
            );
        }
    }

    // 3. Session override.
    let pinned = session.as_ref().map(|s| s.profile.clone());
    rows.push(LayerRow {
        layer: "session_override",
        profile: pinned.clone(),
        detail: match (&session, session_key) {
            (Some(s), _) => format!(
                "session {} pins {} (source: {})",
                s.session_key,
                s.profile,
                s.source.as_deref().unwrap_or("unknown")
            ),
            (None, Some(k)) => format!("session {k} has no override"),
            (None, None) => format!(
                "no session given; {} session(s) of this agent pin a profile",
                all_overrides.len()
            ),
        },
        source: session
            .as_ref()
            .map_or("none".to_owned(), |s| match s.origin {
                session::SessionOrigin::AgentDb => "agent database (session_nodes)".to_owned(),
                session::SessionOrigin::SessionsJson => "sessions/sessions.json".to_owned(),
            }),
    });
    for o in all_overrides {
        if snap.raw_profile(&o.profile).is_none() {
            dis.push(
                "session_pins_missing",
                &["session_override"],
                &[("session", &o.session_key), ("profile", &o.profile)],
                format!(
                    "session {} pins {}, which is not in the store",
                    o.session_key, o.profile
                ),
            );
        }
    }
    let pin_valid = pinned.clone().filter(|p| snap.raw_profile(p).is_some());
    if let (Some(p), Some(first)) = (&pin_valid, order.first()) {
        if p != first {
            dis.push(
                "session_overrides_order",
                &["session_override", "effective_runtime_profile"],
                &[("profile", p), ("first", first)],
                format!(
                    "the session runs on its override {p} while the auth order starts with {first}"
                ),
            );
        }
    }

    // 4. Effective runtime profile.
    let runtime = pin_valid.clone().or_else(|| order.first().cloned());
    rows.push(LayerRow {
        layer: "effective_runtime_profile",
        profile: runtime.clone(),
        detail: runtime.as_deref().map_or_else(
            || "none: no usable profile".into(),
            |r| format!("{r} ({})", kind_of(snap, r)),
        ),
        source: if pin_valid.is_some() {
            "session override".into()
        } else {
            "first usable profile of the auth order".into()
        },
    });

    // 5. Usage source profile.
    let is_oauth = |id: &str| {
        snap.raw_profile(id)
            .and_then(|e| e.get("type"))
            .and_then(Value::as_str)
            == Some("oauth")
    };
    let pin_for_usage = pin_valid.clone().filter(|p| {
        is_oauth(p)
            && snap
                .raw_profile(p)
                .and_then(|e| e.get("provider"))
                .and_then(Value::as_str)
                == Some("openai")
    });
    let usage = pin_for_usage
        .clone()
        .or_else(|| order.iter().find(|i| is_oauth(i)).cloned());
    rows.push(LayerRow {
        layer: "usage_source_profile",
        profile: usage.clone(),
        detail: usage.as_deref().map_or_else(
            || "none: no OAuth profile in the auth order".into(),
            |u| format!("{u} ({})", kind_of(snap, u)),
        ),
        source: if pin_for_usage.is_some() {
            "session override (openai OAuth profile)".into()
        } else {
            "first OAuth profile of the auth order".into()
        },
    });
    if let (Some(u), Some(r)) = (&usage, &runtime) {
        if u != r {
            dis.push(
                "usage_not_runtime",
                &["usage_source_profile", "effective_runtime_profile"],
                &[("usage", u), ("runtime", r)],
                format!(
                    "usage is read from {u} while the runtime profile is {r}: quota shown is not the quota being spent"
                ),
            );
        }
    }

    // 6. Display label.
    let label = runtime.as_deref().and_then(label_of);
    rows.push(LayerRow {
        layer: "display_label",
        profile: runtime.clone(),
        detail: label.clone().unwrap_or_else(|| "none".into()),
        source: "the profile's email, else its id".into(),
    });
    for p in &snap.codex {
        let name = p.id.name();
        if let Some(email) = &p.email {
            if name.contains('@') && name != email {
                dis.push(
                    "label_not_account",
                    &["display_label"],
                    &[("profile", p.id.as_str()), ("name", name), ("email", email)],
                    format!(
                        "profile {} is labelled {name} but holds the account of {email}",
                        p.id
                    ),
                );
            }
        }
    }

    // 7. External repo (the Codex CLI's own login).
    match &external {
        None => rows.push(LayerRow {
            layer: "external_repo",
            profile: None,
            detail: "no Codex CLI login found".into(),
            source: "$CODEX_HOME/auth.json".into(),
        }),
        Some(ext) => {
            let matching = snap
                .codex
                .iter()
                .find(|p| p.account_id.is_some() && p.account_id == ext.account_id)
                .map(|p| p.id.to_string());
            rows.push(LayerRow {
                layer: "external_repo",
                profile: matching.clone(),
                detail: format!(
                    "Codex CLI logged in as {} (account {})",
                    ext.email.as_deref().unwrap_or("unknown email"),
                    ext.account_id.as_deref().map_or_else(
                        || "unknown".to_owned(),
                        crate::engine::profile::short_account
                    )
                ),
                source: ext.path.display().to_string(),
            });
            match &matching {
                None => {
                    let name = ext.email.as_deref().unwrap_or("NAME");
                    dis.push(
                        "external_not_stored",
                        &["external_repo"],
                        &[("email", ext.email.as_deref().unwrap_or(""))],
                        format!(
                            "the Codex CLI's login is not among the stored profiles: `codex-profiler auth start --profile {name}` logs that account in (`auth import-codex-cli --profile {name}` copies it, but then both hold one single-use refresh token)"
                        ),
                    )
                }
                Some(m) if !order.contains(m) => dis.push(
                    "external_not_in_order",
                    &["external_repo", "auth_order"],
                    &[("profile", m)],
                    format!(
                        "the Codex CLI's login is stored as {m}, which is not in the auth order"
                    ),
                ),
                _ => {}
            }
        }
    }

    LayersReport {
        store: snap.info.clone(),
        provider: provider.to_owned(),
        session_key: session_key.map(str::to_owned),
        layers: rows,
        disagreements: dis.sentences,
        conflicts: dis.conflicts,
    }
}

#[cfg(test)]
#[path = "layers_tests.rs"]
mod tests;
