//! `retire`, `delete`, `backups`, `layers`, `doctor`, and `order set|clear` (routed here from
//! `order.rs`): flags become engine types, [`crate::engine::change`] does the work, and the
//! report is rendered as text or JSON. Without `--confirm`, `delete` and `backups restore`
//! print what they would do and exit 4.

use serde_json::{Value, json};

use super::args::{
    BackupsCmd, DeleteArgs, GlobalArgs, LayersArgs, MutationArgs, OrderSetArgs, RetireArgs,
};
use super::output::{CliError, CmdResult, Report};
use super::store_opts::open_store;
use crate::engine::FailureKind;
use crate::engine::change::{self, ChangeReport, ExecuteOptions, backup, doctor, layers, queue};
use crate::engine::profile::ProfileId;
use crate::engine::selector::Selector;
use crate::engine::store::{Change, Snapshot, Store};

pub(super) fn opts<'a>(m: &MutationArgs, action: &'a str) -> Result<ExecuteOptions<'a>, CliError> {
    let from_env = crate::chat::config::parse_bool(
        "CODEX_PROFILER_VIA_GATEWAY",
        std::env::var("CODEX_PROFILER_VIA_GATEWAY").ok(),
        false,
    )?;
    Ok(ExecuteOptions {
        dry_run: m.dry_run,
        action,
        via_gateway: m.via_gateway || from_env,
        queue_apply: m.queue_apply,
        before_apply: None,
    })
}

/// Resolve a selector that must name exactly one Codex profile.
pub(super) fn one_profile(
    snap: &Snapshot,
    provider: &str,
    sel: &str,
) -> Result<ProfileId, CliError> {
    let s = Selector::parse(sel)?;
    if s == Selector::All {
        return Err(CliError::usage("name one profile, not `all`"));
    }
    let mut ids = s.resolve_in(snap, provider)?;
    ids.pop()
        .ok_or_else(|| CliError::usage("the selector named no profile"))
}

/// Resolve one id of `order set`: any stored profile id as given (the engine checks its
/// provider), else a selector over every stored profile of `provider`, token and api_key
/// ones too, as `openclaw models auth order set` accepts them.
fn order_member(snap: &Snapshot, provider: &str, sel: &str) -> Result<ProfileId, CliError> {
    if snap.raw_profile(sel.trim()).is_some()
        && let Ok(id) = ProfileId::parse(sel.trim())
    {
        return Ok(id);
    }
    let s = Selector::parse(sel)?;
    if s == Selector::All {
        return Err(CliError::usage("name one profile, not `all`"));
    }
    let ids: Vec<ProfileId> = snap
        .provider_profile_ids(provider)
        .iter()
        .filter_map(|i| ProfileId::parse(i).ok())
        .collect();
    let order: Vec<ProfileId> = snap
        .effective_order(provider)
        .ids
        .iter()
        .filter_map(|i| ProfileId::parse(i).ok())
        .collect();
    let mut found = s.resolve(&ids, &order)?;
    found
        .pop()
        .ok_or_else(|| CliError::usage("the selector named no profile"))
}

pub(super) fn provider(store: &Store, m: &MutationArgs) -> String {
    m.provider
        .clone()
        .unwrap_or_else(|| store.codex_provider().as_str().to_owned())
}

/// Render a report: exit 4 when it only shows what `--confirm` would do, 1 when the write
/// could not be verified.
pub(super) fn render(g: &GlobalArgs, r: &ChangeReport, confirm_needed: bool) -> CmdResult {
    let unverified = !confirm_needed && !r.dry_run && !r.verified;
    let code = if confirm_needed {
        Some((
            FailureKind::ConfirmationRequired.exit_code(),
            "nothing was changed: add --confirm to do it".to_owned(),
        ))
    } else if unverified {
        Some((FailureKind::Runtime.exit_code(), unverified_sentence(r)))
    } else {
        None
    };
    let report = if g.json {
        let mut v = serde_json::to_value(r).unwrap_or(Value::Null);
        if let Some(o) = v.as_object_mut() {
            o.insert(
                "layer".into(),
                json!(r.written.first().or(r.planned_layers.first())),
            );
            o.insert("confirmation_required".into(), json!(confirm_needed));
            if confirm_needed {
                // The same error fields every other refusal carries (`backups restore`
                // without --confirm included), beside the plan.
                o.insert("ok".into(), json!(false));
                o.insert("error".into(), json!("confirmation_required"));
                o.insert(
                    "message".into(),
                    json!("nothing was changed: add --confirm to do it"),
                );
            }
            if unverified {
                o.insert("ok".into(), json!(false));
                o.insert("error".into(), json!("not_verified"));
                o.insert("message".into(), json!(unverified_sentence(r)));
            }
        }
        Report::Json(v)
    } else {
        Report::Text(text(r, confirm_needed))
    };
    Ok(match code {
        Some((c, reason)) => Report::failed(report, c, reason),
        None => report,
    })
}

