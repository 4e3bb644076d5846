//! Backups and restore: every change leaves a private backup recording format, path, layer
//! and both documents; `backups restore NAME --confirm` brings a deleted profile back.

use std::os::unix::fs::PermissionsExt;

use super::*;

#[test]
fn delete_then_restore_brings_the_profile_back() {
    for f in [Format::StateDb, Format::AgentDb, Format::JsonSplit] {
        let fx = example_store(f);
        let original = docs(&fx);
        let bob = f.id("bob@example.com");

        let del = cli(&fx, &["--json", "delete", "bob@example.com", "--confirm"]);
        del.expect_code(0);
        no_leak(&fx, &del);
        assert_eq!(del.json()["verified"], true, "{f:?}: {}", del.stdout);
        assert!(docs(&fx)[0].1.store["profiles"].get(&bob).is_none());

        let list = cli(&fx, &["--json", "backups", "list"]);
        list.expect_code(0);
        let backups = list.json()["backups"].as_array().unwrap().clone();
        assert_eq!(backups.len(), 1, "{f:?}");
        assert_eq!(backups[0]["action"], "delete");
        let name = backups[0]["name"].as_str().unwrap().to_owned();

        // The backup file: private, and it records what a restore needs.
        let dir = fx.state_dir().join("codex-profiler/backups");
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join(&name)), 0o600);
        let rec: Value = serde_json::from_slice(&std::fs::read(dir.join(&name)).unwrap()).unwrap();
        assert_eq!(rec["format"], original[0].0.format.as_str());
        assert_eq!(rec["path"], json!(original[0].0.path));
        assert!(rec["layer"].is_object());
        assert_eq!(rec["store"], original[0].1.store);
        assert_eq!(rec["state"], original[0].1.state);

        // Without --confirm: the plan and exit 4, nothing written.
        let before = Untouched::of(&fx);
        let ask = cli(&fx, &["backups", "restore", &name]);
        ask.expect_code(4);
        assert!(
            ask.stdout.contains("profiles.") && ask.stdout.contains(&bob),
            "{}",
            ask.stdout
        );
        before.check(&fx, "refused");

        let run = cli(&fx, &["--json", "backups", "restore", &name, "--confirm"]);
        run.expect_code(0);
        no_leak(&fx, &run);
        assert_eq!(run.json()["verified"], true, "{}", run.stdout);
        assert_eq!(docs(&fx), original, "{f:?}: restored exactly");
        // The restore took its own backup first.
        let n = cli(&fx, &["--json", "backups", "list"]).json()["backups"]
            .as_array()
            .unwrap()
            .len();
        assert_eq!(n, 2);
    }
}

#[test]
fn unknown_backup_names_are_refused() {
    let fx = example_store(Format::StateDb);
    let run = cli(
        &fx,
        &[
            "--json",
            "backups",
            "restore",
            "../../etc/passwd",
            "--confirm",
        ],
    );
    run.expect_code(3);
    assert_eq!(run.json()["error"], "no_such_backup");
    cli(
        &fx,
        &["backups", "restore", "20990101T000000000Z-x", "--confirm"],
    )
    .expect_code(3);
}

/// Simulate the gateway refreshing a profile: new access/refresh/expires in the layer that
/// holds it (refresh tokens are single-use, so the old one is now used up).
fn gateway_refreshes(fx: &Fixture, id: &str, access: &str, refresh: &str) {
    let store = open(fx);
    let (layer, d) = docs(fx)
        .into_iter()
        .find(|(_, d)| d.store["profiles"].get(id).is_some())
        .expect("a layer holds the profile");
    let new = edited(&d, |s, _| {
        s["profiles"][id]["access"] = json!(access);
        s["profiles"][id]["refresh"] = json!(refresh);
        s["profiles"][id]["expires"] = json!(1_900_000_000_000_i64);
    });
    store.write_layer(&layer, &new).expect("refresh written");
}

