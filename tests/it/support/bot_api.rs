//! Test support: bot_api.
