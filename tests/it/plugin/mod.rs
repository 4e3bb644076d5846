//! The OpenClaw plugin's conversation host: `codex-profiler plugin-host` driven over its
//! pipes (`host`, and what differs in plugin mode: `modes`), the same way the plugin drives it.

mod bench;
mod driver;
mod faults;
mod gateway;
mod gateway_kit;
mod host;
mod install;
mod manifest;
mod modes;