#[test]
fn restore_never_rolls_a_live_credential_back() {
    for f in [Format::StateDb, Format::AgentDb, Format::JsonSplit] {
        let fx = example_store(f);
        let alice = f.id("alice@example.com");
        let bob = f.id("bob@example.com");

        cli(&fx, &["--json", "delete", "bob@example.com", "--confirm"]).expect_code(0);
        let name = cli(&fx, &["--json", "backups", "list"]).json()["backups"][0]["name"]
            .as_str()
            .unwrap()
            .to_owned();
        let old_bob = open(&fx).load().unwrap();
        assert!(old_bob.raw_profile(&bob).is_none());
        // After the backup, the gateway refreshed alice: her backed-up refresh token is spent.
        gateway_refreshes(
            &fx,
            &alice,
            "NEW-ACCESS-ALICE-77",
            "rt_NEW_REFRESH_ALICE_77",
        );

        let plan = cli(&fx, &["--json", "backups", "restore", &name, "--dry-run"]);
        plan.expect_code(0);
        let text = plan.json()["plan"].to_string();
        assert!(
            text.contains(&format!("{alice} keeps its current credentials")),
            "{f:?}: {text}"
        );
        assert!(!text.contains(&format!("{bob} keeps")), "{f:?}: {text}");

        let run = cli(&fx, &["--json", "backups", "restore", &name, "--confirm"]);
        run.expect_code(0);
        assert_eq!(run.json()["verified"], true, "{f:?}: {}", run.stdout);
        let snap = open(&fx).load().unwrap();
        let a = snap.raw_profile(&alice).unwrap();
        assert_eq!(
            a["refresh"], "rt_NEW_REFRESH_ALICE_77",
            "{f:?}: rolled back"
        );
        assert_eq!(a["access"], "NEW-ACCESS-ALICE-77");
        assert_eq!(a["expires"], 1_900_000_000_000_i64);
        // The deleted profile comes back whole, with its order and lastGood.
        let b = snap.raw_profile(&bob).expect("bob restored");
        assert!(
            b["refresh"]
                .as_str()
                .unwrap()
                .starts_with("rt_FAKE_REFRESH_TOKEN_BOB")
        );
        assert_eq!(snap.last_good(f.provider()).as_deref(), Some(bob.as_str()));
    }
}

/// The preview a chat shows before the confirmation: a deleted profile comes back, one
/// logged in since goes, and the backup names the profile its change was about. Nothing is
/// written by looking.
#[test]
fn a_restore_preview_names_what_comes_back_and_what_goes() {
    let fx = example_store(Format::StateDb);
    let bob = Format::StateDb.id("bob@example.com");
    cli(&fx, &["delete", "bob@example.com", "--confirm"]).expect_code(0);
    let list = cli(&fx, &["--json", "backups", "list"]).json();
    let name = list["backups"][0]["name"].as_str().unwrap().to_owned();
    assert_eq!(list["backups"][0]["target"], json!(bob), "{list}");
    let store = open(&fx);
    let before = docs(&fx);
    let p = codex_profiler::engine::change::restore::preview(&store, &name).unwrap();
    assert_eq!(p.returning, std::slice::from_ref(&bob));
    assert!(
        p.leaving.is_empty() && p.kept_live.is_empty() && !p.unchanged,
        "{p:?}"
    );
    assert_eq!(p.action, "delete");
    assert_eq!(p.target.as_deref(), Some(bob.as_str()));
    assert_eq!(docs(&fx), before, "a preview writes nothing");
    // A profile that is in the store now and not in the backup would go.
    run_change(
        &fx,
        Change::UpsertProfile {
            id: codex_profiler::engine::profile::ProfileId::parse("openai:new@example.com")
                .unwrap(),
            fields: serde_json::from_value(json!({"type": "oauth", "provider": "openai",
                "access": "a.b.c", "refresh": "r", "expires": 1}))
            .unwrap(),
        },
        &real("login"),
    );
    let p = codex_profiler::engine::change::restore::preview(&store, &name).unwrap();
    assert_eq!(p.leaving, ["openai:new@example.com"]);
}
