//! A new login where the provider has a stored order: the new profile joins that order
//! (otherwise the gateway never uses it), and `doctor` names profiles a stored order leaves
//! out.

use codex_profiler::engine::store::{Store, StoreChoice, StoreOptions};

use crate::support::oauth_server::Account;

use super::env::{Env, Kind};

/// The stored order of the store's Codex provider, read as the gateway reads it.
fn stored_order(env: &Env) -> Vec<String> {
    let store = Store::open(StoreOptions {
        state_dir: env.state.clone(),
        agent: "main".into(),
        choice: StoreChoice::Auto,
        auth_path: None,
    })
    .unwrap();
    let provider = store.codex_provider();
    let snap = store.load().unwrap();
    snap.stored_order(provider.as_str())
        .map(|(ids, _)| ids)
        .unwrap_or_default()
}

#[test]
fn a_new_login_joins_the_stored_order() {
    for kind in [Kind::StateDb, Kind::Json] {
        let env = Env::new(kind);
        let before = stored_order(&env);
        assert_eq!(before.len(), 2, "{kind:?}: the example stores an order");
        let j = env.login(
            "carol",
            Account::new(
                "33333333-aaaa-4bbb-8ccc-000000000003",
                "carol@example.com",
                "plus",
            ),
        );
        let id = j["profile"].as_str().unwrap().to_owned();
        assert_eq!(j["new_profile"], true);
        assert_eq!(j["verified"], true, "{kind:?}: {j}");
        let mut want = before.clone();
        want.push(id.clone());
        assert_eq!(j["order"], serde_json::json!(want), "{kind:?}: {j}");
        assert_eq!(stored_order(&env), want, "{kind:?}");

        // Nothing left out now: no doctor finding.
        let d = env.run(&["--json", "doctor"]);
        assert!(
            !d.stdout.contains("left_out_of_stored_order"),
            "{kind:?}: {}",
            d.stdout
        );
        // Logging the same account in again updates it and leaves the order alone.
        let j = env.login(
            "carol",
            Account::new(
                "33333333-aaaa-4bbb-8ccc-000000000003",
                "carol@example.com",
                "plus",
            ),
        );
        assert_eq!(j["new_profile"], false);
        assert!(j["order"].is_null());
        assert_eq!(stored_order(&env), want);
    }
}

#[test]
fn doctor_names_profiles_a_stored_order_leaves_out() {
    let env = Env::new(Kind::StateDb);
    env.run(&["order", "set", "openai:alice@example.com"])
        .expect_code(0);
    let d = env.run(&["--json", "doctor"]);
    let j = d.json();
    let f = j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "left_out_of_stored_order")
        .unwrap_or_else(|| panic!("{}", d.stdout))
        .clone();
    assert!(
        f["title"]
            .as_str()
            .unwrap()
            .contains("openai:bob@example.com"),
        "{f}"
    );
    assert_eq!(
        f["fix"],
        "codex-profiler order set openai:alice@example.com openai:bob@example.com"
    );
    let text = env.run(&["doctor"]);
    assert!(text.stdout.contains("never used"), "{}", text.stdout);
}
