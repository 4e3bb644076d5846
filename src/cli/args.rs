//! The command-line grammar of SPEC section 6, as clap derive types. Parsing only: turning
//! these raw values into engine types happens in each command's file.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::secret::Secret;

/// Inspect, log in, check quota and safely change the OpenAI Codex OAuth profiles of an
/// OpenClaw gateway.
#[derive(Debug, Parser)]
#[command(name = "codex-profiler", version, about, propagate_version = true)]
pub struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Which store format to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StoreArg {
    /// Detect what the gateway uses.
    Auto,
    /// `<state>/state/openclaw.sqlite` (OpenClaw 2026.6 and later).
    StateDb,
    /// `<state>/agents/<agent>/agent/openclaw-agent.sqlite`.
    AgentDb,
    /// `<state>/agents/<agent>/agent/auth-profiles.json` (OpenClaw up to 2026.5).
    Json,
}

/// Options every command takes. The environment variables behind them are read by
/// [`GlobalArgs::fill_from_env`], not by clap, so that an empty variable (as a copied
/// `.env.example` leaves them) counts as unset instead of as a missing value.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// The gateway's state directory [default: $OPENCLAW_STATE_DIR, else ~/.openclaw].
    #[arg(long, global = true, value_name = "D")]
    pub state_dir: Option<PathBuf>,
    /// The agent whose view to use [default: $OPENCLAW_AGENT, else main].
    #[arg(long, global = true, value_name = "A")]
    pub agent: Option<String>,
    /// Which store format to read and write.
    #[arg(long, global = true, value_enum, default_value = "auto")]
    pub store: StoreArg,
    /// Use this auth store file (json) or database (agent-db/state-db) directly.
    #[arg(long, global = true, value_name = "F")]
    pub auth_path: Option<PathBuf>,
    /// Print JSON for scripts.
    #[arg(long, global = true)]
    pub json: bool,
}

impl GlobalArgs {
    /// Fill what the command line left out from `OPENCLAW_STATE_DIR` and `OPENCLAW_AGENT`
    /// (through `get`, the process environment in the binary), ignoring empty values.
    pub fn fill_from_env(&mut self, get: impl Fn(&str) -> Option<String>) {
        let non_empty = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        if self.state_dir.is_none() {
            self.state_dir = non_empty("OPENCLAW_STATE_DIR").map(PathBuf::from);
        }
        if self.agent.is_none() {
            self.agent = non_empty("OPENCLAW_AGENT").map(|a| a.trim().to_owned());
        }
    }

    /// The agent: `--agent`, `OPENCLAW_AGENT`, else `main`.
    pub fn agent(&self) -> &str {
        self.agent.as_deref().unwrap_or("main")
    }
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List Codex profiles with their local health.
    Profiles,
    /// Show or change the profile order.
    #[command(subcommand)]
    Order(OrderCmd),
    /// Check each profile's quota on the ChatGPT usage endpoint (read-only).
    #[command(args_conflicts_with_subcommands = true)]
    Usage(UsageArgs),
    /// Log in (PKCE paste-back or device code), show login status, import the Codex CLI login.
    #[command(subcommand)]
    Auth(AuthCmd),
    /// Take a profile out of service: remove it from the order, keep the credential.
    Retire(RetireArgs),
    /// Remove a profile's credential and every reference to it (needs --confirm).
    Delete(DeleteArgs),
    /// Clear a stale block (blockedUntil/cooldownUntil/disabledUntil) once the usage endpoint
    /// says the window has reset.
    Unblock(UnblockArgs),
    /// List or restore the backups taken before every change.
    #[command(subcommand)]
    Backups(BackupsCmd),
    /// The seven layers that decide which profile is used, side by side.
    Layers(LayersArgs),
    /// Find mixed states and what fixes them.
    Doctor,
    /// How many profiles are usable, what the gateway tries on a rate limit, what is in the way.
    Rotation(RotationArgs),
    /// Run the Telegram bot.
    Bot,
    /// Run the same conversation in this terminal (text fallback).
    Chat,
    /// Print a shell completion script (bash, zsh or fish) to stdout.
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: ShellArg,
    },
    /// Print the manual page (roff) to stdout, e.g. `codex-profiler man | man -l -`.
    Man,
    /// Internal: the detached worker of a queued apply (restarts the gateway, records it).
    #[command(name = "__apply-worker", hide = true)]
    ApplyWorker,
}

