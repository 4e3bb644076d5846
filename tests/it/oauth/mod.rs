//! Integration tests for `auth`: the real binary against a loopback issuer
//! ([`crate::support::oauth_server`]) and real stores (a state-db SQLite file with OpenClaw's
//! schema, a legacy json file). Every run is captured at `RUST_LOG=debug` and checked for
//! secrets.

mod device;
pub mod env;
mod faults;
mod import;
mod order;
mod pkce;
mod refusals;
mod status;
mod stdin;
