//! Issue 9 §5: local health and the effective order are computed once per snapshot, so
//! `profiles` grows with the store like a bare parse does. The old `Snapshot::health`
//! recomputed the order per profile (with a quadratic dedupe): `profiles` took 13 s on 2,000
//! profiles, hundreds of times a bare parse. The bound here is loose (debug build, shared
//! machine); `cargo bench --bench store` measures the real ratios.

use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use super::open_auto;
use crate::support::fixtures::{Fixture, oauth_profile};

const N: usize = 2_000;

fn best_of(n: usize, mut f: impl FnMut()) -> Duration {
    (0..n)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}

#[test]
fn health_for_every_profile_costs_about_a_parse() {
    let fx = Fixture::new();
    let now = 1_795_300_000_000_i64;
    let mut profiles = Map::new();
    let mut stats = Map::new();
    let mut order = Vec::new();
    for i in 0..N {
        let email = format!("user{i:05}@example.com");
        let id = format!("openai:{email}");
        let p = oauth_profile("openai", &email, &format!("a{i}"), "plus", now + 86_400_000);
        profiles.insert(id.clone(), p);
        stats.insert(id.clone(), json!({"lastUsed": now - i as i64, "cooldownUntil": if i % 7 == 0 { now + 1 } else { 0 }}));
        order.push(Value::String(id));
    }
    let store = json!({"version": 1, "profiles": profiles});
    let state = json!({"version": 1, "order": {"openai": order}, "usageStats": stats});
    fx.state_db(&store, Some(&state));
    let (store_text, state_text) = (store.to_string(), state.to_string());

    let bare = best_of(3, || {
        std::hint::black_box(serde_json::from_str::<Value>(&store_text).unwrap());
        std::hint::black_box(serde_json::from_str::<Value>(&state_text).unwrap());
    });
    let engine = best_of(3, || {
        let snap = open_auto(&fx.state_dir()).load().unwrap();
        let in_order = snap
            .codex
            .iter()
            .filter(|p| snap.health(p, now).in_order)
            .count();
        assert_eq!(in_order, N);
    });
    let ratio = engine.as_secs_f64() / bare.as_secs_f64();
    eprintln!("{N} profiles: bare parse {bare:?}, load + health {engine:?} ({ratio:.1}x)");
    assert!(
        ratio < 40.0,
        "load + health of {N} profiles took {engine:?}, {ratio:.0}x a bare parse ({bare:?})"
    );
}
