//! `order get|set|clear`: `get` here (the effective order and the layer or config it came
//! from); `set` and `clear` are mutations and live in `change.rs`.

use serde_json::json;

use super::args::{GlobalArgs, OrderCmd};
use super::output::{CmdResult, Report};
use super::store_opts::open_store;
use crate::engine::store::OrderSource;

/// Run an `order` subcommand.
pub fn run(g: &GlobalArgs, c: OrderCmd) -> CmdResult {
    match c {
        OrderCmd::Get { provider } => get(g, provider),
        OrderCmd::Set(a) => super::change::order_set(g, a),
        OrderCmd::Clear(a) => super::change::order_clear(g, a),
    }
}

fn get(g: &GlobalArgs, provider: Option<String>) -> CmdResult {
    let store = open_store(g)?;
    let snap = store.load()?;
    let provider = provider.unwrap_or_else(|| store.codex_provider().as_str().to_owned());
    let order = snap.effective_order(&provider);
    let last_good = snap.last_good(&provider);
    if g.json {
        let (source, layer) = match &order.source {
            OrderSource::Store { layer } => ("store", Some(layer)),
            OrderSource::ConfigOrder => ("config_order", None),
            OrderSource::ConfigProfiles => ("config_profiles", None),
            OrderSource::Automatic => ("automatic", None),
        };
        return Ok(Report::Json(json!({
            "ok": true,
            "store": snap.info,
            "provider": provider,
            "order": order.ids,
            "source": source,
            "layer": layer,
            "last_good": last_good,
        })));
    }
    let mut out = format!("{provider} order, from the {}:\n", order.source.describe());
    if order.ids.is_empty() {
        out.push_str("  (no profiles)\n");
    }
    for (i, id) in order.ids.iter().enumerate() {
        let mut notes = Vec::new();
        if last_good.as_deref() == Some(id) {
            notes.push("lastGood");
        }
        if snap.raw_profile(id).is_none() {
            notes.push("not stored");
        }
        let notes = if notes.is_empty() {
            String::new()
        } else {
            format!("  ({})", notes.join(", "))
        };
        out.push_str(&format!("  {}. {id}{notes}\n", i + 1));
    }
    out.push_str(&format!(
        "store: {} {}\n",
        snap.info.format.as_str(),
        snap.info.path.display()
    ));
    Ok(Report::Text(out))
}
