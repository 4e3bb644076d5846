//! `doctor`: the mixed states that confuse users of a gateway (SPEC section 6), each with what
//! it means and the command that fixes it. Informational findings (e.g. one account under two
//! ids) keep the verdict healthy; anything marked `action` makes `doctor` exit 1.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use super::queue::{self, Phase};
use crate::engine::profile::Fence;
use crate::engine::store::{Snapshot, Store, StoreFormat, StoreInfo, StoreOptions};

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth knowing; healthy.
    Info,
    /// Needs action.
    Action,
}

/// One finding.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// Stable code.
    pub code: &'static str,
    /// Info or action.
    pub severity: Severity,
    /// What was found.
    pub title: String,
    /// What it means for the gateway.
    pub meaning: String,
    /// The command that fixes it, if anything needs fixing.
    pub fix: Option<String>,
}

/// The verdict.
#[derive(Debug, Clone, Serialize)]
pub struct DoctorReport {
    /// Which store, when one could be opened.
    pub store: Option<StoreInfo>,
    /// No finding needs action.
    pub healthy: bool,
    /// Every finding.
    pub findings: Vec<Finding>,
}

fn finding(
    code: &'static str,
    severity: Severity,
    title: String,
    meaning: &str,
    fix: Option<String>,
) -> Finding {
    Finding {
        code,
        severity,
        title,
        meaning: meaning.to_owned(),
        fix,
    }
}

/// Examine the store `opts` names, the config, legacy files and the last queued apply.
pub fn run(opts: &StoreOptions) -> DoctorReport {
    let mut findings = Vec::new();
    let opened = Store::open(opts.clone()).and_then(|s| s.load().map(|snap| (s, snap)));
    let store_info = match &opened {
        Ok((store, snap)) => {
            findings.extend(examine(
                &opts.state_dir,
                store.codex_provider().as_str(),
                snap,
            ));
            rotation(store, snap, &mut findings);
            Some(snap.info.clone())
        }
        Err(e) => {
            findings.push(finding(
                "store_unreadable",
                Severity::Action,
                format!("the auth store could not be read: {e}"),
                "nothing can be listed or changed until the store is readable",
                Some("run `openclaw doctor` once, or pass --store/--auth-path".into()),
            ));
            None
        }
    };
    findings.extend(last_apply(&opts.state_dir));
    DoctorReport {
        store: store_info,
        healthy: findings.iter().all(|f| f.severity == Severity::Info),
        findings,
    }
}

