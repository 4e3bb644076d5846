//! Chat configuration from the environment (SPEC section 8): who may do what, whether inline
//! buttons exist, which store to read and which endpoints to call. Parsed once at startup, so a
//! typo in an id list stops the adapter instead of silently locking people out.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

use crate::chat::transport::UserId;
use crate::engine::clock::{Now, Zone};
use crate::engine::{Failure, FailureKind};

/// Which auth store the chat reads and changes. Mirrors the CLI's global options; turned into
/// the store engine's options in `backend.rs` (the only place that knows the engine's types).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreOptions {
    /// `OPENCLAW_STATE_DIR` (default `~/.openclaw`).
    pub state_dir: Option<PathBuf>,
    /// `OPENCLAW_AGENT` (default `main`).
    pub agent: String,
    /// Forced store format (`state-db`, `agent-db`, `json`); `None` detects it.
    pub format: Option<String>,
    /// Forced store file (`--auth-path`).
    pub auth_path: Option<PathBuf>,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            state_dir: None,
            agent: "main".to_owned(),
            format: None,
            auth_path: None,
        }
    }
}

/// Everything the conversation core needs to know about its deployment.
#[derive(Debug, Clone)]
pub struct ChatConfig {
    /// `CODEX_PROFILER_ADMINS`: may do everything.
    pub admins: HashSet<UserId>,
    /// `CODEX_PROFILER_USERS`: may view usage and status.
    pub users: HashSet<UserId>,
    /// `CODEX_PROFILER_INLINE_BUTTONS` (default true); the terminal forces false.
    pub inline_buttons: bool,
    /// Which store to use.
    pub store: StoreOptions,
    /// `CODEX_PROFILER_AUTH_ISSUER`, checked by the engine before any request.
    pub auth_issuer: Option<String>,
    /// `CODEX_PROFILER_USAGE_URL`, checked by the engine before any request.
    pub usage_url: Option<String>,
    /// `CODEX_PROFILER_VIA_GATEWAY`: change the store through `openclaw models auth ...`.
    pub via_gateway: bool,
    /// Per-profile usage timeout (the CLI's `--timeout-sec` default).
    pub usage_timeout: Duration,
    /// Usage retries (the CLI's `--retries` default).
    pub usage_retries: u32,
    /// `CODEX_PROFILER_USAGE_CONCURRENCY`: most usage requests in flight (default 16).
    pub usage_concurrency: usize,
    /// `CODEX_PROFILER_HISTORY_DAYS`, raw; checked by the backend at startup.
    pub history_days: Option<String>,
    /// The zone every time in the chat is shown in (`CODEX_PROFILER_TZ`, else the system's).
    pub zone: Zone,
    /// The instant shown times are relative to: the system clock (a fixed one in tests).
    pub now: Now,
}

impl Default for ChatConfig {
    fn default() -> Self {
        ChatConfig {
            admins: HashSet::new(),
            users: HashSet::new(),
            inline_buttons: true,
            store: StoreOptions::default(),
            auth_issuer: None,
            usage_url: None,
            via_gateway: false,
            usage_timeout: Duration::from_secs(25),
            usage_retries: 1,
            usage_concurrency: crate::engine::usage::DEFAULT_CONCURRENCY,
            history_days: None,
            zone: Zone::utc(),
            now: Now::System,
        }
    }
}

/// A configuration value that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// An id list holds something that is not a numeric user id.
    #[error("{var} must be a comma-separated list of numeric user ids; `{bad}` is not one")]
    BadUserId {
        /// The variable.
        var: &'static str,
        /// The offending entry (an id list holds no secret).
        bad: String,
    },
    /// A boolean variable that is neither true nor false.
    #[error("{var} must be true or false, not `{bad}`")]
    BadBool {
        /// The variable.
        var: &'static str,
        /// The offending value.
        bad: String,
    },
    /// An endpoint override the engine refuses (untrusted host, not a URL).
    #[error("{0}")]
    Endpoint(String),
    /// The store options do not resolve (no `HOME`, a bad agent id or store format).
    #[error("{0}")]
    Store(String),
    /// `CODEX_PROFILER_USAGE_CONCURRENCY` is not a whole number in range.
    #[error("{0}")]
    BadConcurrency(String),
    /// `CODEX_PROFILER_HISTORY_DAYS` is not a number of days.
    #[error("{0}")]
    History(String),
    /// `CODEX_PROFILER_TZ` is not an IANA zone name.
    #[error("{0}")]
    Zone(String),
}

impl Failure for ConfigError {
    fn kind(&self) -> FailureKind {
        match self {
            ConfigError::Endpoint(_) => FailureKind::InputRefused,
            _ => FailureKind::Usage,
        }
    }
    fn code(&self) -> &'static str {
        match self {
            ConfigError::BadUserId { .. } => "bad_user_id",
            ConfigError::BadBool { .. } | ConfigError::History(_) => "bad_config_value",
            ConfigError::Zone(_) => "bad_time_zone",
            ConfigError::Store(_) => "bad_store_options",
            ConfigError::Endpoint(_) => "untrusted_endpoint",
            ConfigError::BadConcurrency(_) => "bad_concurrency",
        }
    }
}

impl ChatConfig {
    /// Read the configuration from the process environment (a `.env` file has already been
    /// loaded by the binary's entry point).
    pub fn from_env() -> Result<ChatConfig, ConfigError> {
        ChatConfig::from_lookup(|k| std::env::var(k).ok())
    }

