//! Test support: oauth_server.
