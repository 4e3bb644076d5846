//! Chat transports (filled in by issue 6).