/// `order` subcommands.
#[derive(Debug, Subcommand)]
pub enum OrderCmd {
    /// The stored order (as `openclaw models auth order get` shows it) and the layer holding
    /// it, then the order the gateway tries now and why.
    Get {
        /// Provider id (default: the Codex provider the store uses).
        #[arg(long)]
        provider: Option<String>,
    },
    /// Set the order of the Codex provider.
    Set(OrderSetArgs),
    /// Remove the stored order of the Codex provider.
    Clear(MutationArgs),
    /// Check every profile's usage, then put the right one first (only when the first must
    /// change), through the same safe path as `order set`.
    Auto(OrderAutoArgs),
}

/// `order auto`.
#[derive(Debug, Args)]
pub struct OrderAutoArgs {
    /// How to pick the first profile [default: $CODEX_PROFILER_AUTO_ORDER].
    #[arg(long, value_enum)]
    pub strategy: Option<StrategyArg>,
    /// Per-profile timeout of the usage check in seconds (as `usage --timeout-sec`).
    #[arg(long, default_value_t = 25, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub timeout_sec: u64,
    /// Mutation options.
    #[command(flatten)]
    pub m: MutationArgs,
}

/// `order auto --strategy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StrategyArg {
    /// The usable profile with the most quota left in its tighter window first.
    MostLeft,
    /// Keep the first until it is limited or crosses the last CODEX_PROFILER_ALERT_AT
    /// threshold, then the one with the most left.
    DrainFirst,
}

/// Options shared by every mutation.
#[derive(Debug, Clone, Args)]
pub struct MutationArgs {
    /// Print the plan and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Use `openclaw models auth ...` instead of writing the store directly (also
    /// CODEX_PROFILER_VIA_GATEWAY=1).
    #[arg(long)]
    pub via_gateway: bool,
    /// Restart the gateway in the background afterwards.
    #[arg(long)]
    pub queue_apply: bool,
    /// Provider id (default: the Codex provider the store uses).
    #[arg(long)]
    pub provider: Option<String>,
}

/// `order set`.
#[derive(Debug, Args)]
pub struct OrderSetArgs {
    /// Profile ids (or selectors naming exactly one profile), first preferred.
    #[arg(required = true, value_name = "ID")]
    pub ids: Vec<String>,
    /// Mutation options.
    #[command(flatten)]
    pub m: MutationArgs,
}

/// `usage`.
#[derive(Debug, Args)]
pub struct UsageArgs {
    /// Which profiles: all, default, a profile id or the end of one.
    #[arg(long, default_value = "all", value_name = "SEL")]
    pub profile: String,
    /// Per-profile timeout in seconds.
    #[arg(long, default_value_t = 25, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub timeout_sec: u64,
    /// Retries after a timeout, connection error or 5xx.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(0..=10))]
    pub retries: u32,
    /// Output format (`--json` implies json).
    #[arg(long, value_enum)]
    pub format: Option<UsageFormat>,
    /// Add attempt counts and timings.
    #[arg(long)]
    pub debug: bool,
    /// Most requests in flight at once [default: $CODEX_PROFILER_USAGE_CONCURRENCY, else 16].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub concurrency: Option<u64>,
    /// `usage history`: charts of the recorded checks instead of a check.
    #[command(subcommand)]
    pub cmd: Option<UsageCmd>,
}

/// `usage` subcommands.
#[derive(Debug, Subcommand)]
pub enum UsageCmd {
    /// Remaining quota per profile and window over time, from the usage history: a text
    /// sparkline per line, or a PNG chart with `--png FILE`.
    History(UsageHistoryArgs),
}

/// `usage history`.
#[derive(Debug, Args)]
pub struct UsageHistoryArgs {
    /// Which profiles: all, default, a profile id or the end of one.
    #[arg(long, default_value = "all", value_name = "SEL")]
    pub profile: String,
    /// Days back to show (at most the retention, $CODEX_PROFILER_HISTORY_DAYS).
    #[arg(long, default_value_t = crate::engine::chart::DEFAULT_DAYS, value_parser = clap::value_parser!(u32).range(1..))]
    pub days: u32,
    /// Write a PNG chart to FILE instead of printing sparklines.
    #[arg(long, value_name = "FILE")]
    pub png: Option<std::path::PathBuf>,
}

