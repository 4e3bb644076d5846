//! Integration tests: oauth.
