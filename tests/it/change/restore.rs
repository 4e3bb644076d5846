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