    /// Read the configuration through `get` (the environment, or a map in tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<ChatConfig, ConfigError> {
        let non_empty = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let mut store = StoreOptions {
            state_dir: non_empty("OPENCLAW_STATE_DIR").map(PathBuf::from),
            ..StoreOptions::default()
        };
        if let Some(agent) = non_empty("OPENCLAW_AGENT") {
            store.agent = agent.trim().to_owned();
        }
        Ok(ChatConfig {
            admins: parse_ids("CODEX_PROFILER_ADMINS", get("CODEX_PROFILER_ADMINS"))?,
            users: parse_ids("CODEX_PROFILER_USERS", get("CODEX_PROFILER_USERS"))?,
            inline_buttons: parse_bool(
                "CODEX_PROFILER_INLINE_BUTTONS",
                get("CODEX_PROFILER_INLINE_BUTTONS"),
                true,
            )?,
            store,
            auth_issuer: non_empty("CODEX_PROFILER_AUTH_ISSUER"),
            usage_url: non_empty("CODEX_PROFILER_USAGE_URL"),
            history_days: non_empty("CODEX_PROFILER_HISTORY_DAYS"),
            via_gateway: parse_bool(
                "CODEX_PROFILER_VIA_GATEWAY",
                get("CODEX_PROFILER_VIA_GATEWAY"),
                false,
            )?,
            usage_concurrency: crate::engine::usage::concurrency_from_env(
                get(crate::engine::usage::CONCURRENCY_VAR).as_deref(),
            )
            .map_err(|e| ConfigError::BadConcurrency(e.to_string()))?,
            zone: Zone::system_with(&get).map_err(|e| ConfigError::Zone(e.to_string()))?,
            ..ChatConfig::default()
        })
    }

    /// Whether at least one admin is configured (`bot` refuses to start without one).
    pub fn has_admin(&self) -> bool {
        !self.admins.is_empty()
    }
}

/// Parse `1, 2,3` into user ids; empty or missing is an empty set.
pub fn parse_ids(var: &'static str, raw: Option<String>) -> Result<HashSet<UserId>, ConfigError> {
    let mut out = HashSet::new();
    for part in raw.as_deref().unwrap_or("").split(',') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let id = part.parse::<u64>().map_err(|_| ConfigError::BadUserId {
            var,
            bad: part.chars().take(40).collect(),
        })?;
        out.insert(UserId(id));
    }
    Ok(out)
}

/// An on/off setting: `1|true|yes|on`, `0|false|no|off`, empty or unset for the default.
pub(crate) fn parse_bool(
    var: &'static str,
    raw: Option<String>,
    default: bool,
) -> Result<bool, ConfigError> {
    let Some(raw) = raw else { return Ok(default) };
    match raw.trim().to_ascii_lowercase().as_str() {
        "" => Ok(default),
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(ConfigError::BadBool {
            var,
            bad: raw.chars().take(20).collect(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(pairs: &[(&str, &str)]) -> Result<ChatConfig, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        ChatConfig::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn reads_ids_and_flags() {
        let c = cfg(&[
            ("CODEX_PROFILER_ADMINS", "1, 2,"),
            ("CODEX_PROFILER_USERS", "3"),
            ("CODEX_PROFILER_INLINE_BUTTONS", "false"),
            ("OPENCLAW_AGENT", "work"),
        ])
        .unwrap();
        assert!(c.admins.contains(&UserId(1)) && c.admins.contains(&UserId(2)));
        assert_eq!(c.users.len(), 1);
        assert!(!c.inline_buttons);
        assert_eq!(c.store.agent, "work");
        assert!(c.has_admin());
    }

    #[test]
    fn defaults_and_errors() {
        let c = cfg(&[]).unwrap();
        assert!(c.inline_buttons && !c.has_admin() && c.store.agent == "main");
        assert!(matches!(
            cfg(&[("CODEX_PROFILER_ADMINS", "1,bob")]),
            Err(ConfigError::BadUserId { .. })
        ));
        assert!(matches!(
            cfg(&[("CODEX_PROFILER_INLINE_BUTTONS", "maybe")]),
            Err(ConfigError::BadBool { .. })
        ));
    }

    #[test]
    fn the_time_zone_comes_from_its_variable() {
        let c = cfg(&[("CODEX_PROFILER_TZ", "Asia/Kolkata")]).unwrap();
        assert_eq!(c.zone.name(), "Asia/Kolkata");
        let bad = cfg(&[("CODEX_PROFILER_TZ", "Nowhere/City")]).unwrap_err();
        assert!(bad.to_string().contains("CODEX_PROFILER_TZ"), "{bad}");
        assert_eq!(bad.kind().exit_code(), 2);
    }

    #[test]
    fn usage_concurrency_comes_from_its_variable() {
        assert_eq!(cfg(&[]).unwrap().usage_concurrency, 16);
        let c = cfg(&[("CODEX_PROFILER_USAGE_CONCURRENCY", "4")]).unwrap();
        assert_eq!(c.usage_concurrency, 4);
        let blank = cfg(&[("CODEX_PROFILER_USAGE_CONCURRENCY", " ")]).unwrap();
        assert_eq!(blank.usage_concurrency, 16);
        assert!(matches!(
            cfg(&[("CODEX_PROFILER_USAGE_CONCURRENCY", "0")]),
            Err(ConfigError::BadConcurrency(_))
        ));
    }
}
