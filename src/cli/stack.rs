//! Thread stacks large enough for the deepest store JSON we read (`engine::STACK_BYTES`,
//! see `engine::store::bounded`): the program runs on a thread of that size, and every
//! thread started later (tokio's workers and blocking pool, our own) gets it as its default
//! through `RUST_MIN_STACK`, which the standard library reads once, at the first spawn.

use crate::engine::STACK_BYTES;

/// Run `f` on a thread with the large stack, after making it every later thread's default.
/// Must be called before any thread is started.
pub fn run<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    if std::env::var_os("RUST_MIN_STACK").is_none() {
        // SAFETY: no other thread exists yet (this is the first thing `main` does), so nothing
        // reads the environment concurrently.
        unsafe { std::env::set_var("RUST_MIN_STACK", STACK_BYTES.to_string()) };
    }
    match std::thread::Builder::new()
        .name("main".into())
        .stack_size(STACK_BYTES)
        .spawn(f)
    {
        Ok(handle) => match handle.join() {
            Ok(v) => v,
            Err(panic) => std::panic::resume_unwind(panic),
        },
        // A process that cannot start one thread (a tight ulimit, no memory) cannot do its
        // work either: say so and stop.
        Err(e) => {
            eprintln!("codex-profiler: could not start the main thread ({e})");
            std::process::exit(1)
        }
    }
}