/// The stderr sentence of a change that was written but did not read back as intended.
pub(super) fn unverified_sentence(r: &ChangeReport) -> String {
    let written = if r.written.is_empty() {
        "nothing was written".to_owned()
    } else {
        format!("{} layer(s) written", r.written.len())
    };
    format!(
        "{}: the change could not be verified ({written}; {} difference(s) on read-back, listed in the report; backups: {})",
        r.action,
        r.differences.len(),
        if r.backups.is_empty() {
            "none".to_owned()
        } else {
            r.backups.join(", ")
        }
    )
}

pub(super) fn text(r: &ChangeReport, confirm_needed: bool) -> String {
    let mut out = String::new();
    let head = if r.nothing_to_change {
        "nothing to do"
    } else if confirm_needed {
        "would (add --confirm to do it)"
    } else if r.dry_run {
        "dry run, nothing written; would"
    } else {
        "done"
    };
    out.push_str(&format!("{}: {head}:\n", r.action));
    for p in &r.plan {
        out.push_str(&format!("  - {p}\n"));
    }
    out.push_str(&format!(
        "store: {} {}\n",
        r.store.format.as_str(),
        r.store.path.display()
    ));
    if r.nothing_to_change {
        out.push_str("backup: none taken, nothing is written\n");
        return out;
    }
    if confirm_needed || r.dry_run {
        return out;
    }
    for b in &r.backups {
        out.push_str(&format!("backup: {b}\n"));
    }
    if r.backups.is_empty() {
        // Only a layer that does not exist yet (one `openclaw` creates) has nothing to save.
        out.push_str("backup: none needed, the layer to write does not exist yet\n");
    }
    if r.written.is_empty() {
        out.push_str("written: nothing (already so)\n");
    }
    for l in &r.written {
        out.push_str(&format!(
            "written: {l}{}\n",
            if r.via_gateway { " (by openclaw)" } else { "" }
        ));
    }
    if let Some(o) = &r.order_in_effect {
        out.push_str(&format!(
            "order now in effect ({}): {}\n",
            o.source.describe(),
            if o.ids.is_empty() {
                "(no profiles)".to_owned()
            } else {
                o.ids.join(", ")
            }
        ));
    }
    for n in &r.notes {
        out.push_str(&format!("note: {n}\n"));
    }
    if r.verified {
        out.push_str("verified: yes, read back with only the intended change\n");
    } else {
        out.push_str("verified: NO\n");
        for d in &r.differences {
            out.push_str(&format!("  ! {d}\n"));
        }
    }
    if let Some(q) = r.queued_apply {
        let word = serde_json::to_value(q)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned));
        out.push_str(&format!(
            "gateway restart: {} (see `codex-profiler doctor`)\n",
            word.unwrap_or_default()
        ));
    }
    out
}

/// `order set ID...`.
pub fn order_set(g: &GlobalArgs, a: OrderSetArgs) -> CmdResult {
    let store = open_store(g)?;
    let snap = store.load()?;
    let provider = provider(&store, &a.m);
    let ids = a
        .ids
        .iter()
        .map(|s| order_member(&snap, &provider, s))
        .collect::<Result<Vec<_>, _>>()?;
    let change = Change::SetOrder { provider, ids };
    let r = change::execute(&store, change, &opts(&a.m, "order-set")?)?;
    render(g, &r, false)
}

/// `order clear`.
pub fn order_clear(g: &GlobalArgs, m: MutationArgs) -> CmdResult {
    let store = open_store(g)?;
    let change = Change::ClearOrder {
        provider: provider(&store, &m),
    };
    let r = change::execute(&store, change, &opts(&m, "order-clear")?)?;
    render(g, &r, false)
}

