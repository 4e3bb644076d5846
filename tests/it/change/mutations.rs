//! Each mutation on each store format, the parsed store compared before and after: exactly
//! the intended change, nothing else. Plus overlays, lastGood repointing, refusals, dry runs
//! and a concurrent writer.

use codex_profiler::engine::change::ExecuteOptions;
use codex_profiler::engine::profile::ProfileId;
use codex_profiler::engine::store::{Change, LayerDocs, LayerScope};
use serde_json::{Value, json};

use super::*;
use crate::support::fixtures::{overlay_state_example, state_db_example};

fn pid(s: &str) -> ProfileId {
    ProfileId::parse(s).unwrap()
}

/// Drop an empty `order`/`lastGood` map: "no entries" and "no map" mean the same.
fn tidy(mut d: LayerDocs) -> LayerDocs {
    if let Some(o) = d.state.as_object_mut() {
        o.retain(|_, v| v.as_object().is_none_or(|m| !m.is_empty()));
    }
    d
}

/// Run `change` on a fresh example store of `format`; the one layer after must equal the one
/// before with `expect` applied.
fn check(format: Format, change: Change, expect: impl Fn(&mut Value, &mut Value)) {
    let fx = example_store(format);
    let before = docs(&fx);
    assert_eq!(before.len(), 1, "{format:?}: one layer");
    let report = run_change(&fx, change.clone(), &real("test"));
    assert!(
        report.verified,
        "{format:?} {change:?}: {:?}",
        report.differences
    );
    assert_eq!(report.written, vec![before[0].0.clone()], "{format:?}");
    let after = docs(&fx);
    let want = tidy(edited(&before[0].1, |s, st| expect(s, st)));
    assert_eq!(
        tidy(after[0].1.clone()).store,
        want.store,
        "{format:?} {change:?}: profiles"
    );
    assert_eq!(
        tidy(after[0].1.clone()).state,
        want.state,
        "{format:?} {change:?}: state"
    );
}

#[test]
fn every_mutation_on_every_format_changes_only_its_target() {
    for f in FORMATS {
        let p = f.provider();
        let (alice, bob) = (f.id("alice@example.com"), f.id("bob@example.com"));

        check(
            f,
            Change::SetOrder {
                provider: p.into(),
                ids: vec![pid(&alice), pid(&bob)],
            },
            |_, st| st["order"][p] = json!([alice, bob]),
        );
        check(f, Change::Retire { id: pid(&alice) }, |_, st| {
            st["order"][p] = json!([bob]);
        });
        // Retiring lastGood repoints it to the next profile of the order.
        check(f, Change::Retire { id: pid(&bob) }, |_, st| {
            st["order"][p] = json!([alice]);
            st["lastGood"][p] = json!(alice);
        });
        check(f, Change::ClearOrder { provider: p.into() }, |_, st| {
            st["order"].as_object_mut().unwrap().shift_remove(p);
        });
        // A login's write: one profile updated, its unknown fields kept.
        let fields = json!({"expires": 1_900_000_000_000_i64, "chatgptPlanType": "pro"});
        let fields = fields.as_object().unwrap().clone();
        check(
            f,
            Change::UpsertProfile {
                id: pid(&alice),
                fields: fields.clone(),
            },
            |s, _| {
                for (k, v) in &fields {
                    s["profiles"][&alice][k] = v.clone();
                }
            },
        );
    }
}

#[test]
fn delete_removes_the_credential_and_every_reference_on_every_format() {
    for f in FORMATS {
        let p = f.provider();
        let (alice, bob) = (f.id("alice@example.com"), f.id("bob@example.com"));
        let fx = example_store(f);
        let before = docs(&fx);
        let r = run_change(&fx, Change::Delete { id: pid(&bob) }, &real("delete"));
        assert!(r.verified, "{f:?}: {:?}", r.differences);
        let after = tidy(docs(&fx)[0].1.clone());
        assert!(after.store["profiles"].get(&bob).is_none(), "{f:?}");
        assert_eq!(after.state["order"][p], json!([alice]), "{f:?}");
        assert_ne!(after.state["lastGood"].get(p), Some(&json!(bob)), "{f:?}");
        assert!(after.state["usageStats"].get(&bob).is_none(), "{f:?}");
        // Everything else is as it was.
        let want = edited(&before[0].1, |s, st| {
            s["profiles"].as_object_mut().unwrap().shift_remove(&bob);
            st["usageStats"].as_object_mut().unwrap().shift_remove(&bob);
            st["order"][p] = json!([alice]);
        });
        let strip = |d: &LayerDocs| {
            let mut d = d.clone();
            d.state.as_object_mut().unwrap().shift_remove("lastGood");
            d
        };
        assert_eq!(strip(&after), strip(&tidy(want)), "{f:?}");
    }
}

#[test]
fn an_agent_overlay_that_owns_the_order_is_the_layer_written() {
    let fx = Fixture::new();
    let (store, state) = state_db_example();
    fx.state_db(&store, Some(&state));
    fx.agent_db("main", None, Some(&overlay_state_example()));
    let before = docs(&fx);
    assert_eq!(before.len(), 2);
    let overlay = before
        .iter()
        .find(|(l, _)| matches!(l.scope, LayerScope::Overlay { .. }))
        .unwrap()
        .0
        .clone();
    let run = cli(
        &fx,
        &[
            "--json",
            "order",
            "set",
            "bob@example.com",
            "alice@example.com",
        ],
    );
    run.expect_code(0);
    no_leak(&fx, &run);
    let out = run.json();
    assert_eq!(out["verified"], true, "{out:#}");
    assert_eq!(out["layer"]["scope"], "overlay", "{out:#}");
    assert_eq!(out["layer"]["agent"], "main");
    assert_eq!(out["store"]["format"], "state-db");
    let after = docs(&fx);
    assert_eq!(after[0], before[0], "the shared store is untouched");
    let o = after.iter().find(|(l, _)| *l == overlay).unwrap();
    assert_eq!(
        o.1.state["order"]["openai"],
        json!(["openai:bob@example.com", "openai:alice@example.com"])
    );
}

