//! Writes keep what is not theirs: on a store of any format holding Codex profiles with
//! unknown fields, other providers' profiles of any shape and unknown top-level fields, a
//! retire or an order set (`Store::apply`) changes only the Codex order and `lastGood`; every
//! other value is equal after the write, and reading what was written gives the snapshot a
//! fresh store holding the same documents gives.

use codex_profiler::engine::profile::ProfileId;
use codex_profiler::engine::store::{Change, Store};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

use super::check_scaled;
use super::strategies::{hostile_text, json_value};
use crate::support::fixtures::{Fixture, oauth_profile, read_json};

/// The store formats.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// The state database's two cells.
    StateDb,
    /// An agent database's rows.
    AgentDb,
    /// One legacy `auth-profiles.json` holding the state keys too.
    JsonSingle,
    /// `auth-profiles.json` and `auth-state.json`.
    JsonSplit,
}

/// Any format.
pub fn kind() -> impl Strategy<Value = Kind> {
    prop::sample::select(vec![
        Kind::StateDb,
        Kind::AgentDb,
        Kind::JsonSingle,
        Kind::JsonSplit,
    ])
}

/// The state keys a single json file holds beside the profiles.
const STATE_KEYS: [&str; 3] = ["order", "lastGood", "usageStats"];

/// Write `store` and `state` in the format `kind`, for agent `main`.
pub fn build(fx: &Fixture, kind: &Kind, store: &Value, state: &Value) {
    match kind {
        Kind::StateDb => {
            fx.state_db(store, Some(state));
        }
        Kind::AgentDb => {
            fx.agent_db("main", Some(store), Some(state));
        }
        Kind::JsonSingle => {
            let mut doc = store.clone();
            if let (Some(d), Some(s)) = (doc.as_object_mut(), state.as_object()) {
                for k in STATE_KEYS {
                    if let Some(v) = s.get(k) {
                        d.insert(k.into(), v.clone());
                    }
                }
            }
            fx.json_single("main", &doc);
        }
        Kind::JsonSplit => {
            fx.json_split("main", store, state);
        }
    }
}

/// The (store, state) documents as stored, read without the engine.
fn stored(fx: &Fixture, kind: &Kind) -> (Value, Value) {
    match kind {
        Kind::StateDb => {
            let (s, t, _) = fx.state_db_cells();
            (s.unwrap(), t.unwrap())
        }
        Kind::AgentDb => {
            let (s, t) = fx.agent_db_rows("main");
            (s.unwrap(), t.unwrap())
        }
        Kind::JsonSingle => {
            let mut s = read_json(&fx.json_path("main"));
            let mut t = json!({});
            for k in STATE_KEYS {
                if let Some(v) = s.as_object_mut().unwrap().shift_remove(k) {
                    t[k] = v;
                }
            }
            (s, t)
        }
        Kind::JsonSplit => (
            read_json(&fx.json_path("main")),
            read_json(&fx.json_path("main").with_file_name("auth-state.json")),
        ),
    }
}

/// Field names no reader knows.
fn unknown_key() -> impl Strategy<Value = String> {
    prop_oneof!["x[A-Za-z0-9_]{0,8}", hostile_text()].prop_filter("unknown", |k| {
        !matches!(
            k.as_str(),
            "type"
                | "provider"
                | "access"
                | "refresh"
                | "expires"
                | "accountId"
                | "email"
                | "chatgptPlanType"
                | "version"
                | "profiles"
                | "order"
                | "lastGood"
                | "usageStats"
                | "lastUsed"
                | "errorCount"
                | "cooldownUntil"
                | "blockedUntil"
                | "disabledUntil"
                | "disabledReason"
                | "failureCounts"
                | "lastFailureAt"
        )
    })
}

fn unknown_fields() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::vec((unknown_key(), json_value()), 0..4)
        .prop_map(|kv| kv.into_iter().collect())
}

