//! `--yes` is accepted wherever `--confirm` is: both spellings really delete.

use super::{Format, cli, docs, example_store};

#[test]
fn delete_takes_confirm_and_yes_alike() {
    for flag in ["--confirm", "--yes"] {
        let fx = example_store(Format::StateDb);
        let run = cli(&fx, &["--json", "delete", "bob@example.com", flag]);
        run.expect_code(0);
        let after = &docs(&fx)[0].1;
        assert!(
            after.store["profiles"]
                .get(Format::StateDb.id("bob@example.com"))
                .is_none(),
            "{flag}: bob is still stored"
        );
        assert!(
            after.store["profiles"]
                .get(Format::StateDb.id("alice@example.com"))
                .is_some(),
            "{flag}: alice was lost"
        );
    }
    // The help shows the alias, so people find it.
    let fx = example_store(Format::StateDb);
    let help = cli(&fx, &["delete", "--help"]);
    assert!(help.stdout.contains("--yes"), "{}", help.stdout);
}
