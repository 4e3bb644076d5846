//! Retire and order clear where the order is not stored in one place: no stored order (the
//! gateway's automatic or configured order), and an agent overlay over the shared layer.

use serde_json::json;

use super::*;
use codex_profiler::engine::store::LayerScope;

use crate::support::fixtures::{overlay_state_example, state_db_example};

/// The reference example with an agent overlay that holds its own order (alice, bob) over
/// the shared one (bob, alice).
fn with_overlay_order() -> Fixture {
    let fx = Fixture::new();
    let (store, state) = state_db_example();
    fx.state_db(&store, Some(&state));
    fx.agent_db("main", None, Some(&overlay_state_example()));
    fx
}

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

#[test]
fn order_clear_clears_only_the_layer_the_order_comes_from() {
    let fx = with_overlay_order();
    let before = docs(&fx);
    let shared_order = before[0].1.state["order"]["openai"].clone();
    assert!(shared_order.is_array());

    let plan = cli(&fx, &["order", "clear", "--dry-run"]);
    plan.expect_code(0);
    assert!(plan.stdout.contains("overlay"), "{}", plan.stdout);
    assert!(
        plan.stdout
            .contains("then follows the stored order in the shared"),
        "{}",
        plan.stdout
    );

    let run = cli(&fx, &["--json", "order", "clear"]);
    run.expect_code(0);
    no_leak(&fx, &run);
    let out = run.json();
    assert_eq!(out["verified"], true, "{out:#}");
    assert_eq!(out["layer"]["scope"], "overlay", "{out:#}");
    let after = docs(&fx);
    assert_eq!(after[0], before[0], "the shared layer keeps its order");
    let overlay = after
        .iter()
        .find(|(l, _)| matches!(l.scope, LayerScope::Overlay { .. }))
        .unwrap();
    assert!(overlay.1.state["order"].get("openai").is_none());
    // The order now in effect is the shared one, and the report says so.
    assert_eq!(out["order_in_effect"]["source"], "store", "{out:#}");
    assert_eq!(
        out["order_in_effect"]["layer"]["scope"], "shared",
        "{out:#}"
    );
    let text = cli(&fx, &["order", "clear"]);
    text.expect_code(0);
    assert!(
        text.stdout.contains("order now in effect (automatic"),
        "{}",
        text.stdout
    );
}

/// Retiring the last profile a stored order names would empty the order, and the gateway
/// would fall back to its automatic order: every stored profile in service again, the ones
/// retired before included. That retire is refused and nothing is written.
#[test]
fn retiring_the_last_profile_of_a_stored_order_is_refused() {
    let fx = without_stored_order();
    cli(&fx, &["--json", "retire", "bob@example.com"]).expect_code(0);
    let before = Untouched::of(&fx);
    let run = cli(&fx, &["--json", "retire", "alice@example.com"]);
    run.expect_code(5);
    no_leak(&fx, &run);
    assert_eq!(run.json()["error"], "change_refused", "{}", run.stdout);
    assert!(
        run.stderr
            .contains("last profile of the stored openai order"),
        "{}",
        run.stderr
    );
    before.check(&fx, "refused");
    let after = open(&fx).load().unwrap();
    assert_eq!(
        after.effective_order("openai").ids,
        vec!["openai:alice@example.com".to_owned()],
        "bob stays retired"
    );
}
