//! Gateway-native mode: instead of writing the store ourselves, run the real `openclaw`
//! (`models auth order set|clear`, `models auth logout`), so the gateway's own code does the
//! write. The binary is `CODEX_PROFILER_OPENCLAW_BIN` or `openclaw` on PATH; it always gets
//! `OPENCLAW_STATE_DIR`. Its output never reaches the user unscrubbed.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::error::ChangeError;
use crate::engine::profile::ProfileId;

/// The variable that names the `openclaw` binary.
pub const OPENCLAW_BIN_ENV: &str = "CODEX_PROFILER_OPENCLAW_BIN";

/// A located `openclaw` bound to one state directory and agent.
#[derive(Debug, Clone)]
pub struct Gateway {
    bin: PathBuf,
    state_dir: PathBuf,
    agent: String,
}

/// Find `name` in the directories of `PATH`.
fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

impl Gateway {
    /// Locate the binary: `CODEX_PROFILER_OPENCLAW_BIN` (a path, or a name looked up on PATH),
    /// else `openclaw` on PATH.
    pub fn locate(state_dir: &Path, agent: &str) -> Result<Gateway, ChangeError> {
        let configured = std::env::var(OPENCLAW_BIN_ENV)
            .ok()
            .filter(|s| !s.trim().is_empty());
        let bin = match configured {
            Some(b) if b.contains('/') => Some(PathBuf::from(b)).filter(|p| is_executable(p)),
            Some(b) => on_path(&b),
            None => on_path("openclaw"),
        }
        .ok_or(ChangeError::GatewayMissing)?;
        Ok(Gateway::with_binary(bin, state_dir, agent))
    }

    /// Use this binary.
    pub fn with_binary(bin: PathBuf, state_dir: &Path, agent: &str) -> Gateway {
        Gateway {
            bin,
            state_dir: state_dir.to_path_buf(),
            agent: agent.to_owned(),
        }
    }

    /// `openclaw models auth order set --provider P --agent A ID...`.
    pub fn order_set(&self, provider: &str, ids: &[ProfileId]) -> Result<String, ChangeError> {
        let mut args = vec!["models", "auth", "order", "set", "--provider", provider];
        args.extend(["--agent", self.agent.as_str()]);
        args.extend(ids.iter().map(ProfileId::as_str));
        self.run(&args)
    }

    /// `openclaw models auth order clear --provider P --agent A`.
    pub fn order_clear(&self, provider: &str) -> Result<String, ChangeError> {
        self.run(&[
            "models",
            "auth",
            "order",
            "clear",
            "--provider",
            provider,
            "--agent",
            &self.agent,
        ])
    }

    /// `openclaw models auth logout ID --agent A --yes`.
    pub fn logout(&self, id: &ProfileId) -> Result<String, ChangeError> {
        self.run(&[
            "models",
            "auth",
            "logout",
            id.as_str(),
            "--agent",
            &self.agent,
            "--yes",
        ])
    }

    /// `openclaw models auth order get --provider P --agent A --json`: the agent's order
    /// override as the gateway sees it (`None` when it has none).
    pub fn order_get(&self, provider: &str) -> Result<Option<Vec<String>>, ChangeError> {
        let out = self.run(&[
            "models",
            "auth",
            "order",
            "get",
            "--provider",
            provider,
            "--agent",
            &self.agent,
            "--json",
        ])?;
        let start = out.find('{').unwrap_or(0);
        let doc: serde_json::Value =
            serde_json::from_str(&out[start..]).map_err(|e| ChangeError::GatewayFailed {
                command: "models auth order get".into(),
                code: 0,
                output: format!("its output is not JSON ({e})"),
            })?;
        Ok(doc.get("order").and_then(|o| o.as_array()).map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        }))
    }

    /// `openclaw plugins install DIR --link --force --accept-capabilities`: load the plugin in
    /// the local folder `dir` at the next gateway start (linked, so a new binary's plugin files
    /// take effect without another install).
    pub fn plugins_install(&self, dir: &Path) -> Result<String, ChangeError> {
        let dir = dir.to_string_lossy();
        self.run(&[
            "plugins",
            "install",
            &dir,
            "--link",
            "--force",
            "--accept-capabilities",
        ])
    }

    /// Run `openclaw ARGS`, returning stdout; a failure carries its scrubbed last lines.
    fn run(&self, args: &[&str]) -> Result<String, ChangeError> {
        let shown = args
            .iter()
            .take_while(|a| !a.starts_with("--agent"))
            .copied()
            .collect::<Vec<_>>()
            .join(" ");
        tracing::debug!(command = %shown, "running openclaw");
        let out = crate::secret::without_secret_env(&mut Command::new(&self.bin))
            .args(args)
            .env("OPENCLAW_STATE_DIR", &self.state_dir)
            .env("OPENCLAW_AGENT", &self.agent)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => ChangeError::GatewayMissing,
                _ => ChangeError::io("run", &self.bin, e),
            })?;
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        if out.status.success() {
            return Ok(stdout);
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        let text = format!("{stderr}\n{stdout}");
        let last: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let tail = last[last.len().saturating_sub(3)..].join(" / ");
        Err(ChangeError::GatewayFailed {
            command: shown,
            code: out.status.code().unwrap_or(-1),
            output: crate::secret::scrub(&tail, &[]),
        })
    }
}
