//! The OpenClaw plugin's conversation host: `codex-profiler plugin-host` driven over its
//! pipes (`host`), the same way the plugin drives it.

mod driver;
mod gateway;
mod host;
mod install;
mod manifest;
