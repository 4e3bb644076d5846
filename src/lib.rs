//! codex-profiler: inspect, log in, check quota and safely change the OpenAI Codex OAuth
//! profiles of an OpenClaw gateway, from a CLI or a chat.
//!
//! # Layout
//! - [`engine`]: everything that knows about OpenClaw and OpenAI and nothing about chats or
//!   argument parsing.
//!   - [`engine::store`]: the only code that touches the gateway's auth stores (state-db,
//!     agent-db, json), with detection, overlay merge, locking and atomic writes.
//!   - [`engine::profile`], [`engine::selector`], [`engine::jwt`], [`engine::health`]: the
//!     Codex profile model parsed out of a store, how users name profiles, and local health.
//!   - [`engine::oauth`]: the Codex OAuth login (PKCE paste-back, device code, Codex CLI import).
//!   - [`engine::usage`]: the quota check against the ChatGPT usage endpoint.
//!   - [`engine::change`]: preflight, backup, apply, verify for every mutation; gateway-native
//!     mode; queued apply; layers and doctor.
//!   - [`engine::endpoint`]: which hosts may ever receive a token; [`engine::http`]: the one
//!     builder of every client that carries a secret (no proxy for loopback, `localhost`
//!     pinned).
//!   - [`engine::label`]: the one display label of a profile, told apart across the store.
//!   - [`engine::history`], [`engine::forecast`], [`engine::chart`]: the usage history in
//!     codex-profiler's own database, burn-rate forecasts over it, and charts of it.
//!   - [`engine::rotation`]: what a rate-limited turn tries and what stands in the way.
//! - [`chat`]: the conversation core every chat adapter shares (commands, callback codec,
//!   duplicate suppression, permissions, progress-first delivery, templates).
//! - [`adapters`]: transports for the chat core: Telegram (teloxide) and the terminal.
//! - [`cli`]: argument parsing, rendering and exit codes for the `codex-profiler` binary.
//! - [`secret`]: helpers around [`redact::Secret`] for keeping secrets out of every output.
//! - [`escape`]: text on its way to a terminal, with every control sequence made visible.
//!
//! See `ARCHITECTURE.md` for the request paths and the invariants between these modules.

pub mod adapters;
pub mod chat;
pub mod cli;
pub mod engine;
pub mod escape;
pub mod secret;
