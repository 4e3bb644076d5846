//! The `codex-profiler` binary: everything lives in the library; this only hands over.

fn main() -> std::process::ExitCode {
    codex_profiler::cli::main()
}
