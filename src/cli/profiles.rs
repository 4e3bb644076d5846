//! `profiles`: every Codex profile with its local health (token expiry, cooldown, blocked,
//! disabled, last use, in order, lastGood, fence), as a table or as JSON. The table shows the
//! short account id, which tells two workspaces of one email apart (and selects one).

use serde_json::{Value, json};

use super::args::GlobalArgs;
use super::output::{CmdResult, Report};
use super::store_opts::open_store;
use crate::engine::health::LocalHealth;
use crate::engine::profile::short_account;
use crate::engine::store::Snapshot;

/// Run `profiles`.
pub fn run(g: &GlobalArgs) -> CmdResult {
    let store = open_store(g)?;
    let snap = store.load()?;
    let now = chrono::Utc::now().timestamp_millis();
    Ok(if g.json {
        Report::Json(to_json(&snap, now))
    } else {
        Report::Text(to_table(&snap, now))
    })
}

/// The `--json` document: `{ok, store, profiles:[{id, provider, email, account_id, plan,
/// local}], skipped}`.
pub fn to_json(snap: &Snapshot, now_ms: i64) -> Value {
    let profiles: Vec<Value> = snap
        .codex
        .iter()
        .map(|p| {
            json!({
                "id": p.id.as_str(),
                "provider": p.provider.as_str(),
                "email": p.email,
                "account_id": p.account_id,
                "plan": p.plan,
                "local": snap.health(p, now_ms),
            })
        })
        .collect();
    json!({"ok": true, "store": snap.info, "profiles": profiles, "skipped": snap.skipped})
}

fn until(h: &LocalHealth) -> String {
    let parts: Vec<String> = [
        ("cooldown", &h.cooldown_until),
        ("blocked", &h.blocked_until),
        ("disabled", &h.disabled_until),
    ]
    .into_iter()
    .filter_map(|(w, t)| t.as_ref().map(|t| format!("{w} until {t}")))
    .collect();
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join(", ")
    }
}

/// The text table.
pub fn to_table(snap: &Snapshot, now_ms: i64) -> String {
    let header = [
        "ID",
        "EMAIL",
        "ACCOUNT",
        "PLAN",
        "TOKEN",
        "EXPIRES",
        "UNUSABLE",
        "LAST USED",
        "ORDER",
        "LASTGOOD",
        "FENCE",
    ];
    let yes = |b: bool| if b { "yes" } else { "no" }.to_owned();
    let dash = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
    let mut rows: Vec<Vec<String>> = vec![header.iter().map(|s| (*s).to_owned()).collect()];
    // Sorted by the first column it shows, the id.
    let mut codex: Vec<_> = snap.codex.iter().collect();
    codex.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
    for p in codex {
        let h = snap.health(p, now_ms);
        rows.push(vec![
            p.id.to_string(),
            dash(&p.email),
            dash(&p.account_id.as_deref().map(short_account)),
            dash(&p.plan),
            h.status.as_str().to_owned(),
            dash(&h.token_expires_at),
            until(&h),
            dash(&h.last_used),
            yes(h.in_order),
            yes(h.last_good),
            h.fence.to_owned(),
        ]);
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    if snap.codex.is_empty() {
        out.push_str("No Codex profiles in this store.\n");
    } else {
        for r in &rows {
            let line: Vec<String> = r
                .iter()
                .zip(&widths)
                .map(|(cell, w)| format!("{cell:<w$}"))
                .collect();
            out.push_str(line.join("  ").trim_end());
            out.push('\n');
        }
    }
    for s in &snap.skipped {
        out.push_str(&format!("skipped {}: {}\n", s.id, s.reason));
    }
    out.push_str(&format!(
        "store: {} {}\n",
        snap.info.format.as_str(),
        snap.info.path.display()
    ));
    out
}
