//! The integration tests, one binary (linking the crate once is much faster than once per
//! file). Each area has its own module; shared fixtures and loopback servers live in `support`.

mod support;

mod change;
mod chat;
mod completions;
mod dotenv;
mod interop;
mod interop_auto_order;
mod interop_order;
mod interop_unblock;
mod oauth;
mod plugin;
mod present;
mod props;
mod rotation;
mod selectors;
mod store;
mod sweep;
mod telegram;
mod times;
mod trust;
mod usage;
mod watch;
