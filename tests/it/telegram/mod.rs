//! Telegram adapter tests against the fake Bot API (`support::bot_api`).
//! - `adapter`: the adapter in-process with a small local handler: wire format, 429 on
//!   edits, "not modified", per-user ordering, shutdown, webhook mode, token scrubbing.
//! - `flows`: every chat flow over the Telegram wire, real conversation core, scripted engine.
//! - `history`: `/codex_usage history` as a multipart photo (real engine, real PNG decoder),
//!   a 429 and a 5xx on the upload, no history yet.
//! - `e2e`: the `codex-profiler bot` binary: no token, no admin, menu, SIGTERM.
//! - `real`: the binary with the real engine, fixture store, usage server and OAuth issuer.
//! - `start_up`: the binary against a Bot API that fails at start (500, unknown method,
//!   `result: null`, down, 401) and behind a proxy it must not use.

mod adapter;
mod e2e;
mod flows;
mod history;
mod process;
mod real;
mod scripted;
mod start_up;
