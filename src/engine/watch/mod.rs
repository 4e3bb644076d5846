//! The watcher (issue 10 item 3): every profile checked once per round, compared with what
//! the previous round saw, and the admins told only what changed, one message per round.
//!
//! # Design
//! - [`rules::evaluate`] is the whole decision, pure, with an injected `now`: previous
//!   [`WatchState`] + this round's [`Observation`]s + the forecast in, a [`ChangeSet`] of
//!   [`Event`]s and the next state out. Every "once" is keyed by a value from the endpoint or
//!   the store (a reset time, a token expiry, a block's end), so a clock jump repeats nothing.
//! - [`state`] keeps the memory in `<state>/codex-profiler/watch.json` (atomic, 0600); a
//!   missing or unreadable file starts a baseline round that only records.
//! - [`round::Watcher`] reads the store, checks (all at once for `watch --once`, spread over
//!   the interval by [`schedule::offsets`] in the loop, a 429's `Retry-After` honoured),
//!   appends each check to the history (`history::after_check`, which also forecasts), and
//!   returns a [`Round`]; its state is committed only after the change set was delivered.
//! - [`round::after_round`] is where an automatic reorder plugs in.
//! - Nothing here knows chats or terminals: the bot hands [`Watcher::run`] a [`Sink`] and a
//!   shutdown signal; the chat core words the events from `templates/chat/watch_*.j2`, the
//!   CLI prints [`Event::sentence`] or the JSON of [`ChangeSet`].
//!
//! Files: `config.rs` (variables), `state.rs` (memory), `event.rs` (events and their
//! renderings), `rules.rs` (decision), `schedule.rs` (when), `round.rs` (one round, the loop).

pub mod config;
pub mod event;
pub mod round;
pub mod rules;
pub mod schedule;
pub mod state;

#[cfg(test)]
mod tests;

pub use config::{BadWatchSetting, WatchConfig};
pub use event::{ChangeSet, Event, Who, Words};
pub use round::{Round, Sink, Watcher, after_round};
pub use rules::{Observation, evaluate};
pub use state::WatchState;
