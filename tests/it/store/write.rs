//! Round trips: each change alters only what it meant to, in every format, with unknown
//! fields and a non-Codex profile kept; writes go to the layer that owns the key; a fresh
//! install gets its cells and `auth.sharedStore`; restore (`write_layer`) is exact.

use std::os::unix::fs::PermissionsExt;

use codex_profiler::engine::profile::ProfileId;
use codex_profiler::engine::store::{Change, LayerDocs, StoreError, StoreFormat};
use serde_json::{Map, Value, json};

use super::{forced, open, open_auto};
use crate::support::fixtures::{Fixture, oauth_profile, read_json};

fn id(s: &str) -> ProfileId {
    ProfileId::parse(s).unwrap()
}

/// A store with two Codex profiles, a non-Codex one and unknown fields everywhere.
fn rich(p: &str) -> (Value, Value) {
    let (a, b) = (
        format!("{p}:alice@example.com"),
        format!("{p}:bob@example.com"),
    );
    let mut alice = oauth_profile(p, "alice@example.com", "acc-a", "plus", 1_796_170_000_000);
    alice["someFutureField"] = json!({"nested": [1, 2, {"x": null}]});
    let store = json!({
        "version": 1,
        "futureTopLevel": {"keep": true},
        "profiles": {
            a.clone(): alice,
            b.clone(): oauth_profile(p, "bob@example.com", "acc-b", "pro", 1_796_170_000_000),
            "anthropic:work": {"type": "token", "provider": "anthropic", "token": "sk-ant-FIXTURE-0001", "label": "work", "extra": [1, "two"]},
        }
    });
    let state = json!({
        "version": 1,
        "order": {p: [b.clone(), a.clone()], "anthropic": ["anthropic:work"]},
        "lastGood": {p: b.clone(), "anthropic": "anthropic:work"},
        "usageStats": {
            a.clone(): {"lastUsed": 1_795_302_400_000_i64, "errorCount": 0, "futureStat": "x"},
            b.clone(): {"lastUsed": 1_795_305_940_000_i64, "errorCount": 1, "cooldownUntil": 1_795_306_600_000_i64},
            "anthropic:work": {"lastUsed": 5}
        },
        "futureState": [true]
    });
    (store, state)
}

/// What a change should do to the (store, state) documents.
type Expect = Box<dyn Fn(&mut Value, &mut Value)>;

/// The changes and what each should do to (store, state).
fn cases(p: &str) -> Vec<(Change, Expect)> {
    let a = format!("{p}:alice@example.com");
    let b = format!("{p}:bob@example.com");
    let mut fields = Map::new();
    fields.insert("chatgptPlanType".into(), json!("team"));
    fields.insert("newField".into(), json!(1));
    let (a1, b1, b2, b3, b4) = (a.clone(), b.clone(), b.clone(), a.clone(), b.clone());
    let pp = p.to_owned();
    let (p1, p2, p3) = (pp.clone(), pp.clone(), pp.clone());
    vec![
        (
            Change::UpsertProfile { id: id(&b), fields },
            Box::new(move |s: &mut Value, _: &mut Value| {
                s["profiles"][&b1]["chatgptPlanType"] = json!("team");
                s["profiles"][&b1]["newField"] = json!(1);
            }),
        ),
        (
            Change::SetOrder {
                provider: p.into(),
                ids: vec![id(&a), id(&b)],
            },
            Box::new(move |_: &mut Value, t: &mut Value| t["order"][&p1] = json!([a1, b2])),
        ),
        (
            Change::ClearOrder { provider: p.into() },
            Box::new(move |_: &mut Value, t: &mut Value| {
                t["order"].as_object_mut().unwrap().shift_remove(&p2);
            }),
        ),
        (
            Change::Retire { id: id(&b) },
            Box::new(move |_: &mut Value, t: &mut Value| {
                t["order"][&p3] = json!([b3.clone()]);
                t["lastGood"][&p3] = json!(b3);
            }),
        ),
        (
            Change::Delete { id: id(&a) },
            Box::new(move |s: &mut Value, t: &mut Value| {
                s["profiles"].as_object_mut().unwrap().shift_remove(&a);
                t["order"][&pp] = json!([b4]);
                t["usageStats"].as_object_mut().unwrap().shift_remove(&a);
            }),
        ),
    ]
}

enum Kind {
    StateDb,
    AgentDb,
    JsonSingle,
    JsonSplit,
}

