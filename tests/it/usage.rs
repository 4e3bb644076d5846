//! Integration tests: usage.
