//! Unit tests of the effective order with reasons.
