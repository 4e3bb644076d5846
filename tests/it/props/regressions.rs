//! Plain regression tests for what the properties found, one per defect, each failing on the
//! code as it was found.

use codex_profiler::engine::profile::ProfileId;
use codex_profiler::engine::store::Change;
use rusqlite::Connection;
use serde_json::json;

use crate::support::fixtures::{Fixture, oauth_profile};

/// An unknown float field must survive a write digit for digit: serde_json's default float
/// parser may be off by one unit in the last place, and a retire then wrote
/// `918065.9863966376` back into `usageStats` where the gateway had stored
/// `918065.9863966377`.
#[test]
fn a_write_keeps_unknown_floats_to_the_last_digit() {
    let fx = Fixture::new();
    let alice = oauth_profile(
        "openai",
        "a@example.com",
        "acc-1",
        "plus",
        1_796_170_000_000,
    );
    let bob = oauth_profile(
        "openai",
        "b@example.com",
        "acc-2",
        "plus",
        1_796_170_000_000,
    );
    let store = json!({"version": 1, "profiles": {"openai:a@example.com": alice, "openai:b@example.com": bob}});
    let state = json!({"version": 1,
        "order": {"openai": ["openai:a@example.com", "openai:b@example.com"]},
        "usageStats": {"openai:a@example.com": {"x": [{"": 918_065.986_396_637_7}]}}});
    fx.state_db(&store, Some(&state));
    let s = crate::store::open_auto(&fx.state_dir());
    let id = ProfileId::parse("openai:b@example.com").unwrap();
    s.apply(&Change::Retire { id }).unwrap();
    let conn = Connection::open(fx.state_db_path()).unwrap();
    let cell: String = conn
        .query_row(
            "SELECT value_json FROM config_machine_state WHERE state_key = 'authProfiles.state'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(cell.contains("918065.9863966377"), "{cell}");
}