/// `usage --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum UsageFormat {
    /// One line per profile, then a summary.
    Text,
    /// The JSON document of SPEC section 6.
    Json,
}

/// `auth` subcommands.
#[derive(Debug, Subcommand)]
pub enum AuthCmd {
    /// Begin a PKCE login and print the URL to open.
    Start {
        /// Profile name (the part after `<provider>:`), e.g. an email or `work`.
        #[arg(long, value_name = "NAME")]
        profile: String,
    },
    /// Finish a login with the URL the browser was redirected to.
    Finish {
        /// Profile name given to `auth start`.
        #[arg(long, value_name = "NAME")]
        profile: String,
        /// The redirect URL, its query string, or `code#state`; `-` reads it from stdin
        /// (recommended: a URL on the command line shows in the process list).
        #[arg(long, value_name = "URL", value_parser = secret_value)]
        callback_url: Secret<String>,
        /// Restart the gateway in the background afterwards.
        #[arg(long)]
        queue_apply: bool,
    },
    /// Log in with a device code (no browser on this machine needed).
    Device {
        /// Profile name.
        #[arg(long, value_name = "NAME")]
        profile: String,
    },
    /// Identity, token expiry, fence and pending login per profile.
    Status {
        /// Which profiles.
        #[arg(long, default_value = "all", value_name = "SEL")]
        profile: String,
    },
    /// Import the Codex CLI's login (`auth.json`) without changing it.
    ImportCodexCli {
        /// Profile name.
        #[arg(long, value_name = "NAME")]
        profile: String,
        /// The Codex CLI's home [default: $CODEX_HOME, else ~/.codex].
        #[arg(long, value_name = "D")]
        codex_home: Option<PathBuf>,
    },
}

/// `retire`.
#[derive(Debug, Args)]
pub struct RetireArgs {
    /// The profile to retire.
    #[arg(value_name = "SEL")]
    pub selector: String,
    /// Mutation options.
    #[command(flatten)]
    pub m: MutationArgs,
}

/// `delete`.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The profile to delete.
    #[arg(value_name = "SEL")]
    pub selector: String,
    /// Really delete.
    #[arg(long, visible_alias = "yes")]
    pub confirm: bool,
    /// Mutation options.
    #[command(flatten)]
    pub m: MutationArgs,
}

/// `unblock`.
#[derive(Debug, Args)]
pub struct UnblockArgs {
    /// The profile to unblock.
    #[arg(value_name = "SEL")]
    pub selector: String,
    /// Clear it without asking the usage endpoint first.
    #[arg(long)]
    pub force: bool,
    /// Per-profile timeout of the usage check in seconds (as `usage --timeout-sec`).
    #[arg(long, default_value_t = 25, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub timeout_sec: u64,
    /// Mutation options.
    #[command(flatten)]
    pub m: MutationArgs,
}

/// `backups` subcommands.
#[derive(Debug, Subcommand)]
pub enum BackupsCmd {
    /// The backups, newest first.
    List,
    /// Put a backup back.
    Restore {
        /// The backup's name, as `backups list` shows it.
        name: String,
        /// Really restore.
        #[arg(long, visible_alias = "yes")]
        confirm: bool,
        /// Mutation options.
        #[command(flatten)]
        m: MutationArgs,
    },
}

/// `layers`.
#[derive(Debug, Args)]
pub struct LayersArgs {
    /// The session whose override to show.
    #[arg(long, value_name = "K")]
    pub session_key: Option<String>,
}

/// clap's parser for a secret value: wrapped the moment it is read, and never refused (a
/// refusal would make clap quote the value in its error).
fn secret_value(raw: &str) -> Result<Secret<String>, std::convert::Infallible> {
    Ok(Secret::new(raw.to_owned()))
}

/// `completions SHELL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShellArg {
    /// GNU Bash.
    Bash,
    /// Z shell.
    Zsh,
    /// fish.
    Fish,
}

/// `rotation`.
#[derive(Debug, Args)]
pub struct RotationArgs {
    /// Also the failover policy, how order, lastGood and pins interact, and the commands.
    #[arg(long)]
    pub deep: bool,
}