/// Every finding about the store itself (pure apart from the legacy-file scan).
pub fn examine(state_dir: &Path, provider: &str, snap: &Snapshot) -> Vec<Finding> {
    let mut out = Vec::new();
    if snap.info.format != StoreFormat::Json {
        for f in legacy_files(state_dir) {
            out.push(finding(
                "legacy_json_beside_database",
                Severity::Action,
                format!("legacy auth file {} beside a database store", f.display()),
                "current OpenClaw refuses to start auth commands while it exists (\"requires legacy credential migration\"), and its profiles are not the ones in use",
                Some("openclaw doctor --fix --non-interactive --yes (migrates it into the database and archives the file)".into()),
            ));
        }
        let legacy: Vec<String> = snap
            .codex
            .iter()
            .filter(|p| p.id.provider_part() == "openai-codex")
            .map(|p| p.id.to_string())
            .collect();
        if !legacy.is_empty() {
            out.push(finding(
                "unmigrated_openai_codex_ids",
                Severity::Action,
                format!("unmigrated openai-codex profiles in a database store: {}", legacy.join(", ")),
                "OpenClaw does not alias openai-codex ids in a database: it shows them as an unknown provider and never uses them",
                Some("openclaw doctor --fix --non-interactive --yes (renames them to openai:NAME)".into()),
            ));
        }
    }
    for (layer, docs) in &snap.layers {
        if let Some(orders) = docs.state_map("order") {
            for (p, list) in orders {
                let missing: Vec<&str> = list
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .filter(|id| snap.raw_profile(id).is_none())
                    .collect();
                if !missing.is_empty() {
                    out.push(finding(
                        "order_points_nowhere",
                        Severity::Action,
                        format!(
                            "the {p} order in {layer} names missing profiles: {}",
                            missing.join(", ")
                        ),
                        "the gateway skips them; the order is not what it looks like",
                        Some(format!(
                            "codex-profiler order set ID... --provider {p} (with only stored ids)"
                        )),
                    ));
                }
            }
        }
    }
    if let Some(ids) = snap.config.order_for(provider) {
        let missing: Vec<&String> = ids
            .iter()
            .filter(|i| snap.raw_profile(i).is_none())
            .collect();
        if !missing.is_empty() {
            out.push(finding(
                "config_order_points_nowhere",
                Severity::Action,
                format!("openclaw.json auth.order.{provider} names missing profiles: {}", missing.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")),
                "the gateway skips them",
                Some(format!("edit openclaw.json auth.order.{provider}, or store an order with `codex-profiler order set ID...`")),
            ));
        }
    }
    left_out_of_order(snap, provider, &mut out);
    duplicates(snap, &mut out);
    let now = snap.read_at_ms;
    for p in &snap.codex {
        let s = snap.usage_stats(p.id.as_str());
        let expired: Vec<&str> = [
            ("cooldown", s.cooldown_until),
            ("blocked", s.blocked_until),
            ("disabled", s.disabled_until),
        ]
        .into_iter()
        .filter(|(_, t)| t.is_some_and(|t| t <= now))
        .map(|(w, _)| w)
        .collect();
        if !expired.is_empty() {
            out.push(finding(
                "stale_cooldown",
                Severity::Info,
                format!("{} still records an expired {} time", p.id, expired.join("/")),
                "it is over and no longer delays the profile; the gateway clears it on the next success",
                None,
            ));
        }
        match p.fence {
            Fence::Failed => out.push(finding(
                "failed_refresh_fence",
                Severity::Action,
                format!("{}: the gateway's token refresh failed and the refresh token is gone", p.id),
                "this profile cannot be used until it logs in again",
                Some(format!("codex-profiler auth start --profile {} (or retire it: codex-profiler retire {})", p.id.name(), p.id)),
            )),
            Fence::Refreshing => out.push(finding(
                "refresh_in_progress",
                Severity::Info,
                format!("{}: a token refresh is in flight", p.id),
                "the gateway owns this profile until the refresh finishes; changes to it are refused meanwhile",
                None,
            )),
            Fence::None => {}
        }
    }
    if let Some((listed, hidden)) = super::layers::hidden_by_config(snap, provider) {
        out.push(finding(
            "config_profiles_hide_stored",
            Severity::Action,
            format!(
                "openclaw.json auth.profiles lists only {} and so hides {}",
                listed.join(", "),
                hidden.join(", ")
            ),
            "the gateway's automatic order uses only the listed ids: the hidden profiles are never used",
            Some("store an order that names them: codex-profiler order set ID... (or remove the entries from openclaw.json auth.profiles)".into()),
        ));
    }
    out
}

/// The rotation findings (`codex-profiler rotation`), those `examine` has not already made.
fn rotation(store: &Store, snap: &Snapshot, out: &mut Vec<Finding>) {
    let pins = crate::engine::rotation::pins(store);
    let provider = store.codex_provider();
    let r = crate::engine::rotation::analyse(snap, provider.as_str(), store.agent(), &pins);
    for f in r.findings {
        if out.iter().any(|o| o.code == f.code) && f.code == "config_profiles_hide_stored" {
            continue;
        }
        out.push(finding(
            f.code,
            f.severity,
            f.message,
            "what the gateway tries on a rate limit: codex-profiler rotation --deep",
            f.fix,
        ));
    }
}

/// Codex profiles a stored order leaves out: the gateway tries only the ids a stored order
/// names, so they are never used. Informational: a retired profile is left out on purpose.
fn left_out_of_order(snap: &Snapshot, provider: &str, out: &mut Vec<Finding>) {
    let Some((stored, layer)) = snap.stored_order(provider) else {
        return;
    };
    let left: Vec<&str> = snap
        .codex
        .iter()
        .filter(|p| p.id.provider_part() == provider)
        .map(|p| p.id.as_str())
        .filter(|id| !stored.iter().any(|s| s == id))
        .collect();
    if left.is_empty() {
        return;
    }
    let all: Vec<&str> = stored
        .iter()
        .map(String::as_str)
        .filter(|id| snap.raw_profile(id).is_some())
        .chain(left.iter().copied())
        .collect();
    out.push(finding(
        "left_out_of_stored_order",
        Severity::Info,
        format!(
            "profiles left out of the stored {provider} order in {layer} are never used: {}",
            left.join(", ")
        ),
        "the gateway tries only the profiles a stored order names; that is intended for retired profiles, not for new logins",
        Some(format!("codex-profiler order set {}", all.join(" "))),
    ));
}

fn duplicates(snap: &Snapshot, out: &mut Vec<Finding>) {
    let mut by_account: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut by_email: BTreeMap<&str, BTreeMap<&str, Vec<String>>> = BTreeMap::new();
    for p in &snap.codex {
        if let Some(a) = p.account_id.as_deref() {
            by_account.entry(a).or_default().push(p.id.to_string());
            if let Some(e) = p.email.as_deref() {
                by_email
                    .entry(e)
                    .or_default()
                    .entry(a)
                    .or_default()
                    .push(p.id.to_string());
            }
        }
    }
    for (account, ids) in by_account.iter().filter(|(_, v)| v.len() > 1) {
        out.push(finding(
            "same_account_two_ids",
            Severity::Info,
            format!("account {account} is stored under {}", ids.join(" and ")),
            "healthy while both authenticate; they share one quota, so rotating between them gains nothing",
            None,
        ));
    }
    for (email, workspaces) in by_email.iter().filter(|(_, w)| w.len() > 1) {
        let ids: Vec<String> = workspaces.values().flatten().cloned().collect();
        out.push(finding(
            "same_email_different_workspaces",
            Severity::Info,
            format!(
                "{email} is logged in to {} workspaces: {}",
                workspaces.len(),
                ids.join(", ")
            ),
            "each workspace has its own quota and is its own profile; their labels look alike",
            None,
        ));
    }
}

/// `<state>/agents/*/agent/auth-profiles.json` files that exist.
fn legacy_files(state_dir: &Path) -> Vec<PathBuf> {
    let Ok(agents) = std::fs::read_dir(state_dir.join("agents")) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = agents
        .filter_map(Result::ok)
        .map(|a| a.path().join("agent").join("auth-profiles.json"))
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    out
}

fn last_apply(state_dir: &Path) -> Vec<Finding> {
    let st = match queue::read_state(state_dir) {
        Ok(Some(st)) => st,
        Ok(None) => return Vec::new(),
        Err(e) => {
            return vec![finding(
                "queued_apply_unreadable",
                Severity::Action,
                e.to_string(),
                "the outcome of the last gateway restart is unknown",
                Some("run the restart by hand: openclaw gateway restart".into()),
            )];
        }
    };
    let mut out = Vec::new();
    if st.state != Phase::Idle && !queue::worker_alive(&st) {
        let pid = st
            .worker_pid
            .map_or("unknown".to_owned(), |p| p.to_string());
        out.push(finding(
            "queued_apply_worker_died",
            Severity::Action,
            format!(
                "a gateway restart was {} but its worker (pid {pid}) is gone: it never finished",
                if st.state == Phase::Running {
                    "running"
                } else {
                    "queued"
                }
            ),
            "the gateway may still run with the old profiles",
            Some(
                "run the restart by hand: openclaw gateway restart (the next --queue-apply starts a new worker)"
                    .into(),
            ),
        ));
    } else if st.state != Phase::Idle {
        out.push(finding(
            "queued_apply_in_progress",
            Severity::Info,
            format!(
                "a gateway restart is {}",
                if st.state == Phase::Running {
                    "running"
                } else {
                    "queued"
                }
            ),
            "changes are picked up when it finishes",
            None,
        ));
    }
    if let Some(last) = &st.last {
        let tail = if last.output_tail.is_empty() {
            String::new()
        } else {
            format!("; last output: {}", last.output_tail.join(" / "))
        };
        let code = last
            .exit_code
            .map_or("killed".to_owned(), |c| c.to_string());
        out.push(finding(
            "last_queued_apply",
            if last.ok {
                Severity::Info
            } else {
                Severity::Action
            },
            format!(
                "last gateway restart ({}) started {}, finished {}, exit {code}{tail}",
                last.command, last.started_at, last.finished_at
            ),
            if last.ok {
                "the gateway restarted and runs with the stored profiles"
            } else {
                "the gateway may still run with the old profiles"
            },
            (!last.ok).then(|| {
                "openclaw gateway restart (then check `openclaw models status`)".to_owned()
            }),
        ));
    }
    out
}

/// The text form.
pub fn render_text(r: &DoctorReport) -> String {
    let mut out = String::new();
    if let Some(s) = &r.store {
        out.push_str(&format!(
            "store: {} {}\n",
            s.format.as_str(),
            s.path.display()
        ));
    }
    for f in &r.findings {
        let mark = if f.severity == Severity::Action {
            "!"
        } else {
            "i"
        };
        out.push_str(&format!("[{mark}] {}\n    {}\n", f.title, f.meaning));
        if let Some(fix) = &f.fix {
            out.push_str(&format!("    fix: {fix}\n"));
        }
    }
    out.push_str(if r.healthy {
        "healthy: nothing needs action\n"
    } else {
        "something needs action (see the fixes above)\n"
    });
    out
}
