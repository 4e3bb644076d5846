//! Usage check (SPEC section 5): the engine against the loopback usage server (every reply
//! class, attempt counts, headers, concurrency), and the binary end to end (JSON document,
//! text lines, exit codes, no secret in any output, read-only store, endpoint trust).

mod chart;
mod cli;
mod engine;
mod faults;
mod history;
mod labels;
mod limits;
mod replies;
