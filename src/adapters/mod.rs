//! Chat transports for the conversation core ([`crate::chat`]): each turns its wire events into
//! [`crate::chat::transport::Incoming`] and carries out the core's sends, edits and deletes.
//! - [`terminal`]: `codex-profiler chat`, the conversation on stdin/stdout (text fallback).
//! - [`telegram`]: `codex-profiler bot`, the conversation in Telegram (teloxide).

pub mod telegram;
pub mod terminal;
