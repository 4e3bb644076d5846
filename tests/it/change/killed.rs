//! The real CLI killed with SIGKILL in a loop while it writes (issue 13, fault tests), in every
//! store format: after each kill the store is whole, either as it was or as the change made
//! it, never torn, and everything but the order is as it was; the next change goes through
//! (no stuck lock); and once it has, no lock or temp file (a copy of the tokens) is left.
//! (`store::concurrency` kills library writers mid-upsert; this is the whole pipeline:
//! preflight, backup, apply, verify.)

use std::time::Duration;

use super::*;

/// The order the example store has, and the one the change writes.
fn orders(format: Format) -> [Value; 2] {
    let (a, b) = (format.id("alice@example.com"), format.id("bob@example.com"));
    [json!([b.clone(), a.clone()]), json!([a, b])]
}

/// The Codex order of the fixture's one layer, and the layer with the order removed.
fn order_and_rest(fx: &Fixture, format: Format) -> (Value, LayerDocs) {
    let layers = docs(fx);
    assert_eq!(layers.len(), 1, "{format:?}: one layer");
    let d = layers[0].1.clone();
    let order = d.state["order"][format.provider()].clone();
    let rest = edited(&d, |_, state| {
        if let Some(o) = state.as_object_mut() {
            o.shift_remove("order");
            o.shift_remove("lastGood");
        }
    });
    (order, rest)
}

#[test]
fn a_cli_killed_in_a_loop_mid_write_never_tears_the_store() {
    for format in FORMATS {
        let fx = example_store(format);
        let [before, after] = orders(format);
        let (order, rest) = order_and_rest(&fx, format);
        assert_eq!(order, before, "{format:?}");
        let (a, b) = (format.id("alice@example.com"), format.id("bob@example.com"));
        let state = fx.state_arg();
        let mut outcomes = Vec::new();
        for round in 0..10u64 {
            // Alternate the two orders, so a write that landed is visible.
            let (first, second) = if round % 2 == 0 { (&a, &b) } else { (&b, &a) };
            let mut child = cli::command(fx.home())
                .args(["--state-dir", &state, "order", "set", first, second])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
            std::thread::sleep(Duration::from_millis(15 * round));
            let _ = child.kill(); // SIGKILL; it may have finished already
            let status = child.wait().unwrap();
            outcomes.push(status.code().map_or("killed", |_| "finished"));
            let (order, now) = order_and_rest(&fx, format);
            assert!(
                order == before || order == after,
                "{format:?} round {round}: a torn order {order}"
            );
            assert!(
                now == rest,
                "{format:?} round {round}: more than the order changed"
            );
        }
        // No lock is stuck: the next change goes through, and cleans up after the killed ones.
        let run = cli(&fx, &["order", "set", &a, &b]);
        run.expect_code(0);
        no_leak(&fx, &run);
        assert_eq!(order_and_rest(&fx, format).0, after, "{format:?}");
        super::faults::no_leftovers(&fx.state_dir());
        eprintln!("{format:?}: {outcomes:?}");
    }
}
