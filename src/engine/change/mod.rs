//! Safe changes to the auth store, and the views that explain it.
//!
//! # Layout
//! - [`pipeline`]: the one path every mutation takes: preflight → backup → apply → verify.
//! - [`backup`]: the snapshot taken before each write, listing and restore.
//! - [`gateway`]: gateway-native mode, running the real `openclaw`.
//! - [`queue`]: queued apply (a coalesced background gateway restart, `apply.json`).
//! - [`layers`]: the seven layers that decide which profile is used, and their disagreements.
//! - [`doctor`]: mixed-state findings and their fixes.
//! - [`config`], [`session`]: read-only views of `openclaw.json` and session overrides.
//! - [`error`]: [`ChangeError`].
//!
//! Invariant: only [`crate::engine::store`] writes the auth store; this module decides what to
//! write, snapshots it first and checks it afterwards.

pub mod backup;
pub mod config;
pub mod error;
mod files;
pub mod gateway;
pub mod queue;
pub mod session;

pub use error::ChangeError;
pub use queue::{QueueOutcome, queue_apply};
