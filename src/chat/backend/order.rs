//! The order as a chat shows and changes it: the stored order (or that none is stored, and
//! where it would live) and the effective order with why each profile is moved or skipped,
//! as `order get` reports them; and `order set`/`order clear` through the engine's change
//! pipeline (a dry run first to show the new order and who leaves service). Profiles are
//! named by their display labels; the facts are words, the sentences are the templates'.

use crate::engine::change::{self, ChangeReport, ExecuteOptions};
use crate::engine::label::display_labels;
use crate::engine::profile::ProfileId;
use crate::engine::selector::SelectError;
use crate::engine::store::{Change, OrderEntry, Snapshot, Store};
use crate::engine::usage::select::peers;

/// One profile as the order view names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderMember {
    /// The profile id as stored (an order may name an id the store does not hold).
    pub id: String,
    /// Its display label (the id for a profile that is not a Codex OAuth one).
    pub label: String,
    /// Why the gateway moves it last (cooldown, blocked, disabled), in words.
    pub moved_last: Vec<String>,
    /// What else affects it (expired token, refresh in flight, why it is skipped).
    pub notes: Vec<String>,
    /// Whether it is the provider's `lastGood`.
    pub last_good: bool,
    /// Whether the store holds it.
    pub in_store: bool,
}

/// The stored and the effective order of the Codex provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderView {
    /// The provider (`openai`, or `openai-codex` on a legacy JSON store).
    pub provider: String,
    /// The stored order as `openclaw models auth order get` reports it, if one is stored.
    pub stored: Option<Vec<OrderMember>>,
    /// The layer holding the stored order, else the one an order would be written to.
    pub layer: String,
    /// Where the effective order comes from: `store`, `config_order`, `config_profiles` or
    /// `automatic`.
    pub source: String,
    /// What the gateway tries now, first tried first.
    pub tried: Vec<OrderMember>,
    /// What it skips now.
    pub skipped: Vec<OrderMember>,
    /// Stored profiles of the provider a stored order leaves out (never tried).
    pub left_out: Vec<OrderMember>,
    /// The list the order buttons move: the stored order's stored profiles, else the
    /// profiles the gateway uses now (tried or skipped for now).
    pub working: Vec<OrderMember>,
}

/// An order change a chat asks for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OrderChange {
    /// Store exactly these profiles, in this order.
    Set(Vec<ProfileId>),
    /// Remove the stored order.
    Clear,
}

/// What an order change does (a dry run) or did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderOutcome {
    /// The order stored afterwards, by label (empty for a clear).
    pub order: Vec<String>,
    /// Profiles in use now that the change takes out of service.
    pub leaving: Vec<String>,
    /// The store already is so: nothing written, no backup.
    pub nothing_to_change: bool,
    /// Whether it was written (false for the dry run).
    pub applied: bool,
    /// Whether the read-back matched.
    pub verified: bool,
    /// The backup taken before writing.
    pub backup: Option<String>,
    /// The layers written.
    pub layer: String,
    /// What the gateway tries afterwards, by label.
    pub in_effect: Vec<String>,
}

/// Labels by id: Codex profiles by their display label, anything else by its id.
struct Labels<'a> {
    snap: &'a Snapshot,
    labels: Vec<String>,
}

