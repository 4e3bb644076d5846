//! Telegram adapter tests against the fake Bot API (`support::bot_api`).
//! - `adapter`: the adapter in-process with a small local handler: wire format, 429 on
//!   edits, "not modified", per-user ordering, shutdown, webhook mode, token scrubbing.
//! - `e2e`: the real `codex-profiler bot` binary with the real conversation core.

mod adapter;
mod e2e;
mod flows;
mod process;
mod scripted;
