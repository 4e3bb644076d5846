//! The conversation core shared by every chat adapter: commands and their arguments,
//! selectors, the `codex_auth_*` callback codec, duplicate suppression, permissions,
//! progress-first delivery on one path, and rendering from `templates/`. It calls the engine
//! and knows nothing about Telegram; an adapter only implements [`transport::Transport`] and
//! feeds [`transport::Incoming`] events in.

pub mod transport;
