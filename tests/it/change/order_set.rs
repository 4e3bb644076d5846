//! `order set` (issue 9 §1): every stored profile of the provider may be named (token and
//! api_key ones too, as `openclaw models auth order set` accepts), the profiles the new order
//! takes out of service are named (dry run too), and an order for a provider the gateway does
//! not read for this store is refused with the reason, nothing written.

use serde_json::json;

use super::*;
use crate::support::fixtures::oauth_profile;

const LATER: i64 = 1_900_000_000_000;

/// openai:work and openai:spare (OAuth), openai:tok (token), openai:key (api_key), and an
/// anthropic profile; no stored order.
fn mixed() -> Fixture {
    let fx = Fixture::new();
    fx.state_db(
        &json!({"version": 1, "profiles": {
            "openai:work": oauth_profile("openai", "work@example.com", "acct-work", "plus", LATER),
            "openai:spare": oauth_profile("openai", "spare@example.com", "acct-spare", "plus", LATER),
            "openai:tok": {"type": "token", "provider": "openai", "token": "tok-FIXTURE-1234567"},
            "openai:key": {"type": "api_key", "provider": "openai", "key": "sk-FIXTURE-1234567"},
            "anthropic:x": {"type": "api_key", "provider": "anthropic", "key": "sk-ant-FIXTURE-1"}
        }}),
        Some(&json!({"version": 1})),
    );
    fx
}

#[test]
fn order_set_takes_token_profiles_and_names_who_leaves_service() {
    let fx = mixed();
    let before = Untouched::of(&fx);
    let dry = cli(
        &fx,
        &[
            "--json",
            "order",
            "set",
            "openai:work",
            "openai:tok",
            "--dry-run",
        ],
    );
    dry.expect_code(0);
    no_leak(&fx, &dry);
    before.check(&fx, "a dry run");
    let doc = dry.json();
    assert_eq!(
        doc["leaving_service"],
        json!(["openai:spare", "openai:key"]),
        "{doc:#}"
    );
    let plan = doc["plan"].to_string();
    assert!(
        plan.contains("openai:spare, openai:key leave service"),
        "{plan}"
    );

    let text = cli(
        &fx,
        &["order", "set", "openai:work", "openai:tok", "--dry-run"],
    );
    assert!(
        text.expect_code(0)
            .stdout
            .contains("openai:spare, openai:key leave service"),
        "{}",
        text.stdout
    );

    let run = cli(
        &fx,
        &["--json", "order", "set", "openai:work", "openai:tok"],
    );
    run.expect_code(0);
    assert_eq!(run.json()["verified"], true, "{}", run.stdout);
    let snap = open(&fx).load().unwrap();
    assert_eq!(
        snap.stored_order("openai").unwrap().0,
        ["openai:work", "openai:tok"]
    );
    assert_eq!(
        snap.effective_order("openai").ids,
        ["openai:work", "openai:tok"]
    );

    // A profile of another provider is refused, with the reason.
    let other = cli(&fx, &["order", "set", "openai:work", "anthropic:x"]);
    other.expect_code(5);
    assert!(
        other
            .stderr
            .contains("anthropic:x is for anthropic, not openai"),
        "{}",
        other.stderr
    );
}

#[test]
fn an_order_for_a_provider_the_gateway_does_not_use_is_refused() {
    let fx = mixed();
    let before = Untouched::of(&fx);
    for extra in [&[][..], &["--dry-run"][..]] {
        let mut args = vec!["order", "set", "openai:work", "--provider", "openai-codex"];
        args.extend_from_slice(extra);
        let run = cli(&fx, &args);
        run.expect_code(5);
        assert!(
            run.stderr
                .contains("the gateway does not use provider openai-codex for a database store"),
            "{}",
            run.stderr
        );
        assert!(!run.stdout.contains("in effect"), "{}", run.stdout);
    }
    before.check(&fx, "a refused order");
}

/// The members of `order set` resolve like every other selector (one resolver for the CLI and
/// the chat): an email or label names its OAuth profile, a name or id end names a token
/// profile, `all` and an unknown name are refused with nothing written.
#[test]
fn order_set_members_are_named_by_email_as_well_as_by_id() {
    let fx = mixed();
    let before = Untouched::of(&fx);
    cli(&fx, &["order", "set", "work@example.com", "nobody"]).expect_code(3);
    cli(&fx, &["order", "set", "all"]).expect_code(2);
    before.check(&fx, "a refused order set");
    cli(&fx, &["order", "set", "spare@example.com", "work", "tok"]).expect_code(0);
    let (_, state, _) = fx.state_db_cells();
    let state = state.expect("state");
    assert_eq!(
        state["order"]["openai"],
        json!(["openai:spare", "openai:work", "openai:tok"])
    );
}
