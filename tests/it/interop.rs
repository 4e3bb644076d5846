//! Integration tests: interop.
