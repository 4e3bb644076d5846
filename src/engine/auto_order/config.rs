//! Auto-order's settings: the strategy (`CODEX_PROFILER_AUTO_ORDER`, off by default) and the
//! last alert threshold (`CODEX_PROFILER_ALERT_AT`, default `80,95` → 95), which drain-first
//! drains the first profile to. [`parse_alert_at`] is the one parser of
//! `CODEX_PROFILER_ALERT_AT`: the watcher's threshold alerts use it too.

use serde::Serialize;

/// The variable that turns auto-order on and picks its strategy.
pub const AUTO_ORDER_VAR: &str = "CODEX_PROFILER_AUTO_ORDER";

/// The variable holding the alert thresholds (percent used).
pub const ALERT_AT_VAR: &str = "CODEX_PROFILER_ALERT_AT";

/// The thresholds when `CODEX_PROFILER_ALERT_AT` is unset or blank.
pub const DEFAULT_ALERT_AT: [u8; 2] = [80, 95];

/// How auto-order picks the first profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// The usable profile with the most quota left in its tighter window goes first.
    MostLeft,
    /// Keep the first profile until it is limited or crosses the last threshold, then move
    /// the one with the most left first: windows run out and recover staggered.
    DrainFirst,
}

impl Strategy {
    /// The word of the variable and the `--strategy` flag.
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::MostLeft => "most-left",
            Strategy::DrainFirst => "drain-first",
        }
    }

    /// Parse a strategy word (trimmed, any case). `Ok(None)` for `off`; unknown words are a
    /// [`ConfigError`] naming `var` and the accepted values.
    pub fn parse(var: &'static str, raw: &str) -> Result<Option<Strategy>, ConfigError> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "" | "off" => Ok(None),
            "most-left" => Ok(Some(Strategy::MostLeft)),
            "drain-first" => Ok(Some(Strategy::DrainFirst)),
            _ => Err(ConfigError::Strategy {
                var,
                got: raw.trim().chars().take(40).collect(),
            }),
        }
    }
}

/// A setting that cannot be used: the sentence names the variable and what it accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// An unknown strategy word.
    #[error("{var} must be off, most-left or drain-first (got `{got}`)")]
    Strategy {
        /// The variable (or flag) it came from.
        var: &'static str,
        /// What it held (at most 40 characters).
        got: String,
    },
    /// A threshold list that does not parse.
    #[error(
        "{ALERT_AT_VAR} must be a comma-separated list of percentages from 1 to 100, e.g. 80,95 (got `{got}`)"
    )]
    AlertAt {
        /// What it held (at most 40 characters).
        got: String,
    },
}

/// Parse `CODEX_PROFILER_ALERT_AT`: comma-separated whole percentages of quota *used*, each
/// 1..=100 (spaces around items allowed, e.g. `80, 95`), returned sorted ascending without
/// duplicates. A blank value is the default `[80, 95]`; an empty item, a fraction, 0 or more
/// than 100 is a [`ConfigError::AlertAt`]. The last element is the threshold drain-first
/// drains to.
pub fn parse_alert_at(raw: &str) -> Result<Vec<u8>, ConfigError> {
    if raw.trim().is_empty() {
        return Ok(DEFAULT_ALERT_AT.to_vec());
    }
    let bad = || ConfigError::AlertAt {
        got: raw.trim().chars().take(40).collect(),
    };
    let mut out = Vec::new();
    for item in raw.split(',') {
        let n: u8 = item.trim().parse().map_err(|_| bad())?;
        if !(1..=100).contains(&n) {
            return Err(bad());
        }
        out.push(n);
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// Auto-order's configuration, read once at startup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Settings {
    /// `None` when auto-order is off.
    pub strategy: Option<Strategy>,
    /// The last (highest) alert threshold, percent used.
    pub last_threshold: u8,
}

impl Settings {
    /// Read both variables through `get` (the process environment in the binary); unset
    /// and blank values take the defaults (off; 95).
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Settings, ConfigError> {
        let strategy = match get(AUTO_ORDER_VAR) {
            Some(v) => Strategy::parse(AUTO_ORDER_VAR, &v)?,
            None => None,
        };
        let thresholds = parse_alert_at(&get(ALERT_AT_VAR).unwrap_or_default())?;
        Ok(Settings {
            strategy,
            last_threshold: last_threshold(&thresholds),
        })
    }
}

/// The last threshold of a parsed list (95 for an empty one, which [`parse_alert_at`] never
/// returns).
pub fn last_threshold(thresholds: &[u8]) -> u8 {
    thresholds
        .last()
        .copied()
        .unwrap_or(DEFAULT_ALERT_AT[DEFAULT_ALERT_AT.len() - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn strategy_words() {
        let p = |s| Strategy::parse(AUTO_ORDER_VAR, s);
        assert_eq!(p(""), Ok(None));
        assert_eq!(p(" OFF "), Ok(None));
        assert_eq!(p("most-left"), Ok(Some(Strategy::MostLeft)));
        assert_eq!(p("Drain-First"), Ok(Some(Strategy::DrainFirst)));
        let e = p("most_left").unwrap_err().to_string();
        assert!(e.contains(AUTO_ORDER_VAR), "{e}");
        assert!(
            e.contains("off, most-left or drain-first") && e.contains("most_left"),
            "{e}"
        );
    }

    #[test]
    fn alert_at_lists() {
        assert_eq!(parse_alert_at(""), Ok(vec![80, 95]));
        assert_eq!(parse_alert_at("95, 80,80"), Ok(vec![80, 95]));
        assert_eq!(parse_alert_at("100"), Ok(vec![100]));
        for bad in ["0", "101", "80,", "eighty", "80.5", "-5", "80;95"] {
            let e = parse_alert_at(bad).unwrap_err().to_string();
            assert!(e.contains(ALERT_AT_VAR) && e.contains(bad), "{bad}: {e}");
        }
    }

    #[test]
    fn settings_default_off_at_95() {
        assert_eq!(
            Settings::from_env(env(&[])),
            Ok(Settings {
                strategy: None,
                last_threshold: 95
            })
        );
        let s = Settings::from_env(env(&[
            (AUTO_ORDER_VAR, "drain-first"),
            (ALERT_AT_VAR, "70,90"),
        ]))
        .unwrap();
        assert_eq!(s.strategy, Some(Strategy::DrainFirst));
        assert_eq!(s.last_threshold, 90);
        assert!(Settings::from_env(env(&[(AUTO_ORDER_VAR, "yes")])).is_err());
        assert!(Settings::from_env(env(&[(ALERT_AT_VAR, "200")])).is_err());
    }
}
