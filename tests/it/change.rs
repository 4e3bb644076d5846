//! Integration tests: change.
