//! The fixes of `doctor` findings that are one safe change (an order to store, a profile to
//! retire) or a login, so a chat can offer them as buttons; the CLI names the same fix as a
//! command in the finding's `fix`.

use serde::Serialize;

/// A fix that is one change through the pipeline (or a login), so a chat can offer it as a
/// button; the CLI names the same fix in [`Finding::fix`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Remedy {
    /// Store this order for the provider (`order set`).
    SetOrder {
        /// The provider.
        provider: String,
        /// The ids, first preferred.
        ids: Vec<String>,
    },
    /// Take the profile out of service, keep its credential (`retire`).
    Retire {
        /// The profile id.
        profile: String,
    },
    /// Log the profile in again.
    Login {
        /// The profile id.
        profile: String,
    },
    /// Clear a stale block once a usage check shows its quota is back (`unblock`).
    Unblock {
        /// The profile id.
        profile: String,
    },
}

/// The meaning every rotation finding carries in `doctor` (the CLI's pointer to `rotation`).
pub const ROTATION_MEANING: &str =
    "what the gateway tries on a rate limit: codex-profiler rotation --deep";
