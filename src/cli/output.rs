//! How a command's result reaches the user: a text or JSON document on stdout, or one clear
//! sentence on stderr (`{"ok":false,"error":CODE,"message":...}` with `--json`), and the exit
//! code SPEC section 6 assigns.

use std::io::Write;

use crate::engine::{Failure, FailureKind};

/// What a command produced when it succeeded.
#[derive(Debug)]
pub enum Report {
    /// Plain text for people (printed as is, with a final newline).
    Text(String),
    /// A JSON document for scripts.
    Json(serde_json::Value),
    /// Success, but with an exit code other than 0 (e.g. `doctor` finding problems: 1;
    /// `delete` without `--confirm`: 4) and something to print. A non-zero exit always says
    /// why on stderr: prefer [`Report::failed`], which carries that sentence; without one a
    /// generic sentence is printed.
    WithCode(Box<Report>, u8),
    /// A report printed on stdout, an exit code, and the one sentence for stderr that says
    /// why the exit is not 0.
    Failed {
        /// What is printed on stdout.
        report: Box<Report>,
        /// The exit code.
        code: u8,
        /// One sentence, no secret in it.
        reason: String,
    },
}

impl Report {
    /// `report` on stdout, exit `code`, and `reason` on stderr when `code` is not 0.
    pub fn failed(report: Report, code: u8, reason: impl Into<String>) -> Report {
        Report::Failed {
            report: Box::new(report),
            code,
            reason: reason.into(),
        }
    }
}

/// A failure on its way to the user: kind, code and one sentence with no secret in it.
#[derive(Debug)]
pub struct CliError {
    /// Exit code class.
    pub kind: FailureKind,
    /// Stable code for scripts.
    pub code: &'static str,
    /// One clear sentence.
    pub message: String,
}

impl CliError {
    /// A misuse of the command line (exit 2).
    pub fn usage(message: impl Into<String>) -> CliError {
        CliError {
            kind: FailureKind::Usage,
            code: "usage",
            message: message.into(),
        }
    }

    /// A runtime failure (exit 1).
    pub fn runtime(code: &'static str, message: impl Into<String>) -> CliError {
        CliError {
            kind: FailureKind::Runtime,
            code,
            message: message.into(),
        }
    }
}

impl<E: Failure> From<E> for CliError {
    fn from(e: E) -> CliError {
        CliError {
            kind: e.kind(),
            code: e.code(),
            message: e.to_string(),
        }
    }
}

/// The result of running one command.
pub type CmdResult = Result<Report, CliError>;

/// What happened, reduced to an exit code once printed.
#[derive(Debug, Clone, Copy)]
pub struct Outcome(u8);

impl Outcome {
    /// The process exit code.
    pub fn exit_code(self) -> u8 {
        self.0
    }
}

/// Print a result and return its exit code.
pub fn finish(json: bool, result: CmdResult) -> Outcome {
    finish_styled(json, &super::present::Look::default(), result)
}

/// [`finish`], with text reports dressed as `look` says (times in the zone, status words
/// coloured); never JSON, never the stderr sentence.
pub fn finish_styled(json: bool, look: &super::present::Look, result: CmdResult) -> Outcome {
    match result {
        Ok(report) => Outcome(print_report(dressed(report, look))),
        Err(e) => {
            let message = crate::secret::scrub_patterns(&e.message);
            if json {
                let doc = serde_json::json!({"ok": false, "error": e.code, "message": message});
                let _ = writeln!(std::io::stdout(), "{doc:#}");
            }
            let message = crate::escape::for_terminal(&message);
            let _ = writeln!(std::io::stderr(), "codex-profiler: {message}");
            Outcome(e.kind.exit_code())
        }
    }
}

/// The report with its text parts dressed (see [`super::present::dress`]).
fn dressed(report: Report, look: &super::present::Look) -> Report {
    match report {
        Report::Text(t) => {
            let now = chrono::Utc::now().timestamp_millis();
            Report::Text(super::present::dress(&t, look, now))
        }
        Report::Json(v) => Report::Json(v),
        Report::WithCode(inner, code) => Report::WithCode(Box::new(dressed(*inner, look)), code),
        Report::Failed {
            report,
            code,
            reason,
        } => Report::Failed {
            report: Box::new(dressed(*report, look)),
            code,
            reason,
        },
    }
}

/// Print a report; a non-zero exit also gets its one sentence on stderr (scripts and people
/// reading only stderr must learn why it failed).
fn print_report(report: Report) -> u8 {
    let (code, reason) = print_stdout(report);
    if code != 0 {
        let reason = reason.unwrap_or_else(|| {
            format!("the command ended with exit code {code}: its report is on standard output")
        });
        let reason = crate::secret::scrub_patterns(&reason);
        let reason = crate::escape::for_terminal(&reason);
        let _ = writeln!(std::io::stderr(), "codex-profiler: {reason}");
    }
    code
}

/// Print the stdout part; returns the exit code and the stderr sentence, if one was given.
fn print_stdout(report: Report) -> (u8, Option<String>) {
    match report {
        Report::WithCode(inner, code) => {
            let (_, reason) = print_stdout(*inner);
            (code, reason)
        }
        Report::Failed {
            report,
            code,
            reason,
        } => {
            print_stdout(*report);
            (code, Some(reason))
        }
        plain => (print_plain(plain), None),
    }
}

fn print_plain(report: Report) -> u8 {
    let mut out = std::io::stdout().lock();
    match report {
        Report::Text(t) => {
            // Ids, labels and upstream words can hold terminal controls: never raw.
            let t = crate::escape::for_terminal(&t);
            let _ = out.write_all(t.as_bytes());
            // Nothing to say prints nothing (`plugin-host`'s stdout carries only protocol lines).
            if !t.is_empty() && !t.ends_with('\n') {
                let _ = out.write_all(b"\n");
            }
            0
        }
        Report::Json(v) => {
            let _ = writeln!(out, "{v:#}");
            0
        }
        Report::WithCode(..) | Report::Failed { .. } => {
            drop(out);
            print_stdout(report).0
        }
    }
}

/// Temporary answer for a command whose engine part has not landed yet in this branch.
pub fn not_built(what: &str) -> CmdResult {
    Err(CliError::runtime(
        "not_built",
        format!("`{what}` is not built yet"),
    ))
}