fn build(fx: &Fixture, kind: &Kind, store: &Value, state: &Value) {
    match kind {
        Kind::StateDb => {
            fx.state_db(store, Some(state));
        }
        Kind::AgentDb => {
            fx.agent_db("main", Some(store), Some(state));
        }
        Kind::JsonSingle => {
            let docs = LayerDocs {
                store: store.clone(),
                state: state.clone(),
            };
            let mut doc = docs.store.clone();
            for k in ["order", "lastGood", "usageStats"] {
                doc[k] = state[k].clone();
            }
            fx.json_single("main", &doc);
        }
        Kind::JsonSplit => {
            fx.json_split("main", store, state);
        }
    }
}

/// The documents as stored, read without the engine.
fn stored(fx: &Fixture, kind: &Kind) -> (Value, Value) {
    match kind {
        Kind::StateDb => {
            let (s, t, shared) = fx.state_db_cells();
            assert_eq!(shared, Some(json!({"location": "state-db"})));
            (s.unwrap(), t.unwrap())
        }
        Kind::AgentDb => {
            let (s, t) = fx.agent_db_rows("main");
            (s.unwrap(), t.unwrap())
        }
        Kind::JsonSingle => {
            let mut s = read_json(&fx.json_path("main"));
            let mut t = json!({"version": 1});
            for k in ["order", "lastGood", "usageStats"] {
                if let Some(v) = s.as_object_mut().unwrap().shift_remove(k) {
                    t[k] = v;
                }
            }
            t["futureState"] = json!([true]);
            s.as_object_mut().unwrap().shift_remove("futureState");
            (s, t)
        }
        Kind::JsonSplit => (
            read_json(&fx.json_path("main")),
            read_json(&fx.json_path("main").with_file_name("auth-state.json")),
        ),
    }
}

fn round_trip(kind: Kind, p: &str) {
    for (change, expect) in cases(p) {
        let fx = Fixture::new();
        let (mut store, mut state) = rich(p);
        if matches!(kind, Kind::JsonSingle) {
            // A single file keeps unknown top-level fields beside the state keys.
            store["futureState"] = json!([true]);
        }
        build(&fx, &kind, &store, &state);
        if matches!(kind, Kind::JsonSingle) {
            store.as_object_mut().unwrap().shift_remove("futureState");
        }
        let s = open_auto(&fx.state_dir());
        let applied = s
            .apply(&change)
            .unwrap_or_else(|e| panic!("{change:?}: {e}"));
        assert_eq!(applied.written.len(), 1, "{change:?}");
        expect(&mut store, &mut state);
        let (got_store, got_state) = stored(&fx, &kind);
        assert_eq!(got_store, store, "store document after {change:?}");
        assert_eq!(got_state, state, "state document after {change:?}");
        let path = &applied.written[0].path;
        let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", path.display());
    }
}

#[test]
fn round_trip_state_db() {
    round_trip(Kind::StateDb, "openai");
}

#[test]
fn round_trip_agent_db() {
    round_trip(Kind::AgentDb, "openai");
}

#[test]
fn round_trip_json_single_file() {
    round_trip(Kind::JsonSingle, "openai-codex");
}

#[test]
fn round_trip_json_split() {
    round_trip(Kind::JsonSplit, "openai-codex");
}

#[test]
fn writes_go_to_the_layer_that_owns_the_key() {
    let fx = Fixture::new();
    let (store, state) = rich("openai");
    fx.state_db(&store, Some(&state));
    let overlay_state =
        json!({"version": 1, "order": {"openai": ["openai:alice@example.com"]}, "overlayOnly": 1});
    let overlay = fx.agent_db("main", None, Some(&overlay_state));
    let s = open_auto(&fx.state_dir());

    let applied = s
        .apply(&Change::SetOrder {
            provider: "openai".into(),
            ids: vec![id("openai:bob@example.com")],
        })
        .unwrap();
    assert_eq!(applied.written.len(), 1);
    assert_eq!(applied.written[0].path, overlay);
    assert_eq!(
        fx.state_db_cells().1.unwrap(),
        state,
        "the shared state is untouched"
    );
    assert_eq!(fx.agent_db_rows("main").1.unwrap()["overlayOnly"], 1);

    // Retire removes the id from every layer's order.
    let applied = s
        .apply(&Change::Retire {
            id: id("openai:bob@example.com"),
        })
        .unwrap();
    assert_eq!(applied.written.len(), 2);
    assert_eq!(
        fx.agent_db_rows("main").1.unwrap()["order"]["openai"],
        json!([])
    );
    let shared_state = fx.state_db_cells().1.unwrap();
    assert_eq!(
        shared_state["order"]["openai"],
        json!(["openai:alice@example.com"])
    );
    // The effective order (the overlay's) has no one left: lastGood is removed.
    assert_eq!(shared_state["lastGood"].get("openai"), None);
    assert_eq!(
        fx.agent_db_rows("main").0,
        Some(json!({"version": 1, "profiles": {}})),
        "the overlay's store row is untouched"
    );
}

