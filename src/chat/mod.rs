//! The conversation core shared by every chat adapter: commands and their arguments,
//! selectors, the `codex_auth_*` callback codec, duplicate suppression, permissions,
//! progress-first delivery on one path, and rendering from `templates/`. It calls the engine
//! (through [`backend`] only) and knows nothing about Telegram; an adapter only implements
//! [`transport::Transport`] and feeds [`transport::Incoming`] events into
//! [`Conversation::handle`].
//!
//! # Layout
//! - [`conversation`]: the entry point; permissions, stale menus, duplicates, callback answers.
//! - `flows`: what each request does (menus, usage, logins, retire, delete; the admin views
//!   backups, layers and doctor).
//! - [`command`] parses text; [`callback`] and [`keys`] encode buttons; [`fallback`] keeps
//!   text-fallback offers; [`dedupe`] suppresses repeats; [`delivery`] sends, edits and splits;
//!   [`render`] holds every text; [`config`] reads the environment; [`backend`] is the engine.
//! - [`paging`] splits long profile lists into pages whose buttons refuse a changed list.

pub mod agents;
pub mod backend;
pub mod callback;
pub mod command;
pub mod config;
pub mod conversation;
pub mod dedupe;
pub mod delivery;
pub mod fallback;
mod flows;
pub mod keys;
pub mod paging;
pub mod permissions;
pub mod render;
pub mod transport;

pub use config::{ChatConfig, ConfigError, StoreOptions};
pub use conversation::Conversation;
