//! Plans that say what is written (issue 9 §3): every layer a change writes is named in the
//! plan, direct and through the gateway; the backup covers exactly those layers, taken before
//! the write; and a change that would write nothing takes no backup and says so.

use codex_profiler::engine::profile::ProfileId;
use codex_profiler::engine::store::LayerScope;
use serde_json::Map;

use super::*;
use crate::support::fixtures::{oauth_profile, overlay_state_example};

/// The state-db example (order bob, alice; lastGood bob) with agent main's overlay holding
/// its own order (alice, bob).
fn with_overlay_order() -> Fixture {
    let fx = Fixture::new();
    let (store, state) = state_db_example();
    fx.state_db(&store, Some(&state));
    fx.agent_db("main", None, Some(&overlay_state_example()));
    fx
}

fn backup_files(fx: &Fixture) -> Vec<String> {
    let dir = fx.state_dir().join("codex-profiler/backups");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// The sorted paths of a JSON list of layers (`planned_layers`, `written`).
pub(super) fn paths(layers: &Value) -> Vec<String> {
    let mut out: Vec<String> = layers
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["path"].as_str().unwrap().to_owned())
        .collect();
    out.sort();
    out
}

/// A login into the shared store while an agent overlay exists: the backup is the shared
/// layer only (the overlay is not written), and it holds the store as it was before.
#[test]
fn a_login_into_the_shared_store_backs_up_only_that_layer_before_writing() {
    let fx = with_overlay_order();
    let before = docs(&fx);
    let shared = before
        .iter()
        .find(|(l, _)| l.scope == LayerScope::Shared)
        .unwrap()
        .clone();
    let mut fields = Map::new();
    let p = oauth_profile(
        "openai",
        "carol@example.com",
        "acct-c",
        "plus",
        4_102_444_800_000,
    );
    for (k, v) in p.as_object().unwrap() {
        fields.insert(k.clone(), v.clone());
    }
    let id = ProfileId::parse("openai:carol@example.com").unwrap();
    let r = run_change(&fx, Change::UpsertProfile { id, fields }, &real("login"));
    assert!(r.verified, "{r:?}");
    assert_eq!(r.planned_layers, vec![shared.0.clone()], "{r:?}");
    assert_eq!(r.written, vec![shared.0.clone()], "{r:?}");
    assert_eq!(r.backups.len(), 1, "{r:?}");
    let b = codex_profiler::engine::change::backup::read(&fx.state_dir(), &r.backups[0]).unwrap();
    assert_eq!(b.path, shared.0.path);
    assert_eq!(
        b.store.as_ref(),
        Some(&shared.1.store),
        "taken before the write"
    );
    assert!(!b.store.unwrap().to_string().contains("carol@example.com"));
}

/// Retiring bob writes two layers (the overlay's order, the shared order and lastGood): the
/// plan names both, the backups cover both, and the written layers are those.
#[test]
fn a_retire_that_writes_two_layers_names_both() {
    let fx = with_overlay_order();
    let plan = cli(&fx, &["--json", "retire", "bob@example.com", "--dry-run"]);
    plan.expect_code(0);
    let p = plan.json();
    let text = p["plan"].to_string();
    assert!(text.contains("writes 2 layers"), "{text}");
    assert!(
        text.contains("the shared state-db store") && text.contains("agent main's overlay"),
        "{text}"
    );
    assert_eq!(p["planned_layers"].as_array().unwrap().len(), 2, "{p:#}");

    let run = cli(&fx, &["--json", "retire", "bob@example.com"]);
    run.expect_code(0);
    no_leak(&fx, &run);
    let out = run.json();
    assert_eq!(out["verified"], true, "{out:#}");
    assert_eq!(
        paths(&out["written"]),
        paths(&out["planned_layers"]),
        "{out:#}"
    );
    assert_eq!(out["backups"].as_array().unwrap().len(), 2, "{out:#}");
    assert_eq!(backup_files(&fx).len(), 2);

    // The text plan says so too.
    let fx = with_overlay_order();
    let run = cli(&fx, &["retire", "bob@example.com", "--dry-run"]);
    run.expect_code(0);
    assert!(run.stdout.contains("writes 2 layers"), "{}", run.stdout);
}

/// `--via-gateway` plans name the layer `openclaw` writes: its order commands write the
/// agent's own overlay, even for main and where only the shared layer holds an order; logout
/// rewrites every layer that names the profile.
#[test]
fn gateway_plans_name_the_layers_openclaw_writes() {
    let fx = example_store(Format::StateDb);
    let overlay = fx.agent_db_path("main");
    let run = cli(
        &fx,
        &[
            "--json",
            "order",
            "set",
            "alice@example.com",
            "--via-gateway",
            "--dry-run",
        ],
    );
    run.expect_code(0);
    let out = run.json();
    assert_eq!(
        paths(&out["planned_layers"]),
        vec![overlay.to_string_lossy().into_owned()]
    );
    let text = out["plan"].to_string();
    assert!(
        text.contains("writes 1 layer: agent main's overlay"),
        "{text}"
    );

    let fx = with_overlay_order();
    let run = cli(
        &fx,
        &[
            "--json",
            "delete",
            "bob@example.com",
            "--confirm",
            "--via-gateway",
            "--dry-run",
        ],
    );
    run.expect_code(0);
    let out = run.json();
    let text = out["plan"].to_string();
    assert!(
        text.contains("`openclaw models auth logout` writes 2 layers")
            && text.contains("the shared state-db store")
            && text.contains("agent main's overlay"),
        "{text}"
    );
}

/// Retiring a profile that is already retired writes nothing: exit 0, "nothing to change",
/// no backup file, the store untouched.
#[test]
fn a_no_op_retire_takes_no_backup_and_says_so() {
    for format in [Format::StateDb, Format::JsonSingle] {
        let fx = example_store(format);
        cli(&fx, &["retire", "alice@example.com"]).expect_code(0);
        let backups = backup_files(&fx);
        assert_eq!(backups.len(), 1, "{format:?}");
        let untouched = Untouched::of(&fx);

        let run = cli(&fx, &["retire", "alice@example.com"]);
        run.expect_code(0);
        assert!(run.stdout.contains("nothing to change"), "{}", run.stdout);
        assert!(!run.stdout.contains("backup: 20"), "{}", run.stdout);
        let run = cli(&fx, &["--json", "retire", "alice@example.com"]);
        run.expect_code(0);
        let out = run.json();
        assert_eq!(out["nothing_to_change"], true, "{out:#}");
        assert_eq!(out["backups"], json!([]), "{out:#}");
        assert_eq!(out["written"], json!([]), "{out:#}");
        assert!(out["plan"].to_string().contains("nothing to change"));
        assert_eq!(backup_files(&fx), backups, "{format:?}: no new backup");
        untouched.check(&fx, "a no-op retire");
    }
}
