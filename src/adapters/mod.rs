//! Chat transports for the conversation core ([`crate::chat`]): each turns its wire events into
//! [`crate::chat::transport::Incoming`] and carries out the core's sends, edits and deletes.
//! - [`terminal`]: `codex-profiler chat`, the conversation on stdin/stdout (text fallback).

pub mod terminal;
