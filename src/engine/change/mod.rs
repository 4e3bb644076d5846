//! Safe changes to the auth store, and the views that explain it.
//!
//! # Layout
//! - [`pipeline`]: the one path every mutation takes: preflight → backup → apply → verify.
//! - `order_plan`: the preflight of `order set` (who may be named, who leaves service).
//! - `plan`: which layers a change writes (what the backup covers and the plan names), and
//!   whether it writes nothing.
//! - [`backup`]: the snapshot taken before each write, listing and restore.
//! - [`gateway`]: gateway-native mode, running the real `openclaw`.
//! - [`queue`]: queued apply (a coalesced background gateway restart, `apply.json`).
//! - [`doctor`]: mixed-state findings and their fixes ([`remedy`]: those a chat offers as
//!   buttons).
//! - [`layers`]: the seven layers that decide which profile is used, and their disagreements
//!   ([`conflict`]: each as facts for chat templates).
//! - [`restore`]: `backups restore`, through the same steps.
//! - [`unblock`]: clearing a stale block, after a usage check (CLI and chat entry point).
//! - [`verify`]: what "nothing else changed" means, per change.
//! - [`session`], [`external`]: read-only session overrides and the Codex CLI's login.
//! - [`error`]: the [`ChangeError`] every step returns.
//!
//! Invariant: only [`crate::engine::store`] writes the auth store; this module decides what to
//! write, snapshots it first and checks it afterwards.

pub mod backup;
pub mod conflict;
pub mod doctor;
pub mod error;
pub mod external;
pub(crate) mod files;
pub mod gateway;
pub mod json_file;
pub mod layers;
mod order_plan;
pub mod pipeline;
mod plan;
pub mod queue;
pub mod remedy;
pub mod restore;
pub mod session;
pub mod unblock;
pub mod verify;

pub use error::ChangeError;
pub use order_plan::order_member;
pub use pipeline::{ChangeReport, ExecuteOptions, execute};
pub use queue::{QueueOutcome, queue_apply};
pub use restore::restore;
