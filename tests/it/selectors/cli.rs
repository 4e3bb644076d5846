//! The regressions of issue 9 §2 through the real binary.

use super::{ALICE, ALICE_TEAM, LAPTOP, World, line_label};

#[test]
fn an_email_selects_a_profile_stored_under_another_name() {
    let w = World::new();
    // `usage` shows openai:laptop as ivy@example.com ...
    let r = w.run(&["usage"]);
    r.expect_code(0);
    assert!(
        r.stdout.lines().any(|l| line_label(l) == "ivy@example.com"),
        "{}",
        r.stdout
    );
    // ... and that name, in any case, selects it.
    assert_eq!(w.usage_ids("ivy@example.com"), [LAPTOP]);
    assert_eq!(w.usage_ids("IVY@Example.COM"), [LAPTOP]);
    // The same for the commands that change things.
    let r = w.run(&["--json", "retire", "ivy@example.com", "--dry-run"]);
    r.expect_code(0);
    let plan = r.json()["plan"].to_string();
    assert!(plan.contains(LAPTOP), "{plan}");
}

#[test]
fn an_email_of_two_workspaces_lists_both_and_exits_3() {
    let w = World::new();
    let r = w.run(&["usage", "--profile", "alice@example.com"]);
    r.expect_code(3);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    assert!(
        r.stderr.contains("matches more than one profile") && r.stderr.contains(ALICE_TEAM),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("team, account 2222…0002"), "{}", r.stderr);
    let r = w.run(&["--json", "usage", "--profile", "alice@example.com"]);
    r.expect_code(3);
    assert_eq!(r.json()["error"], "ambiguous_selector");
    // Nothing is retired on an ambiguous name.
    let r = w.run(&["retire", "alice@example.com"]);
    r.expect_code(3);
    let (_, state, _) = w.fx.state_db_cells();
    assert_eq!(state.unwrap()["order"]["openai"][0], ALICE);
    // Each candidate named works.
    assert_eq!(w.usage_ids(ALICE), [ALICE]);
    assert_eq!(w.usage_ids(ALICE_TEAM), [ALICE_TEAM]);
}

#[test]
fn no_match_suggests_names_that_each_work() {
    let w = World::new();
    let r = w.run(&["usage", "--profile", "alice@exampel.com"]);
    r.expect_code(3);
    let msg = r.stderr.trim();
    let asked = msg
        .split("did you mean ")
        .nth(1)
        .unwrap_or_else(|| panic!("no suggestion in {msg}"))
        .trim_end_matches('?');
    let suggestions: Vec<&str> = asked.split(" or ").collect();
    assert_eq!(suggestions, ["alice@example.com-22222222", ALICE], "{msg}");
    for s in suggestions {
        assert_eq!(w.usage_ids(s).len(), 1, "{s}");
    }
    let r = w.run(&["usage", "--profile", "ivy"]);
    r.expect_code(3);
    assert!(r.stderr.contains("did you mean laptop?"), "{}", r.stderr);
}

#[test]
fn same_email_workspaces_are_told_apart_in_profiles_and_usage() {
    let w = World::new();
    let r = w.run(&["profiles"]);
    r.expect_code(0);
    let row = |id: &str| {
        r.stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(id))
            .unwrap_or_else(|| panic!("no row for {id} in {}", r.stdout))
            .to_owned()
    };
    assert!(row(ALICE).contains("1111…0001"), "{}", r.stdout);
    assert!(row(ALICE_TEAM).contains("2222…0002"), "{}", r.stdout);
    assert!(r.stdout.contains("ACCOUNT"), "{}", r.stdout);

    let r = w.run(&["usage"]);
    r.expect_code(0);
    let labels: Vec<&str> = r.stdout.lines().map(line_label).collect();
    assert!(
        labels.contains(&"alice@example.com (plus, account 1111…0001)"),
        "{}",
        r.stdout
    );
    assert!(
        labels.contains(&"alice@example.com (team, account 2222…0002)"),
        "{}",
        r.stdout
    );
    // A check of one workspace still names it apart from the other.
    let r = w.run(&["usage", "--profile", ALICE_TEAM]);
    r.expect_code(0);
    assert!(
        r.stdout
            .starts_with("alice@example.com (team, account 2222…0002) · "),
        "{}",
        r.stdout
    );
}
