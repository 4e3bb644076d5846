//! Each store format read from arbitrary JSON documents (nested, unknown fields, wrong types
//! where profiles and state belong): opening and loading never panics, in any format, with or
//! without an overlay; a load either fails with an error or reports every profile it could not
//! read in `skipped`.

use codex_profiler::engine::store::{Store, StoreChoice, StoreOptions};
use proptest::prelude::*;
use serde_json::Value;

use super::check_scaled;
use super::store_write::{Kind, build, kind};
use super::strategies::{json_object_with, json_value};
use crate::support::fixtures::Fixture;

/// The keys the store reader looks for, so junk lands where it matters.
pub const STORE_KEYS: &[&str] = &[
    "version",
    "profiles",
    "order",
    "lastGood",
    "usageStats",
    "type",
    "provider",
    "access",
    "refresh",
    "expires",
    "accountId",
    "email",
    "chatgptPlanType",
    "openai:a",
    "openai:b",
    "openai-codex:c",
    "anthropic:x",
    "lastUsed",
    "errorCount",
    "cooldownUntil",
    "blockedUntil",
    "disabledUntil",
    "oauth",
    "openai",
    "openai-codex",
];

fn document() -> BoxedStrategy<Value> {
    prop_oneof![4 => json_object_with(STORE_KEYS, 4), 1 => json_value()].boxed()
}

#[test]
fn any_document_in_any_format_never_panics() {
    let input = (kind(), document(), document(), prop::option::of(document()));
    check_scaled(4, input, |(kind, store, state, overlay)| {
        let fx = Fixture::new();
        build(&fx, &kind, &store, &state);
        if let (Some(o), Kind::StateDb) = (&overlay, &kind) {
            fx.agent_db("main", None, Some(o));
        }
        let opened = Store::open(StoreOptions {
            state_dir: fx.state_dir(),
            agent: "main".into(),
            choice: StoreChoice::Auto,
            auth_path: None,
        });
        if let Ok(s) = opened
            && let Ok(snap) = s.load()
        {
            // Everything the reader kept is a Codex profile with a well-formed id.
            for p in &snap.codex {
                prop_assert!(p.id.as_str().contains(':'));
            }
            let _ = snap.effective_order(s.codex_provider().as_str());
        }
        Ok(())
    });
}
