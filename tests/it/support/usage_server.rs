//! Test support: usage_server.