impl<'a> Labels<'a> {
    fn of(snap: &'a Snapshot) -> Labels<'a> {
        Labels {
            snap,
            labels: display_labels(&peers(snap)),
        }
    }

    fn label(&self, id: &str) -> String {
        self.snap
            .codex
            .iter()
            .position(|p| p.id.as_str() == id)
            .and_then(|i| self.labels.get(i).cloned())
            .unwrap_or_else(|| id.to_owned())
    }

    fn member(&self, e: &OrderEntry, last_good: Option<&str>) -> OrderMember {
        let (moved, other): (Vec<_>, Vec<_>) = e.reasons.iter().partition(|r| r.moves_last());
        OrderMember {
            label: self.label(&e.id),
            moved_last: moved.iter().map(|r| r.describe()).collect(),
            notes: other.iter().map(|r| r.describe()).collect(),
            last_good: last_good == Some(e.id.as_str()),
            in_store: self.snap.raw_profile(&e.id).is_some(),
            id: e.id.clone(),
        }
    }

    fn plain(&self, id: &str, last_good: Option<&str>) -> OrderMember {
        self.member(
            &OrderEntry {
                id: id.to_owned(),
                reasons: Vec::new(),
            },
            last_good,
        )
    }
}

/// The order view of `provider` in `snap`; `target` names the layer an order is written to.
pub(super) fn view(snap: &Snapshot, provider: &str, target: String) -> OrderView {
    let labels = Labels::of(snap);
    let stored = snap.merged_stored_order(provider);
    let eff = snap.effective_order(provider);
    let last_good = snap.last_good(provider);
    let lg = last_good.as_deref();
    let tried: Vec<OrderMember> = eff.tried.iter().map(|e| labels.member(e, lg)).collect();
    let skipped: Vec<OrderMember> = eff
        .skipped
        .iter()
        .filter(|e| stored.is_some() || snap.raw_profile(&e.id).is_some())
        .map(|e| labels.member(e, None))
        .collect();
    let left_out: Vec<OrderMember> = match &stored {
        Some((ids, _)) if eff.source.as_str() != "automatic" => snap
            .provider_profile_ids(provider)
            .into_iter()
            .filter(|id| !ids.contains(id))
            .map(|id| labels.plain(&id, None))
            .collect(),
        _ => Vec::new(),
    };
    let working_ids: Vec<String> = match &stored {
        Some((ids, _)) => ids
            .iter()
            .filter(|id| snap.raw_profile(id).is_some())
            .cloned()
            .collect(),
        None => eff.members(),
    };
    OrderView {
        provider: provider.to_owned(),
        layer: stored
            .as_ref()
            .map_or(target, |(_, layer)| layer.to_string()),
        stored: stored.map(|(ids, _)| ids.iter().map(|id| labels.plain(id, lg)).collect()),
        source: eff.source.as_str().to_owned(),
        working: working_ids
            .iter()
            .filter(|id| ProfileId::parse(id).is_ok())
            .map(|id| labels.plain(id, lg))
            .collect(),
        tried,
        skipped,
        left_out,
    }
}

/// Resolve each selector to one stored profile of `provider` (see
/// [`change::order_member`]); `Ok(None)` in place of `all`.
pub(super) fn members(
    snap: &Snapshot,
    provider: &str,
    selectors: &[String],
) -> Result<Vec<Option<ProfileId>>, SelectError> {
    selectors
        .iter()
        .map(|s| change::order_member(snap, provider, s))
        .collect()
}

/// Run an order change through the pipeline (`apply: false`: the dry run only).
pub(super) fn run(
    store: &Store,
    change: &OrderChange,
    apply: bool,
    via_gateway: bool,
) -> Result<OrderOutcome, change::ChangeError> {
    let provider = store.codex_provider().as_str().to_owned();
    let (change, action) = match change {
        OrderChange::Set(ids) => (
            Change::SetOrder {
                provider,
                ids: ids.clone(),
            },
            "order-set",
        ),
        OrderChange::Clear => (Change::ClearOrder { provider }, "order-clear"),
    };
    let order: Vec<String> = match &change {
        Change::SetOrder { ids, .. } => ids.iter().map(|i| i.as_str().to_owned()).collect(),
        _ => Vec::new(),
    };
    let exec = ExecuteOptions {
        dry_run: !apply,
        action,
        via_gateway,
        queue_apply: false,
        before_apply: None,
    };
    let r = change::execute(store, change, &exec)?;
    // Labels from the store as it is now (after the change, when applied).
    let snap = store.load().map_err(change::ChangeError::store)?;
    let labels = Labels::of(&snap);
    Ok(outcome(&r, &order, &labels, apply))
}

fn outcome(r: &ChangeReport, order: &[String], labels: &Labels<'_>, apply: bool) -> OrderOutcome {
    let named = |ids: &[String]| ids.iter().map(|i| labels.label(i)).collect::<Vec<_>>();
    OrderOutcome {
        order: named(order),
        leaving: named(&r.leaving_service),
        nothing_to_change: r.nothing_to_change,
        applied: apply && !r.nothing_to_change,
        verified: r.verified,
        backup: r.backups.first().cloned(),
        layer: r
            .written
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        in_effect: r
            .order_in_effect
            .as_ref()
            .map(|o| named(&o.ids))
            .unwrap_or_default(),
    }
}
