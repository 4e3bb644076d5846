//! Chat transports (filled in by issue 6).

pub mod telegram;
