//! Chat transports for the conversation core ([`crate::chat`]): each turns its wire events into
//! [`crate::chat::transport::Incoming`] and carries out the core's sends, edits and deletes.
//! - [`terminal`]: `codex-profiler chat`, the conversation on stdin/stdout (text fallback).
//! - [`telegram`]: `codex-profiler bot`, the conversation in Telegram (teloxide).
//! - [`plugin_host`]: `codex-profiler plugin-host`, the conversation behind the OpenClaw plugin.

pub mod plugin_host;
pub mod telegram;
pub mod terminal;
