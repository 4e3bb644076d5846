//! `codex-profiler openclaw-plugin install` with the real `openclaw plugins install` (in its
//! own network namespace: a local folder needs no network, and nothing may leave).

use std::process::Command;

use crate::support::cli::{bin, run};
use crate::support::openclaw::openclaw;

#[test]
fn install_writes_the_plugin_and_the_real_openclaw_loads_it() {
    let oc = openclaw();
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join(".openclaw");
    std::fs::create_dir_all(&state).unwrap();
    let dir = home.path().join("plugin");
    let dry = run(
        home.path(),
        &[],
        &[
            "--state-dir",
            state.to_str().unwrap(),
            "openclaw-plugin",
            "install",
            "--plugin-dir",
            dir.to_str().unwrap(),
            "--dry-run",
        ],
    );
    dry.expect_code(0);
    assert!(
        dry.stdout.contains("openclaw plugins install"),
        "{}",
        dry.stdout
    );
    assert!(!dir.exists(), "a dry run writes nothing");

    let out = Command::new("unshare")
        .args(["-n", "sh", "-c", r#"ip link set lo up && exec "$0" "$@""#])
        .arg(bin())
        .args(["--json", "openclaw-plugin", "install", "--plugin-dir"])
        .arg(&dir)
        .env_clear()
        .env("PATH", oc.path_env())
        .env("HOME", home.path())
        .env("OPENCLAW_STATE_DIR", &state)
        .env("CODEX_PROFILER_OPENCLAW_BIN", oc.bin())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["ok"], true);

    let host: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("host.json")).unwrap()).unwrap();
    let me = std::fs::canonicalize(bin()).unwrap();
    assert_eq!(host["binary"].as_str(), me.to_str());
    for f in ["index.js", "openclaw.plugin.json", "package.json"] {
        assert!(dir.join(f).exists(), "{f}");
    }
    let cfg: serde_json::Value =
        serde_json::from_slice(&std::fs::read(state.join("openclaw.json")).unwrap()).unwrap();
    let paths = cfg["plugins"]["load"]["paths"].as_array().unwrap();
    assert!(paths.iter().any(|p| p.as_str() == dir.to_str()), "{cfg:#}");
    assert_eq!(cfg["plugins"]["entries"]["codex-profiler"]["enabled"], true);
}
