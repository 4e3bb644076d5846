//! Test support: fixtures.
