//! The watcher's three variables: `CODEX_PROFILER_WATCH_INTERVAL` (how long a round takes,
//! default 10 min, `0` turns the bot's watcher off; `600`, `90s`, `10m`, `1h`),
//! `CODEX_PROFILER_ALERT_AT` (used-percent thresholds, default `80,95`) and
//! `CODEX_PROFILER_ALERT_AHEAD` (how soon a forecast run-out before the reset is worth an
//! alert, default 60 min, the same duration syntax).

use std::time::Duration;

/// The round length variable.
pub const INTERVAL_VAR: &str = "CODEX_PROFILER_WATCH_INTERVAL";
/// The thresholds variable.
pub const ALERT_AT_VAR: &str = "CODEX_PROFILER_ALERT_AT";
/// The forecast horizon variable.
pub const ALERT_AHEAD_VAR: &str = "CODEX_PROFILER_ALERT_AHEAD";
/// Default round length.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(600);
/// Default thresholds, percent used.
pub const DEFAULT_ALERT_AT: [u8; 2] = [80, 95];
/// Default forecast horizon.
pub const DEFAULT_AHEAD: Duration = Duration::from_secs(3600);
/// The longest duration accepted (a week): beyond that a typo is likelier than a wish.
const MAX_DURATION_S: u64 = 7 * 86_400;

/// A variable holds something the watcher cannot use. Names the variable and the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{var} {why}, not `{value}`")]
pub struct BadWatchSetting {
    /// The variable.
    pub var: &'static str,
    /// What it should be.
    pub why: &'static str,
    /// What it was (at most 20 characters).
    pub value: String,
}

/// What the watcher was told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchConfig {
    /// How long a round takes (the profiles are spread over it); zero: off.
    pub interval: Duration,
    /// Thresholds in percent used, ascending, without duplicates.
    pub alert_at: Vec<u8>,
    /// How soon a run-out before the reset is alerted.
    pub ahead: Duration,
}

impl Default for WatchConfig {
    fn default() -> Self {
        WatchConfig {
            interval: DEFAULT_INTERVAL,
            alert_at: DEFAULT_ALERT_AT.to_vec(),
            ahead: DEFAULT_AHEAD,
        }
    }
}

impl WatchConfig {
    /// Read the three variables through `get` (the process environment in the binary); unset
    /// or blank is the default.
    pub fn from_lookup(
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<WatchConfig, BadWatchSetting> {
        let value = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        Ok(WatchConfig {
            interval: match value(INTERVAL_VAR) {
                Some(v) => parse_duration(INTERVAL_VAR, &v)?,
                None => DEFAULT_INTERVAL,
            },
            alert_at: match value(ALERT_AT_VAR) {
                Some(v) => parse_thresholds(&v)?,
                None => DEFAULT_ALERT_AT.to_vec(),
            },
            ahead: match value(ALERT_AHEAD_VAR) {
                Some(v) => parse_duration(ALERT_AHEAD_VAR, &v)?,
                None => DEFAULT_AHEAD,
            },
        })
    }

    /// Read them from the process environment.
    pub fn from_env() -> Result<WatchConfig, BadWatchSetting> {
        WatchConfig::from_lookup(|k| std::env::var(k).ok())
    }

    /// Whether the bot runs a watcher (`CODEX_PROFILER_WATCH_INTERVAL=0` turns it off).
    pub fn enabled(&self) -> bool {
        !self.interval.is_zero()
    }
}

fn bad(var: &'static str, why: &'static str, value: &str) -> BadWatchSetting {
    BadWatchSetting {
        var,
        why,
        value: value.chars().take(20).collect(),
    }
}

/// `600`, `600s`, `10m`, `1h`, `0`: whole seconds, minutes or hours, at most a week.
pub fn parse_duration(var: &'static str, raw: &str) -> Result<Duration, BadWatchSetting> {
    const WHY: &str = "must be a duration such as 600, 90s, 10m or 1h (at most a week)";
    let v = raw.trim();
    let (digits, unit) = match v.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => v.split_at(i),
        None => (v, "s"),
    };
    let n: u64 = digits.parse().map_err(|_| bad(var, WHY, v))?;
    let scale = match unit.trim() {
        "s" | "sec" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        _ => return Err(bad(var, WHY, v)),
    };
    match n.checked_mul(scale) {
        Some(s) if s <= MAX_DURATION_S => Ok(Duration::from_secs(s)),
        _ => Err(bad(var, WHY, v)),
    }
}

/// `80,95`: percentages from 1 to 100, sorted, duplicates dropped; at least one.
pub fn parse_thresholds(raw: &str) -> Result<Vec<u8>, BadWatchSetting> {
    const WHY: &str = "must be comma-separated percentages from 1 to 100, such as 80,95";
    let mut out = Vec::new();
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.trim_end_matches('%').parse::<u8>() {
            Ok(p) if (1..=100).contains(&p) => out.push(p),
            _ => return Err(bad(ALERT_AT_VAR, WHY, raw.trim())),
        }
    }
    if out.is_empty() {
        return Err(bad(ALERT_AT_VAR, WHY, raw.trim()));
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_seconds_minutes_and_hours() {
        let d = |s| parse_duration(INTERVAL_VAR, s);
        assert_eq!(d("600"), Ok(Duration::from_secs(600)));
        assert_eq!(d("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(d("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(d(" 1h "), Ok(Duration::from_secs(3600)));
        assert_eq!(d("0"), Ok(Duration::ZERO));
        for bad in [
            "",
            "ten",
            "10d",
            "-5",
            "1.5h",
            "8d",
            "99999999999999999999h",
            "169h",
        ] {
            assert!(d(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn thresholds_sorted_and_bounded() {
        assert_eq!(parse_thresholds("95, 80,80"), Ok(vec![80, 95]));
        assert_eq!(parse_thresholds("50%"), Ok(vec![50]));
        for bad in ["", ",", "0", "101", "eighty", "80;95"] {
            assert!(parse_thresholds(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn unset_or_blank_is_the_default_and_zero_turns_it_off() {
        let c = WatchConfig::from_lookup(|k| (k == ALERT_AT_VAR).then(|| " ".to_owned()));
        assert_eq!(c, Ok(WatchConfig::default()));
        let off = WatchConfig::from_lookup(|k| (k == INTERVAL_VAR).then(|| "0".to_owned()));
        assert!(!off.map(|c| c.enabled()).unwrap_or(true));
        let e = WatchConfig::from_lookup(|k| (k == ALERT_AHEAD_VAR).then(|| "soon".to_owned()));
        assert!(e.unwrap_err().to_string().contains(ALERT_AHEAD_VAR));
    }
}
