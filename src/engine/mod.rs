//! The profile engine: OpenClaw auth stores, Codex profiles, OAuth login, usage checks and
//! safe changes. Nothing in here knows about Telegram, terminals or command-line parsing.

pub mod auto_order;
pub mod change;
pub mod chart;
pub mod endpoint;
pub mod error;
pub mod forecast;
pub mod health;
pub mod history;
pub mod http;
pub mod jwt;
pub mod label;
pub mod lenient;
pub mod oauth;
pub mod profile;
pub mod rotation;
pub mod selector;
pub mod store;
pub mod usage;

/// The stack each of our threads runs with: room for the deepest store JSON we read
/// ([`store::bounded::MAX_DEPTH`] levels through parse, edit, write and drop, in a debug build).
/// Virtual memory only; pages are touched as used. Set by `cli::stack` for every thread.
pub const STACK_BYTES: usize = 64 * 1024 * 1024;

pub use error::{Failure, FailureKind};
