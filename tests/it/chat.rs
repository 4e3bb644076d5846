//! Integration tests: chat.