/// A store as a gateway may hold it, and a change to make.
#[derive(Debug, Clone)]
struct Case {
    store: Value,
    state: Value,
    change: Change,
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop::collection::btree_set("[a-z]{1,8}", 1..5),
        prop::collection::vec(unknown_fields(), 5),
        prop::collection::btree_map("[a-z]{1,8}", json_value(), 0..3),
        (unknown_fields(), unknown_fields(), unknown_fields()),
        (any::<prop::sample::Index>(), any::<bool>(), any::<u64>()),
    )
        .prop_map(
            |(names, extras, others, (top, top_state, stat_extra), (pick, retire, seed))| {
                let ids: Vec<String> = names
                    .iter()
                    .map(|n| format!("openai:{n}@example.com"))
                    .collect();
                let mut profiles = Map::new();
                for (id, extra) in ids.iter().zip(extras.iter().cycle()) {
                    let email = &id["openai:".len()..];
                    let mut p = oauth_profile("openai", email, "acc-1", "plus", 1_796_170_000_000);
                    for (k, v) in extra {
                        p[k] = v.clone();
                    }
                    profiles.insert(id.clone(), p);
                }
                let mut other_order = Vec::new();
                for (n, v) in &others {
                    profiles.insert(format!("anthropic:{n}"), v.clone());
                    other_order.push(format!("anthropic:{n}"));
                }
                let mut store = Value::Object(top);
                store["version"] = json!(1);
                store["profiles"] = Value::Object(profiles);
                let mut usage = Map::new();
                for id in ids.iter().chain(&other_order) {
                    let mut s = json!({"lastUsed": 1_795_302_400_000_i64, "errorCount": 0});
                    for (k, v) in &stat_extra {
                        s[k] = v.clone();
                    }
                    usage.insert(id.clone(), s);
                }
                let mut state = Value::Object(top_state);
                state["version"] = json!(1);
                state["order"] = json!({"openai": ids, "anthropic": other_order});
                state["lastGood"] =
                    json!({"openai": ids[pick.index(ids.len())], "anthropic": other_order.first()});
                state["usageStats"] = Value::Object(usage);
                let id = ProfileId::parse(&ids[pick.index(ids.len())]).unwrap();
                let change = if retire {
                    Change::Retire { id }
                } else {
                    // Any arrangement of any non-empty subset.
                    let mut order: Vec<ProfileId> =
                        ids.iter().map(|i| ProfileId::parse(i).unwrap()).collect();
                    let len = order.len();
                    order.rotate_left((seed as usize) % len);
                    order.truncate(1 + (seed as usize / 7) % len);
                    Change::SetOrder {
                        provider: "openai".into(),
                        ids: order,
                    }
                };
                Case {
                    store,
                    state,
                    change,
                }
            },
        )
}

/// What a reader sees of a store: the Codex profiles, what was skipped, the order tried.
fn view(s: &Store) -> String {
    let snap = s.load().unwrap();
    format!(
        "{:?}\n{:?}\n{:?}\n{:?}",
        snap.codex,
        snap.skipped,
        snap.effective_order("openai").ids,
        snap.last_good("openai")
    )
}

fn open(fx: &Fixture) -> Store {
    crate::store::open_auto(&fx.state_dir())
}

#[test]
fn a_write_keeps_every_value_that_is_not_its_own() {
    check_scaled(4, (kind(), case()), |(kind, case)| {
        let fx = Fixture::new();
        let Case {
            store,
            mut state,
            change,
        } = case;
        if matches!(kind, Kind::JsonSingle) {
            // One file: the state's own top-level fields are the document's.
            state = json!({"order": state["order"], "lastGood": state["lastGood"], "usageStats": state["usageStats"]});
        }
        build(&fx, &kind, &store, &state);
        let s = open(&fx);
        s.apply(&change)
            .map_err(|e| TestCaseError::fail(format!("{change:?}: {e}")))?;
        let (got_store, got_state) = stored(&fx, &kind);
        // The profiles, other providers' included, and every unknown field: untouched.
        prop_assert_eq!(&got_store, &store);
        // The state: only the Codex order and lastGood may change.
        let mut want = state.clone();
        let mut got = got_state.clone();
        for d in [&mut want, &mut got] {
            d["order"].as_object_mut().map(|o| o.shift_remove("openai"));
            d["lastGood"]
                .as_object_mut()
                .map(|o| o.shift_remove("openai"));
        }
        prop_assert_eq!(got, want);
        match &change {
            Change::SetOrder { ids, .. } => {
                let want: Vec<&str> = ids.iter().map(ProfileId::as_str).collect();
                prop_assert_eq!(&got_state["order"]["openai"], &json!(want));
            }
            Change::Retire { id } => {
                let order = got_state["order"]["openai"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                prop_assert!(!order.contains(&json!(id.as_str())), "{:?}", order);
                prop_assert_ne!(&got_state["lastGood"]["openai"], &json!(id.as_str()));
            }
            _ => {}
        }
        // Reading what was written: the same view as a fresh store holding those documents.
        let fresh = Fixture::new();
        build(&fresh, &kind, &got_store, &got_state);
        prop_assert_eq!(view(&open(&fx)), view(&open(&fresh)));
        Ok(())
    });
}
