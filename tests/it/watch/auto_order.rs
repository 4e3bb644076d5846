//! Auto-order after a watcher round (issue 10 item 4 through item 3): with
//! `CODEX_PROFILER_AUTO_ORDER` set, a round whose first profile is limited writes the new order
//! through the change pipeline and the change set says what moved; `--dry-run` only says it.

use super::*;

fn round(g: &Gateway, server: &UsageServer, args: &[&str]) -> Run {
    let state = g.fx.state_arg();
    let mut all = vec!["--state-dir", state.as_str(), "--json", "watch", "--once"];
    all.extend_from_slice(args);
    let r = run(
        g.fx.home(),
        &[
            ("CODEX_PROFILER_USAGE_URL", &server.url),
            ("CODEX_PROFILER_AUTO_ORDER", "most-left"),
        ],
        &all,
    );
    let secrets = g.secrets();
    let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
    r.assert_no_secret(&refs);
    r
}

fn stored_order(g: &Gateway) -> Value {
    let (_, state, _) = g.fx.state_db_cells();
    state
        .map(|s| s["order"]["openai"].clone())
        .unwrap_or(Value::Null)
}

#[test]
fn a_limited_first_profile_is_moved_after_the_round_and_the_change_set_says_so() {
    let g = Gateway::new(None);
    let server = g.server(used(100.0), used(10.0));
    round(&g, &server, &[]).expect_code(0);
    // The first round records; a reorder it makes is written too (alice is limited now).
    let before = stored_order(&g);
    assert!(
        before == json!([ALICE, BOB]) || before == json!([BOB, ALICE]),
        "{before}"
    );
    let g = Gateway::new(None);
    let server = g.server(used(100.0), used(10.0));
    round(&g, &server, &["--dry-run"]).expect_code(0);
    let dry = round(&g, &server, &["--dry-run"]);
    let doc = dry.expect_code(0).json();
    let ev = doc["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "reordered")
        .cloned()
        .unwrap_or_else(|| panic!("{doc:#}"));
    assert_eq!(ev["dry_run"], true);
    assert_eq!(ev["to"], json!([BOB, ALICE]));
    assert_eq!(
        stored_order(&g),
        json!([ALICE, BOB]),
        "a dry run writes nothing"
    );

    let done = round(&g, &server, &[]);
    let doc = done.expect_code(0).json();
    let ev = doc["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "reordered")
        .cloned()
        .unwrap_or_else(|| panic!("{doc:#}"));
    assert_eq!(ev["dry_run"], false);
    assert!(ev["backup"].is_string(), "{ev:#}");
    assert_eq!(stored_order(&g), json!([BOB, ALICE]));
    // The next round: the first need not change, nothing is written or said.
    let again = round(&g, &server, &[]);
    let doc = again.expect_code(0).json();
    assert!(
        !doc["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "reordered"),
        "{doc:#}"
    );
}
