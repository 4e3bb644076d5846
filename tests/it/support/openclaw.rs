//! Test support: openclaw.
