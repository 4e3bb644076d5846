//! Retire and order clear where the order is not stored in one place: no stored order (the
//! gateway's automatic or configured order), and an agent overlay over the shared layer.

use serde_json::json;

use super::*;
use crate::support::fixtures::state_db_example;

/// The reference state-db example without a stored order (the automatic order applies).
fn without_stored_order() -> Fixture {
    let fx = Fixture::new();
    let (store, mut state) = state_db_example();
    state.as_object_mut().unwrap().shift_remove("order");
    fx.state_db(&store, Some(&state));
    fx
}

#[test]
fn retire_without_a_stored_order_stores_one_without_the_profile() {
    let fx = without_stored_order();
    let (alice, bob) = ("openai:alice@example.com", "openai:bob@example.com");
    let before = open(&fx).load().unwrap();
    assert!(
        before
            .effective_order("openai")
            .ids
            .contains(&bob.to_owned())
    );

    let plan = cli(&fx, &["--json", "retire", "bob@example.com", "--dry-run"]);
    plan.expect_code(0);
    let text = plan.json()["plan"].to_string();
    assert!(
        text.contains("no openai order is stored") && text.contains("out of service"),
        "{text}"
    );

    let run = cli(&fx, &["--json", "retire", "bob@example.com"]);
    run.expect_code(0);
    no_leak(&fx, &run);
    assert_eq!(run.json()["verified"], true, "{}", run.stdout);
    let after = open(&fx).load().unwrap();
    let (stored, _) = after.stored_order("openai").expect("an order is stored");
    assert_eq!(stored, vec![alice.to_owned()]);
    assert!(
        !after
            .effective_order("openai")
            .ids
            .contains(&bob.to_owned())
    );
    assert_eq!(after.last_good("openai").as_deref(), Some(alice));
    assert!(after.raw_profile(bob).is_some(), "the credential is kept");
}

#[test]
fn retire_follows_a_configured_order_and_refuses_the_last_profile() {
    let fx = without_stored_order();
    std::fs::write(
        fx.state_dir().join("openclaw.json"),
        json!({"auth": {"profiles": {"openai:alice@example.com": {"provider": "openai", "mode": "oauth"}}}})
            .to_string(),
    )
    .unwrap();
    // auth.profiles lists only alice: she is the only profile in service.
    let run = cli(&fx, &["--json", "retire", "alice@example.com"]);
    assert_ne!(run.code, 0, "{}", run.stdout);
    assert!(run.stdout.contains("only profile"), "{}", run.stdout);
}
