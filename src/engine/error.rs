//! The one classification every engine error maps to, so the CLI can pick an exit code and a
//! stable JSON error code, and the chat core a short answer, without knowing the error types.

/// What kind of failure this is, from the user's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// Store unreadable, network down, a child process failed: exit code 1.
    Runtime,
    /// The command line itself is wrong: exit code 2.
    Usage,
    /// The selector matched no profile: exit code 3.
    NoMatch,
    /// A destructive action needs `--confirm`: exit code 4.
    ConfirmationRequired,
    /// Input refused: bad callback URL, state mismatch, expired login, untrusted endpoint: 5.
    InputRefused,
}

impl FailureKind {
    /// The process exit code SPEC section 6 assigns to this kind.
    pub fn exit_code(self) -> u8 {
        match self {
            FailureKind::Runtime => 1,
            FailureKind::Usage => 2,
            FailureKind::NoMatch => 3,
            FailureKind::ConfirmationRequired => 4,
            FailureKind::InputRefused => 5,
        }
    }
}

/// Implemented by every error that can reach a user. `code` is a stable snake_case word for
/// scripts (`{"ok":false,"error":CODE}`); the `Display` text is one clear sentence that never
/// holds a secret.
pub trait Failure: std::error::Error {
    /// Which exit code and kind of answer this failure gets.
    fn kind(&self) -> FailureKind;
    /// Stable machine-readable error code.
    fn code(&self) -> &'static str;
}