#[test]
fn fresh_install_first_write_sets_shared_store_and_cells() {
    let fx = Fixture::new();
    fx.fresh_state_db();
    let s = open_auto(&fx.state_dir());
    let mut fields = Map::new();
    fields.insert("type".into(), json!("oauth"));
    fields.insert("provider".into(), json!("openai"));
    s.apply(&Change::UpsertProfile {
        id: id("openai:new@example.com"),
        fields,
    })
    .unwrap();
    let (store, state, shared) = fx.state_db_cells();
    assert_eq!(shared, Some(json!({"location": "state-db"})));
    assert_eq!(
        store.unwrap()["profiles"]["openai:new@example.com"]["type"],
        "oauth"
    );
    assert_eq!(
        state,
        Some(json!({"version": 1})),
        "a fresh install's first write creates both cells, as OpenClaw does"
    );
    assert!(!fx.json_path("main").exists());
    let conn = rusqlite::Connection::open(fx.state_db_path()).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn pending_fence_is_never_overwritten() {
    let fx = Fixture::new();
    let fence = format!(
        "openclaw-oauth-refresh-fence:v1:{}:access:{}",
        "0".repeat(32),
        "a".repeat(64)
    );
    let store = json!({"version": 1, "profiles": {"openai:a": {"type": "oauth", "provider": "openai", "access": fence, "refresh": fence, "expires": 1}}});
    fx.state_db(&store, None);
    let before = std::fs::read(fx.state_db_path()).unwrap();
    let s = open_auto(&fx.state_dir());
    let mut fields = Map::new();
    fields.insert("access".into(), json!("eyJnew"));
    let err = s
        .apply(&Change::UpsertProfile {
            id: id("openai:a"),
            fields,
        })
        .unwrap_err();
    assert!(matches!(err, StoreError::Fenced(_)), "{err}");
    let err = s.apply(&Change::Delete { id: id("openai:a") }).unwrap_err();
    assert!(matches!(err, StoreError::Fenced(_)), "{err}");
    assert_eq!(std::fs::read(fx.state_db_path()).unwrap(), before);
}

#[test]
fn write_layer_restores_exactly() {
    for fmt in [StoreFormat::StateDb, StoreFormat::Json] {
        let fx = Fixture::new();
        let p = if fmt == StoreFormat::Json {
            "openai-codex"
        } else {
            "openai"
        };
        let (store, state) = rich(p);
        match fmt {
            StoreFormat::Json => build(&fx, &Kind::JsonSplit, &store, &state),
            _ => build(&fx, &Kind::StateDb, &store, &state),
        }
        let s = open(&fx.state_dir(), "main", forced(fmt));
        let layer = s.layers()[0].clone();
        let saved = s.read_layer(&layer).unwrap();
        s.apply(&Change::Delete {
            id: id(&format!("{p}:alice@example.com")),
        })
        .unwrap();
        assert_ne!(s.read_layer(&layer).unwrap(), saved);
        s.write_layer(&layer, &saved).unwrap();
        assert_eq!(s.read_layer(&layer).unwrap(), saved);
    }
}

#[test]
fn forced_json_on_an_empty_state_dir_creates_the_file_on_first_write_only() {
    let fx = Fixture::new();
    let s = open(&fx.state_dir(), "main", forced(StoreFormat::Json));
    assert!(s.load().unwrap().codex.is_empty());
    assert!(!fx.json_path("main").exists(), "reading created nothing");
    let mut fields = Map::new();
    fields.insert("type".into(), json!("oauth"));
    fields.insert("provider".into(), json!("openai-codex"));
    s.apply(&Change::UpsertProfile {
        id: id("openai-codex:a"),
        fields,
    })
    .unwrap();
    let doc = read_json(&fx.json_path("main"));
    assert_eq!(doc["profiles"]["openai-codex:a"]["type"], "oauth");
    let mode = std::fs::metadata(fx.json_path("main"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    assert!(
        !fx.json_path("main").with_extension("json.lock").exists(),
        "lock released"
    );
}
