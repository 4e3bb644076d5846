//! `order get|set|clear`: `get` here: the **stored** order exactly as
//! `openclaw models auth order get` reports it (and the layer holding it), and separately the
//! **effective** order the gateway tries now, with why each profile is moved or skipped;
//! `set` and `clear` are mutations and live in `change.rs`, `auto` in `order_auto.rs`.

use serde_json::json;

use super::args::{GlobalArgs, OrderCmd};
use super::output::{CmdResult, Report};
use super::store_opts::open_store;
use crate::engine::store::{EffectiveOrder, LayerId, OrderEntry, OrderSource, Snapshot};

/// Run an `order` subcommand.
pub fn run(g: &GlobalArgs, c: OrderCmd) -> CmdResult {
    match c {
        OrderCmd::Get { provider } => get(g, provider),
        OrderCmd::Set(a) => super::change::order_set(g, a),
        OrderCmd::Clear(a) => super::change::order_clear(g, a),
        OrderCmd::Auto(a) => super::order_auto::run(g, a),
    }
}

fn get(g: &GlobalArgs, provider: Option<String>) -> CmdResult {
    let store = open_store(g)?;
    let snap = store.load()?;
    let provider = provider.unwrap_or_else(|| store.codex_provider().as_str().to_owned());
    let stored = snap.merged_stored_order(&provider);
    let eff = snap.effective_order(&provider);
    let last_good = snap.last_good(&provider);
    let note = snap.unused_provider(&provider);
    if g.json {
        return Ok(Report::Json(json!({
            "ok": true,
            "store": snap.info,
            "provider": provider,
            "order": stored.as_ref().map(|(ids, _)| ids),
            "layer": stored.as_ref().map(|(_, l)| l),
            "source": eff.source.as_str(),
            "effective": eff.tried,
            "skipped": eff.skipped,
            "last_good": last_good,
            "note": note,
        })));
    }
    Ok(Report::Text(text(
        &snap,
        &provider,
        stored.as_ref(),
        &eff,
        last_good.as_deref(),
        note,
    )))
}

fn numbered(out: &mut String, ids: &[String], note: impl Fn(&str) -> String) {
    for (i, id) in ids.iter().enumerate() {
        out.push_str(&format!("  {}. {id}{}\n", i + 1, note(id)));
    }
}

fn entry_note(e: &OrderEntry, last_good: Option<&str>) -> String {
    let mut words: Vec<String> = Vec::new();
    let moved: Vec<String> = e
        .reasons
        .iter()
        .filter(|r| r.moves_last())
        .map(|r| r.describe())
        .collect();
    if !moved.is_empty() {
        words.push(format!("moved last: {}", moved.join(", ")));
    }
    words.extend(
        e.reasons
            .iter()
            .filter(|r| !r.moves_last())
            .map(|r| r.describe()),
    );
    if last_good == Some(e.id.as_str()) {
        words.push("lastGood".into());
    }
    if words.is_empty() {
        String::new()
    } else {
        format!("  ({})", words.join("; "))
    }
}

/// The text view: the stored order under its own heading (or a sentence saying none is
/// stored and what the gateway follows instead), then what the gateway tries and skips.
fn text(
    snap: &Snapshot,
    provider: &str,
    stored: Option<&(Vec<String>, LayerId)>,
    eff: &EffectiveOrder,
    last_good: Option<&str>,
    note: Option<String>,
) -> String {
    let mut out = String::new();
    if let Some(n) = note {
        out.push_str(&format!("Note: {n}.\n"));
    }
    let tried = eff.ids.join(", ");
    match stored {
        Some((ids, layer)) => {
            out.push_str(&format!(
                "Stored {provider} order (in {layer}; what `openclaw models auth order get` shows):\n"
            ));
            numbered(&mut out, ids, |id| {
                if snap.raw_profile(id).is_none() {
                    "  (not in the store)".into()
                } else {
                    String::new()
                }
            });
        }
        None => {
            let follows = match eff.source {
                OrderSource::ConfigOrder => "follows openclaw.json auth.order".to_owned(),
                OrderSource::ConfigProfiles => {
                    "follows the ids of openclaw.json auth.profiles, which hides every other stored profile".to_owned()
                }
                _ => format!(
                    "tries every stored {provider} profile (OAuth before token before API key, unexpired first, least recently used first)"
                ),
            };
            if eff.ids.is_empty() && eff.skipped.is_empty() {
                out.push_str(&format!(
                    "No {provider} order is stored, and no {provider} profile is stored: the gateway has nothing to try.\n"
                ));
            } else if eff.ids.is_empty() {
                out.push_str(&format!(
                    "No {provider} order is stored; the gateway {follows}, and can use none of them now.\n"
                ));
            } else {
                out.push_str(&format!(
                    "No {provider} order is stored; the gateway {follows}: {tried}.\n"
                ));
            }
        }
    }
    if stored.is_some() && matches!(eff.source, OrderSource::Automatic) {
        out.push_str(
            "None of the stored order's profiles is in the store, so the gateway ignores it and tries every stored profile.\n",
        );
    }
    out.push_str(&format!(
        "The gateway tries now ({}):\n",
        eff.source.describe()
    ));
    if eff.ids.is_empty() {
        out.push_str("  (no usable profile)\n");
    }
    for (i, e) in eff.tried.iter().enumerate() {
        out.push_str(&format!(
            "  {}. {}{}\n",
            i + 1,
            e.id,
            entry_note(e, last_good)
        ));
    }
    let skipped: Vec<&OrderEntry> = eff
        .skipped
        .iter()
        .filter(|e| stored.is_some() || snap.raw_profile(&e.id).is_some())
        .collect();
    if !skipped.is_empty() {
        out.push_str("Skipped now (not tried):\n");
        for e in skipped {
            out.push_str(&format!("  - {}{}\n", e.id, entry_note(e, None)));
        }
    }
    if let Some((ids, _)) = stored {
        let left_out: Vec<String> = snap
            .provider_profile_ids(provider)
            .into_iter()
            .filter(|id| !ids.contains(id))
            .collect();
        if !left_out.is_empty() && !matches!(eff.source, OrderSource::Automatic) {
            out.push_str(&format!(
                "Not in the stored order, so never tried: {}.\n",
                left_out.join(", ")
            ));
        }
    }
    out.push_str(&format!(
        "lastGood: {}\nstore: {} {}\n",
        last_good.unwrap_or("none"),
        snap.info.format.as_str(),
        snap.info.path.display()
    ));
    out
}
