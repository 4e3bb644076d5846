//! `order get|set|clear`: `get` here; `set` and `clear` are mutations and live in `change.rs`.
use super::args::{GlobalArgs, OrderCmd};
use super::output::{CmdResult, not_built};
pub fn run(g: &GlobalArgs, c: OrderCmd) -> CmdResult {
    match c {
        OrderCmd::Get { .. } => not_built("order get"),
        OrderCmd::Set(a) => super::change::order_set(g, a),
        OrderCmd::Clear(a) => super::change::order_clear(g, a),
    }
}
