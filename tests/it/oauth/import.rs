//! `auth import-codex-cli`: the Codex CLI's `auth.json` becomes a profile; the file is never
//! changed (bytes and mtime compared).

use codex_profiler::engine::jwt::unsigned_for_tests;
use serde_json::json;

use super::env::{Env, Kind};

fn write_auth_json(dir: &std::path::Path, mode: &str) -> (std::path::PathBuf, Vec<String>) {
    std::fs::create_dir_all(dir).unwrap();
    let access = unsigned_for_tests(&json!({
        "exp": 1_900_000_000,
        "https://api.openai.com/auth": {"chatgpt_account_id": "77777777-aaaa-4bbb-8ccc-000000000007", "chatgpt_plan_type": "pro"},
    }));
    let id_token = unsigned_for_tests(&json!({"email": "frank@example.com", "exp": 1_900_000_000}));
    let refresh = "rt_CODEX_CLI_REFRESH_0007".to_owned();
    let doc = json!({
        "OPENAI_API_KEY": null,
        "auth_mode": mode,
        "tokens": {"id_token": id_token, "access_token": access, "refresh_token": refresh,
                   "account_id": "77777777-aaaa-4bbb-8ccc-000000000007"},
        "last_refresh": "2026-11-01T00:00:00Z"
    });
    let p = dir.join("auth.json");
    std::fs::write(&p, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    (p, vec![access, id_token, refresh])
}

#[test]
fn imports_the_codex_cli_login_without_touching_it() {
    let env = Env::new(Kind::StateDb);
    // Default location: $HOME/.codex/auth.json.
    let (path, secrets) = write_auth_json(&env.home().join(".codex"), "chatgpt");
    let bytes = std::fs::read(&path).unwrap();
    let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
    let r = env.run(&["--json", "auth", "import-codex-cli", "--profile", "frank"]);
    r.expect_code(0);
    let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
    env.assert_clean_with(&r, &refs);
    let j = r.json();
    assert_eq!(j["profile"], "openai:frank");
    assert_eq!(j["email"], "frank@example.com");
    assert_eq!(j["plan"], "pro");
    let p = &env.profiles()["openai:frank"];
    assert_eq!(p["refresh"], "rt_CODEX_CLI_REFRESH_0007");
    assert_eq!(p["expires"], 1_900_000_000_000i64);
    assert_eq!(std::fs::read(&path).unwrap(), bytes, "auth.json unchanged");
    assert_eq!(std::fs::metadata(&path).unwrap().modified().unwrap(), mtime);
    assert_eq!(env.server.request_count(), 0, "an import sends nothing");
    // Importing again updates the same profile.
    let r = env.run(&[
        "--json",
        "auth",
        "import-codex-cli",
        "--profile",
        "other-name",
    ]);
    r.expect_code(0);
    assert_eq!(r.json()["profile"], "openai:frank");
    assert_eq!(r.json()["new_profile"], false);
}

#[test]
fn an_api_key_login_or_missing_file_is_refused() {
    let env = Env::new(Kind::StateDb);
    let dir = env.home().join("codex-home");
    let (_p, secrets) = write_auth_json(&dir, "apikey");
    let before = env.store_bytes();
    let d = dir.to_string_lossy().into_owned();
    let r = env.run(&[
        "--json",
        "auth",
        "import-codex-cli",
        "--profile",
        "x",
        "--codex-home",
        &d,
    ]);
    r.expect_code(5);
    assert_eq!(r.json()["error"], "codex_auth_unusable");
    let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
    env.assert_clean_with(&r, &refs);
    let r = env.run_with(
        &[("CODEX_HOME", "/nonexistent")],
        &["auth", "import-codex-cli", "--profile", "x"],
    );
    r.expect_code(5);
    assert!(r.stderr.contains("does not exist"), "{}", r.stderr);
    assert_eq!(env.store_bytes(), before);
}

#[test]
fn an_import_warns_that_the_refresh_token_is_now_shared() {
    let env = Env::new(Kind::StateDb);
    let (_path, secrets) = write_auth_json(&env.home().join(".codex"), "chatgpt");
    let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let r = env.run(&["--json", "auth", "import-codex-cli", "--profile", "frank"]);
    r.expect_code(0);
    env.assert_clean_with(&r, &refs);
    let w = r.json()["warning"].as_str().unwrap_or_default().to_owned();
    assert!(
        w.contains("same single-use refresh token") && w.contains("auth start"),
        "{}",
        r.stdout
    );
    let r = env.run(&["auth", "import-codex-cli", "--profile", "frank"]);
    r.expect_code(0);
    env.assert_clean_with(&r, &refs);
    assert!(
        r.stdout.contains(
            "Warning: the Codex CLI and the gateway now hold the same single-use refresh token"
        ),
        "{}",
        r.stdout
    );
}

/// With neither `CODEX_HOME` nor `HOME`, the import names the fix instead of reading an
/// `auth.json` relative to whatever directory it was started in.
#[test]
fn no_home_is_refused_not_read_from_the_working_directory() {
    let env = Env::new(Kind::StateDb);
    // A decoy where a working-directory fallback would look.
    write_auth_json(&env.home().join(".codex"), "chatgpt");
    let before = env.store_bytes();
    let state = env.state.to_string_lossy().into_owned();
    let out = crate::support::cli::command(env.home())
        .env_remove("HOME")
        .args([
            "--state-dir",
            &state,
            "auth",
            "import-codex-cli",
            "--profile",
            "frank",
        ])
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--codex-home"), "{stderr}");
    assert_eq!(env.store_bytes(), before);
}
