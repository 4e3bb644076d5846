//! `plugin-host` (the conversation behind the OpenClaw plugin, on stdin/stdout) and
//! `openclaw-plugin install` (puts the plugin into a gateway and points it at this binary).

use std::path::Path;
use std::sync::Arc;

use super::args::{GlobalArgs, PluginInstallArgs};
use super::chat::store_options;
use super::output::{CliError, CmdResult, Report};
use crate::adapters::plugin_host::{self, HostError};
use crate::chat::{ChatConfig, Conversation};
use crate::engine::change::gateway::Gateway;

/// `plugin-host`: the gateway vouches for every sender, so no admin list is needed.
pub fn host(g: &GlobalArgs) -> CmdResult {
    let mut config = ChatConfig::from_env()?;
    config.store = store_options(g);
    let conversation = Conversation::new(config)?;
    let runtime = tokio::runtime::Runtime::new().map_err(|e| {
        CliError::runtime("runtime", format!("could not start the async runtime: {e}"))
    })?;
    let stdin = tokio::io::BufReader::new(tokio::io::stdin());
    let outcome = runtime.block_on(plugin_host::run(
        Arc::clone(&conversation),
        stdin,
        Box::new(std::io::stdout()),
    ));
    // Device logins still waiting end with the process; the plugin says so to their users.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    match outcome {
        Ok(()) => Ok(Report::Text(String::new())),
        Err(e @ HostError::Mismatch(_)) => Err(CliError::usage(e.to_string())),
        Err(e @ HostError::Io(_)) => Err(CliError::runtime("plugin_pipe", e.to_string())),
    }
}

/// The plugin's files, embedded so the binary installs the plugin that matches it.
const FILES: &[(&str, &str)] = &[
    (
        "index.js",
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/openclaw-plugin/index.js"
        )),
    ),
    (
        "openclaw.plugin.json",
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/openclaw-plugin/openclaw.plugin.json"
        )),
    ),
    (
        "package.json",
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/openclaw-plugin/package.json"
        )),
    ),
];

/// `openclaw-plugin install`: write the plugin's files and `host.json` (this binary's path,
/// which the plugin starts unless its config names another), then let the real `openclaw`
/// load the folder. The gateway picks it up at its next start.
pub fn install(g: &GlobalArgs, a: PluginInstallArgs) -> CmdResult {
    let state_dir = super::store_opts::store_options(g)?.state_dir;
    let dir = a
        .plugin_dir
        .unwrap_or_else(|| state_dir.join("codex-profiler").join("openclaw-plugin"));
    let exe = std::env::current_exe()
        .and_then(std::fs::canonicalize)
        .map_err(|e| {
            CliError::runtime(
                "no_binary_path",
                format!("could not tell where this binary is: {e}"),
            )
        })?;
    let steps = format!(
        "write the plugin to {dir}\nrun: openclaw plugins install {dir} --link --force --accept-capabilities\nthe plugin starts {exe} plugin-host",
        dir = dir.display(),
        exe = exe.display()
    );
    if a.dry_run {
        return Ok(Report::Text(format!("Would {steps}")));
    }
    write_files(&dir, &exe)?;
    let gateway = Gateway::locate(&state_dir, g.agent())?;
    gateway.plugins_install(&dir)?;
    let report = serde_json::json!({
        "ok": true, "plugin_dir": dir, "binary": exe, "state_dir": state_dir,
        "next": "restart the gateway (openclaw gateway restart) to load the plugin",
    });
    Ok(if g.json {
        Report::Json(report)
    } else {
        Report::Text(format!(
            "Installed the codex-profiler plugin from {} (it starts {} plugin-host).\nRestart the gateway to load it: openclaw gateway restart",
            dir.display(),
            exe.display()
        ))
    })
}

fn write_files(dir: &Path, exe: &Path) -> Result<(), CliError> {
    let fail = |what: &Path, e: std::io::Error| {
        CliError::runtime(
            "plugin_write",
            format!("could not write {}: {e}", what.display()),
        )
    };
    std::fs::create_dir_all(dir).map_err(|e| fail(dir, e))?;
    let host = serde_json::json!({ "binary": exe });
    let host = format!("{host:#}\n");
    for (name, body) in FILES.iter().copied().chain([("host.json", host.as_str())]) {
        let path = dir.join(name);
        std::fs::write(&path, body).map_err(|e| fail(&path, e))?;
    }
    Ok(())
}