#[test]
fn retire_of_last_good_through_the_cli_repoints_it_and_names_the_layer() {
    let fx = example_store(Format::StateDb);
    let run = cli(&fx, &["--json", "retire", "bob@example.com"]);
    run.expect_code(0);
    no_leak(&fx, &run);
    let out = run.json();
    assert_eq!(out["verified"], true, "{out:#}");
    assert_eq!(out["layer"]["format"], "state-db");
    assert_eq!(out["backups"].as_array().unwrap().len(), 1);
    let snap = open(&fx).load().unwrap();
    assert_eq!(
        snap.last_good("openai").as_deref(),
        Some("openai:alice@example.com")
    );
    assert!(
        snap.raw_profile("openai:bob@example.com").is_some(),
        "credential kept"
    );
}

#[test]
fn dry_runs_write_nothing() {
    for f in [Format::StateDb, Format::JsonSingle] {
        let fx = example_store(f);
        let before = Untouched::of(&fx);
        for args in [
            vec!["retire", "bob@example.com", "--dry-run"],
            vec!["order", "set", "alice@example.com", "--dry-run"],
            vec!["order", "clear", "--dry-run"],
            vec!["delete", "bob@example.com", "--confirm", "--dry-run"],
            vec!["delete", "bob@example.com"],
        ] {
            let run = cli(&fx, &args);
            let want = if args.contains(&"--dry-run") { 0 } else { 4 };
            run.expect_code(want);
            assert!(
                run.stdout.contains("bob") || run.stdout.contains("order"),
                "{}",
                run.stdout
            );
            no_leak(&fx, &run);
            before.check(&fx, &format!("{f:?} {args:?} wrote something"));
        }
        // The check can fail: a real change is seen.
        cli(&fx, &["retire", "bob@example.com"]).expect_code(0);
        assert!(
            Untouched::of(&fx) != before,
            "{f:?}: a real write went unseen"
        );
    }
}

#[test]
fn missing_ambiguous_and_fenced_targets_are_refused_and_nothing_changes() {
    let fx = example_store(Format::StateDb);
    let before = Untouched::of(&fx);
    cli(&fx, &["retire", "carol@example.com"]).expect_code(3);
    let amb = cli(&fx, &["--json", "retire", "example.com"]);
    amb.expect_code(3);
    assert_eq!(amb.json()["error"], "ambiguous_selector");
    cli(&fx, &["order", "set", "openai:nobody"]).expect_code(3);
    before.check(&fx, "refused");

    // A refresh in flight: the gateway owns the profile.
    let (mut store, state) = state_db_example();
    let fence = "openclaw-oauth-refresh-fence:v1:abc";
    store["profiles"]["openai:bob@example.com"]["access"] = json!(fence);
    store["profiles"]["openai:bob@example.com"]["refresh"] = json!(fence);
    store["profiles"]["openai:bob@example.com"]["expires"] = json!(1);
    let fx = Fixture::new();
    fx.state_db(&store, Some(&state));
    let before = Untouched::of(&fx);
    let run = cli(&fx, &["--json", "delete", "bob@example.com", "--confirm"]);
    run.expect_code(5);
    assert_eq!(run.json()["error"], "profile_fenced");
    before.check(&fx, "refused");
}

#[test]
fn a_concurrent_change_between_preflight_and_apply_is_not_lost() {
    for f in [Format::StateDb, Format::JsonSingle] {
        let fx = example_store(f);
        let carol = f.id("carol@example.com");
        let hook = || {
            // Another writer adds a profile and a usage record behind our back.
            let store = open(&fx);
            let layer = store.layers()[0].clone();
            let mut d = store.read_layer(&layer).unwrap();
            d.store["profiles"][&carol] = json!({"type": "api_key", "provider": "x", "key": "k"});
            d.state["usageStats"][&carol] = json!({"lastUsed": 5});
            store.write_layer(&layer, &d).unwrap();
        };
        let opts = ExecuteOptions {
            action: "retire",
            before_apply: Some(&hook),
            ..ExecuteOptions::default()
        };
        let r = run_change(
            &fx,
            Change::Retire {
                id: pid(&f.id("alice@example.com")),
            },
            &opts,
        );
        assert!(r.verified, "{f:?}: {:?}", r.differences);
        let after = &docs(&fx)[0].1;
        assert!(after.store["profiles"].get(&carol).is_some(), "{f:?}: lost");
        assert_eq!(after.state["usageStats"][&carol]["lastUsed"], 5);
        assert_eq!(
            after.state["order"][f.provider()],
            json!([f.id("bob@example.com")])
        );
    }
}

/// `delete` without `--confirm` under `--json`: exit 4 and the error fields every refusal has
/// (`backups restore` without `--confirm` gives the same), beside the plan.
#[test]
fn delete_without_confirm_is_a_json_error_document() {
    let fx = example_store(Format::StateDb);
    let before = Untouched::of(&fx);
    let run = cli(&fx, &["--json", "delete", "bob@example.com"]);
    run.expect_code(4);
    let doc = run.json();
    assert_eq!(doc["ok"], false);
    assert_eq!(doc["error"], "confirmation_required", "{doc:#}");
    assert!(
        doc["message"]
            .as_str()
            .is_some_and(|m| m.contains("--confirm"))
    );
    assert_eq!(doc["confirmation_required"], true);
    no_leak(&fx, &run);
    before.check(&fx, "delete without --confirm wrote something");
}
