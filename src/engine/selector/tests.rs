//! Selector tests on hand-made profiles.

use super::*;

fn ids(v: &[&str]) -> Vec<ProfileId> {
    v.iter().map(|s| ProfileId::parse(s).unwrap()).collect()
}

fn profile(id: &str, email: Option<&str>, account: Option<&str>, plan: &str) -> CodexProfile {
    CodexProfile::for_tests(id, email, account, Some(plan))
}

const A1: &str = "11111111-aaaa-4bbb-8ccc-000000000001";
const A2: &str = "22222222-aaaa-4bbb-8ccc-000000000002";
const A3: &str = "33333333-aaaa-4bbb-8ccc-000000000003";

/// Two workspaces of alice, and ivy stored as `laptop`.
fn store() -> Vec<CodexProfile> {
    vec![
        profile(
            "openai:alice@example.com",
            Some("alice@example.com"),
            Some(A1),
            "plus",
        ),
        profile(
            "openai:alice@example.com-22222222",
            Some("alice@example.com"),
            Some(A2),
            "team",
        ),
        profile("openai:laptop", Some("ivy@example.com"), Some(A3), "pro"),
    ]
}

fn pick(text: &str) -> Result<Vec<ProfileId>, SelectError> {
    Selector::parse(text)?.resolve_profiles(&store(), &[])
}

#[test]
fn parses() {
    assert_eq!(Selector::parse(" all ").unwrap(), Selector::All);
    assert_eq!(Selector::parse("default").unwrap(), Selector::Default);
    assert!(matches!(
        Selector::parse("openai:a").unwrap(),
        Selector::Exact(_)
    ));
    assert!(matches!(
        Selector::parse("a@example.com").unwrap(),
        Selector::Suffix(_)
    ));
    assert_eq!(Selector::parse("  "), Err(SelectError::Empty));
}

#[test]
fn default_prefers_named_then_order_then_id() {
    let all = ids(&["openai:b", "openai:a", "openai:default"]);
    assert_eq!(
        Selector::Default.resolve(&all, &[]).unwrap(),
        ids(&["openai:default"])
    );
    let all = ids(&["openai:b", "openai:a"]);
    assert_eq!(
        Selector::Default
            .resolve(&all, &ids(&["openai:x", "openai:b"]))
            .unwrap(),
        ids(&["openai:b"])
    );
    assert_eq!(
        Selector::Default.resolve(&all, &[]).unwrap(),
        ids(&["openai:a"])
    );
}

#[test]
fn suffix_and_ambiguity() {
    let all = ids(&[
        "openai:alice@example.com",
        "openai:malice@example.com",
        "openai:bob@example.com",
    ]);
    assert_eq!(
        Selector::parse("alice@example.com")
            .unwrap()
            .resolve(&all, &[])
            .unwrap(),
        ids(&["openai:alice@example.com"])
    );
    let err = Selector::parse("example.com")
        .unwrap()
        .resolve(&all, &[])
        .unwrap_err();
    assert!(matches!(err, SelectError::Ambiguous { ref candidates, .. } if candidates.len() == 3));
    assert!(err.to_string().contains("openai:bob@example.com"));
    assert!(matches!(
        Selector::parse("carol").unwrap().resolve(&all, &[]),
        Err(SelectError::NoMatch { .. })
    ));
    assert_eq!(
        Selector::All.resolve(&[], &[]),
        Err(SelectError::NoProfiles)
    );
}

#[test]
fn an_email_selects_its_profile_whatever_the_id_in_any_case() {
    assert_eq!(pick("ivy@example.com").unwrap(), ids(&["openai:laptop"]));
    assert_eq!(pick(" IVY@Example.com ").unwrap(), ids(&["openai:laptop"]));
    assert_eq!(pick("laptop").unwrap(), ids(&["openai:laptop"]));
    assert_eq!(pick("OPENAI:LAPTOP").unwrap(), ids(&["openai:laptop"]));
}

#[test]
fn an_email_of_two_workspaces_is_ambiguous_and_lists_both() {
    let err = pick("alice@example.com").unwrap_err();
    let SelectError::Ambiguous { candidates, .. } = &err else {
        panic!("{err:?}")
    };
    let got: Vec<&str> = candidates.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        got,
        [
            "openai:alice@example.com",
            "openai:alice@example.com-22222222"
        ]
    );
    assert_eq!(err.kind(), FailureKind::NoMatch);
    assert_eq!(err.code(), "ambiguous_selector");
    let text = err.to_string();
    assert!(text.contains("team, account 2222…0002"), "{text}");
    // Every candidate works as a selector.
    for c in candidates {
        assert_eq!(pick(&c.id).unwrap(), ids(&[&c.id]));
    }
}

#[test]
fn every_label_and_account_form_selects_its_profile() {
    let store = store();
    let parts: Vec<LabelParts<'_>> = store.iter().map(LabelParts::of).collect();
    let labels = display_labels(&parts);
    assert_eq!(labels[1], "alice@example.com (team, account 2222…0002)");
    for (p, label) in store.iter().zip(&labels) {
        let want = vec![p.id.clone()];
        assert_eq!(pick(label).unwrap(), want, "{label}");
        assert_eq!(pick(&label.to_uppercase()).unwrap(), want, "{label}");
        let acct = p.account_id.as_deref().unwrap();
        assert_eq!(pick(acct).unwrap(), want);
        assert_eq!(pick(&short_account(acct)).unwrap(), want);
        assert_eq!(
            pick(&short_account(acct).replace('…', "...")).unwrap(),
            want
        );
    }
    // Extra spaces in a typed label do not matter.
    assert_eq!(
        pick("alice@example.com   (team,  account 2222…0002)").unwrap(),
        ids(&["openai:alice@example.com-22222222"])
    );
}

#[test]
fn no_match_suggests_close_names_that_work() {
    let err = pick("ivy").unwrap_err();
    assert_eq!(
        err,
        SelectError::NoMatch {
            given: "ivy".into(),
            suggestions: vec!["laptop".into()]
        }
    );
    assert!(err.to_string().contains("did you mean laptop?"), "{err}");
    let SelectError::NoMatch { suggestions, .. } = pick("alice@exampel.com").unwrap_err() else {
        panic!()
    };
    assert_eq!(
        suggestions,
        ["alice@example.com-22222222", "openai:alice@example.com"]
    );
    for s in &suggestions {
        assert_eq!(pick(s).unwrap().len(), 1, "{s}");
    }
    let SelectError::NoMatch { suggestions, .. } = pick("zzzzzzzz").unwrap_err() else {
        panic!()
    };
    assert!(suggestions.is_empty());
}

#[test]
fn at_most_three_suggestions_in_a_fixed_order() {
    let many: Vec<CodexProfile> = ["ann", "anne", "anna", "annie", "dan"]
        .iter()
        .map(|n| profile(&format!("openai:{n}"), None, None, "plus"))
        .collect();
    let err = Selector::parse("anm")
        .unwrap()
        .resolve_profiles(&many, &[])
        .unwrap_err();
    assert!(
        err.to_string().ends_with("did you mean ann, anna or anne?"),
        "{err}"
    );
    let SelectError::NoMatch { suggestions, .. } = err else {
        panic!()
    };
    assert_eq!(suggestions, ["ann", "anna", "anne"]);
}
