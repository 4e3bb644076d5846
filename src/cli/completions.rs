//! `completions SHELL` and `man`: the shell completion scripts (clap_complete) and the
//! manual page (clap_mangen), both generated from the clap grammar in [`super::args`], so
//! they can never drift from it. Printed to stdout for the user to install.

use clap::CommandFactory as _;

use super::args::{Cli, ShellArg};
use super::output::{CliError, CmdResult, Report};

/// The grammar without its hidden subcommands (the internal `__apply-worker`): clap_complete
/// and clap_mangen would offer and document them otherwise.
fn public_command() -> clap::Command {
    let full = Cli::command();
    let mut cmd = clap::Command::new("codex-profiler")
        .version(env!("CARGO_PKG_VERSION"))
        .propagate_version(true)
        .args(full.get_arguments().cloned())
        .subcommands(full.get_subcommands().filter(|c| !c.is_hide_set()).cloned());
    if let Some(a) = full.get_about() {
        cmd = cmd.about(a.clone());
    }
    if let Some(a) = full.get_long_about() {
        cmd = cmd.long_about(a.clone());
    }
    cmd
}

/// The completion script for `shell`.
pub fn script(shell: ShellArg) -> Result<String, CliError> {
    let mut cmd = public_command();
    let mut out = Vec::new();
    let name = cmd.get_name().to_owned();
    let shell = match shell {
        ShellArg::Bash => clap_complete::Shell::Bash,
        ShellArg::Zsh => clap_complete::Shell::Zsh,
        ShellArg::Fish => clap_complete::Shell::Fish,
    };
    clap_complete::generate(shell, &mut cmd, name, &mut out);
    String::from_utf8(out)
        .map_err(|_| CliError::runtime("completions", "the completion script is not UTF-8"))
}

/// The manual page, as roff.
pub fn man_page() -> Result<String, CliError> {
    let mut out = Vec::new();
    clap_mangen::Man::new(public_command())
        .render(&mut out)
        .map_err(|e| CliError::runtime("man", format!("could not render the manual page: {e}")))?;
    String::from_utf8(out).map_err(|_| CliError::runtime("man", "the manual page is not UTF-8"))
}

/// `completions SHELL`.
pub fn completions(shell: ShellArg) -> CmdResult {
    Ok(Report::Text(script(shell)?))
}

/// `man`.
pub fn man() -> CmdResult {
    Ok(Report::Text(man_page()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every visible top-level subcommand of the grammar.
    fn subcommands() -> Vec<String> {
        let cmd = Cli::command();
        let names: Vec<String> = cmd
            .get_subcommands()
            .filter(|c| !c.is_hide_set())
            .map(|c| c.get_name().to_owned())
            .collect();
        assert!(names.len() >= 14, "{names:?}");
        names
    }

    #[test]
    fn every_shell_script_names_every_subcommand() {
        for shell in [ShellArg::Bash, ShellArg::Zsh, ShellArg::Fish] {
            let s = script(shell).unwrap();
            for name in subcommands() {
                assert!(s.contains(&name), "{shell:?} script lacks `{name}`");
            }
            assert!(
                !s.contains("__apply-worker"),
                "{shell:?} shows the hidden worker"
            );
        }
    }

    #[test]
    fn the_man_page_is_roff_naming_every_subcommand() {
        let m = man_page().unwrap();
        assert!(
            m.starts_with(".ie") || m.contains("\n.TH ") || m.starts_with(".TH "),
            "{m}"
        );
        assert!(m.contains(".TH codex-profiler"), "{m}");
        for name in subcommands() {
            // roff writes a hyphen as `\-`.
            let roff = name.replace('-', "\\-");
            assert!(
                m.contains(&name) || m.contains(&roff),
                "the man page lacks `{name}`"
            );
        }
        assert!(
            !m.contains("apply-worker"),
            "the man page shows the hidden worker"
        );
    }
}
