//! Gateway-native mode: the real `openclaw` does the write (3 calls in all: they cost ~5-10 s
//! each), then our own read verifies it; a missing or failing `openclaw` is a clear error and
//! the store is unchanged.

use std::os::unix::fs::PermissionsExt;

use super::*;

fn run_gw(fx: &Fixture, env: &[(&str, &str)], args: &[&str]) -> cli::Run {
    let state = fx.state_arg();
    let mut all = vec!["--state-dir", state.as_str(), "--json"];
    all.extend_from_slice(args);
    cli::run(fx.home(), env, &all)
}

#[test]
fn a_missing_openclaw_is_a_clear_error_and_nothing_changes() {
    let fx = example_store(Format::StateDb);
    let before = Untouched::of(&fx);
    let run = run_gw(
        &fx,
        &[("CODEX_PROFILER_OPENCLAW_BIN", "/nonexistent/openclaw")],
        &["order", "set", "alice@example.com", "--via-gateway"],
    );
    run.expect_code(1);
    assert_eq!(run.json()["error"], "openclaw_missing");
    assert!(run.stderr.contains("CODEX_PROFILER_OPENCLAW_BIN"));
    before.check(&fx, "refused");
}

#[test]
fn a_failing_openclaw_is_reported_scrubbed_and_the_store_is_unchanged() {
    let fx = example_store(Format::StateDb);
    let fake = fx.home().join("openclaw");
    std::fs::write(
        &fake,
        "#!/bin/sh\necho \"Error: bad token eyJhbGciOi.eyJzdWIi.c2ln rt_LEAKED_REFRESH_1\" >&2\nexit 7\n",
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let before = docs(&fx);
    let run = run_gw(
        &fx,
        &[
            ("CODEX_PROFILER_VIA_GATEWAY", "1"),
            ("CODEX_PROFILER_OPENCLAW_BIN", fake.to_str().unwrap()),
        ],
        &["retire", "alice@example.com"],
    );
    run.expect_code(1);
    let out = run.json();
    assert_eq!(out["error"], "openclaw_failed");
    assert!(out["message"].as_str().unwrap().contains("exit 7"));
    run.assert_no_secret(&["rt_LEAKED_REFRESH_1", "eyJhbGciOi.eyJzdWIi.c2ln"]);
    assert_eq!(docs(&fx), before);
}

#[test]
fn the_real_openclaw_writes_and_our_read_verifies() {
    // A missing install fails here (with the command that installs it): never a silent skip.
    let claw = crate::support::openclaw::openclaw();
    let fx = example_store(Format::StateDb);
    let path = claw.path_env();
    let env = [
        ("PATH", path.as_str()),
        ("CODEX_PROFILER_OPENCLAW_BIN", claw.bin().to_str().unwrap()),
    ];

    // 1: order set through the gateway; it lands in the agent's overlay.
    let run = run_gw(
        &fx,
        &env,
        &[
            "order",
            "set",
            "alice@example.com",
            "bob@example.com",
            "--via-gateway",
        ],
    );
    run.expect_code(0);
    no_leak(&fx, &run);
    let out = run.json();
    assert_eq!(out["verified"], true, "{out:#}");
    assert_eq!(out["via_gateway"], true);
    // The plan named the layer `openclaw` really wrote (the agent's own overlay).
    let planned = super::plans::paths(&out["planned_layers"]);
    assert_eq!(planned, super::plans::paths(&out["written"]), "{out:#}");
    assert!(planned[0].ends_with("agents/main/agent/openclaw-agent.sqlite"));
    let snap = open(&fx).load().unwrap();
    let (order, _) = snap.stored_order("openai").unwrap();
    assert_eq!(
        order,
        ["openai:alice@example.com", "openai:bob@example.com"]
    );

    // 2: the gateway itself agrees.
    let doc = claw.openai_order(fx.home());
    assert_eq!(
        doc["order"],
        json!(["openai:alice@example.com", "openai:bob@example.com"])
    );

    // 3: delete through the gateway (`models auth logout`).
    let run = run_gw(
        &fx,
        &env,
        &["delete", "bob@example.com", "--confirm", "--via-gateway"],
    );
    run.expect_code(0);
    let out = run.json();
    assert_eq!(out["verified"], true, "{out:#}");
    // Logout rewrote the shared layer (the credential) and the overlay (its order): the
    // two layers the plan named.
    let planned = super::plans::paths(&out["planned_layers"]);
    assert_eq!(planned.len(), 2, "{out:#}");
    assert_eq!(planned, super::plans::paths(&out["written"]), "{out:#}");
    let snap = open(&fx).load().unwrap();
    assert!(snap.raw_profile("openai:bob@example.com").is_none());
    assert!(snap.raw_profile("openai:alice@example.com").is_some());
}

#[test]
fn retire_via_the_real_gateway_verifies_what_the_gateway_will_use() {
    let claw = crate::support::openclaw::openclaw();
    // The shared layer orders bob first and has him as lastGood.
    let fx = example_store(Format::StateDb);
    let path = claw.path_env();
    let env = [
        ("PATH", path.as_str()),
        ("CODEX_PROFILER_OPENCLAW_BIN", claw.bin().to_str().unwrap()),
    ];
    let run = run_gw(&fx, &env, &["retire", "bob@example.com", "--via-gateway"]);
    // openclaw writes the overlay order; the shared layer still names bob.
    run.expect_code(0);
    no_leak(&fx, &run);
    let out = run.json();
    assert_eq!(out["verified"], true, "{out:#}");
    assert_eq!(
        out["order_in_effect"]["ids"],
        json!(["openai:alice@example.com"]),
        "{out:#}"
    );
    let notes = out["notes"].to_string();
    assert!(
        notes.contains("lastGood still names openai:bob@example.com"),
        "{out:#}"
    );
    let snap = open(&fx).load().unwrap();
    assert!(snap.raw_profile("openai:bob@example.com").is_some(), "kept");
    assert_eq!(
        snap.effective_order("openai").ids,
        ["openai:alice@example.com"]
    );
}
