//! Shared test support: fixture stores, loopback servers that speak the real wire formats,
//! running the CLI and the real `openclaw`, and checks that no secret leaked.
#![allow(dead_code)]

pub mod bot_api;
pub mod cli;
pub mod fixtures;
pub mod history;
pub mod in_process_bot;
pub mod oauth_server;
pub mod openclaw;
pub mod proxy;
pub mod usage_server;
