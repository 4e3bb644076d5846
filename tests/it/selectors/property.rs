//! The property: every label and id the product prints in `profiles`, in `usage` text lines
//! (and `formatted_profiles`) resolves back to exactly that profile. The chat selector's
//! labels get the same check in `chat::selectors`.

use std::collections::BTreeMap;

use super::{ALICE, ALICE_TEAM, LAPTOP, World, line_label};

#[test]
fn every_printed_label_and_id_selects_exactly_its_profile() {
    let w = World::new();
    // What each printed name must select.
    let mut printed: BTreeMap<String, String> = BTreeMap::new();

    // `profiles`: the ID and ACCOUNT columns, and EMAIL where it names one profile.
    let r = w.run(&["profiles"]);
    r.expect_code(0);
    let mut lines = r.stdout.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (id_c, email_c, acct_c) = (col("ID"), col("EMAIL"), col("ACCOUNT"));
    let rows: Vec<Vec<&str>> = lines
        .take_while(|l| !l.starts_with("store:"))
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows.len(), 3, "{}", r.stdout);
    for row in &rows {
        let id = row[id_c].to_owned();
        printed.insert(id.clone(), id.clone());
        printed.insert(row[acct_c].to_owned(), id.clone());
        let email = row[email_c];
        if rows.iter().filter(|o| o[email_c] == email).count() == 1 {
            printed.insert(email.to_owned(), id);
        }
    }

    // `usage` text lines and the JSON document's lines: the label of each line.
    let r = w.run(&["usage"]);
    r.expect_code(0);
    let text_labels: Vec<String> = r
        .stdout
        .lines()
        .filter(|l| l.contains(" · "))
        .map(|l| line_label(l).to_owned())
        .collect();
    let r = w.run(&["usage", "--format", "json"]);
    r.expect_code(0);
    let doc = r.json();
    let ids: Vec<String> = doc["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["profile"].as_str().unwrap().to_owned())
        .collect();
    let json_labels: Vec<String> = doc["formatted_profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| line_label(l.as_str().unwrap()).to_owned())
        .collect();
    assert_eq!(text_labels, json_labels);
    assert_eq!(ids, [ALICE, ALICE_TEAM, LAPTOP]);
    for (label, id) in json_labels.iter().zip(&ids) {
        printed.insert(label.clone(), id.clone());
    }
    // Labels are distinct, and so every printed name maps to one profile.
    let mut distinct = json_labels.clone();
    distinct.dedup();
    assert_eq!(distinct.len(), 3, "{json_labels:?}");

    assert_eq!(printed.len(), 9, "{printed:?}");
    for (name, id) in &printed {
        assert_eq!(
            &w.usage_ids(name),
            std::slice::from_ref(id),
            "`{name}` should select {id}"
        );
    }
}