/// `retire SEL`.
pub fn retire(g: &GlobalArgs, a: RetireArgs) -> CmdResult {
    let store = open_store(g)?;
    let snap = store.load()?;
    let id = one_profile(&snap, &provider(&store, &a.m), &a.selector)?;
    let r = change::execute(&store, Change::Retire { id }, &opts(&a.m, "retire")?)?;
    render(g, &r, false)
}

/// `delete SEL --confirm`.
pub fn delete(g: &GlobalArgs, a: DeleteArgs) -> CmdResult {
    let store = open_store(g)?;
    let snap = store.load()?;
    let id = one_profile(&snap, &provider(&store, &a.m), &a.selector)?;
    let mut o = opts(&a.m, "delete")?;
    let confirm_needed = !a.confirm && !o.dry_run;
    o.dry_run |= !a.confirm;
    let r = change::execute(&store, Change::Delete { id }, &o)?;
    render(g, &r, confirm_needed)
}

/// `backups list|restore`.
pub fn backups(g: &GlobalArgs, c: BackupsCmd) -> CmdResult {
    match c {
        BackupsCmd::List => {
            let opts = super::store_opts::store_options(g)?;
            let all = backup::list(&opts.state_dir)?;
            if g.json {
                // Backups outlive stores: list them even when no store can be opened.
                let store = open_store(g).ok().map(|s| s.info().clone());
                return Ok(Report::Json(
                    json!({"ok": true, "store": store, "backups": all}),
                ));
            }
            if all.is_empty() {
                return Ok(Report::Text("no backups yet\n".into()));
            }
            let mut out = String::new();
            for b in all {
                out.push_str(&format!("{}  before {}  {}\n", b.name, b.action, b.layer));
            }
            Ok(Report::Text(out))
        }
        BackupsCmd::Restore { name, confirm, m } => {
            let store = open_store(g)?;
            let mut o = opts(&m, "restore")?;
            let confirm_needed = !confirm && !o.dry_run;
            o.dry_run |= !confirm;
            let r = change::restore(&store, &name, true, &o)?;
            render(g, &r, confirm_needed)
        }
    }
}

/// `layers [--session-key K]`.
pub fn layers(g: &GlobalArgs, a: LayersArgs) -> CmdResult {
    let store = open_store(g)?;
    let home = layers::default_codex_home();
    let r = layers::layers(&store, a.session_key.as_deref(), home.as_deref())?;
    if g.json {
        let mut v = serde_json::to_value(&r).unwrap_or(Value::Null);
        if let Some(o) = v.as_object_mut() {
            o.insert("ok".into(), json!(true));
        }
        return Ok(Report::Json(v));
    }
    let mut out = format!("Codex provider {} — the seven layers:\n", r.provider);
    for (i, row) in r.layers.iter().enumerate() {
        out.push_str(&format!(
            "{}. {:<26} {}\n   {:<26} from {}\n",
            i + 1,
            row.layer,
            row.detail,
            "",
            row.source
        ));
    }
    if r.disagreements.is_empty() {
        out.push_str("All layers agree.\n");
    } else {
        out.push_str("Disagreements:\n");
        for d in &r.disagreements {
            out.push_str(&format!("  - {d}\n"));
        }
    }
    Ok(Report::Text(out))
}

/// `doctor`: exit 0 when healthy, 1 when something needs action.
pub fn doctor(g: &GlobalArgs) -> CmdResult {
    let opts = super::store_opts::store_options(g)?;
    let r = doctor::run(&opts);
    let code = if r.healthy { 0 } else { 1 };
    let report = if g.json {
        let mut v = serde_json::to_value(&r).unwrap_or(Value::Null);
        if let Some(o) = v.as_object_mut() {
            o.insert("ok".into(), json!(true));
        }
        Report::Json(v)
    } else {
        Report::Text(doctor::render_text(&r))
    };
    Ok(if code == 0 {
        report
    } else {
        Report::failed(
            report,
            code,
            "doctor found something that needs action (see its report)",
        )
    })
}

/// The hidden `__apply-worker`: run the queued gateway restarts for `--state-dir`.
pub fn apply_worker(g: &GlobalArgs) -> CmdResult {
    let state_dir = g
        .state_dir
        .clone()
        .ok_or_else(|| CliError::usage("the apply worker needs --state-dir"))?;
    queue::run_worker(&state_dir)?;
    Ok(Report::Text(String::new()))
}
