//! `CODEX_PROFILER_HISTORY_DAYS`: how many days of history are kept (default 30).

/// The variable.
pub const HISTORY_DAYS_VAR: &str = "CODEX_PROFILER_HISTORY_DAYS";
/// Days kept when the variable is unset or empty.
pub const DEFAULT_DAYS: u32 = 30;
/// The most days accepted (ten years): beyond that a typo is likelier than a wish.
const MAX_DAYS: u32 = 3650;
const DAY_MS: i64 = 86_400_000;

/// How long rows are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    days: u32,
}

/// The variable holds something that is not a whole number of days in 1..=3650.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{HISTORY_DAYS_VAR} must be a whole number of days from 1 to {MAX_DAYS}, not `{0}`")]
pub struct RetentionError(String);

impl Default for Retention {
    fn default() -> Self {
        Retention { days: DEFAULT_DAYS }
    }
}

impl Retention {
    /// Parse the variable's value; unset or blank is the default.
    pub fn parse(raw: Option<&str>) -> Result<Retention, RetentionError> {
        let Some(v) = raw.map(str::trim).filter(|v| !v.is_empty()) else {
            return Ok(Retention::default());
        };
        match v.parse::<u32>() {
            Ok(days) if (1..=MAX_DAYS).contains(&days) => Ok(Retention { days }),
            _ => Err(RetentionError(v.chars().take(20).collect())),
        }
    }

    /// Read it from the process environment.
    pub fn from_env() -> Result<Retention, RetentionError> {
        Retention::parse(std::env::var(HISTORY_DAYS_VAR).ok().as_deref())
    }

    /// Days kept.
    pub fn days(self) -> u32 {
        self.days
    }

    /// Rows taken before this time are pruned.
    pub fn cutoff_ms(self, now_ms: i64) -> i64 {
        now_ms.saturating_sub(i64::from(self.days) * DAY_MS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_days_and_refuses_nonsense() {
        assert_eq!(Retention::parse(None).unwrap().days(), 30);
        assert_eq!(Retention::parse(Some(" ")).unwrap().days(), 30);
        assert_eq!(Retention::parse(Some("7")).unwrap().days(), 7);
        for bad in ["0", "-3", "1.5", "lots", "99999"] {
            let e = Retention::parse(Some(bad)).unwrap_err().to_string();
            assert!(e.contains(HISTORY_DAYS_VAR) && e.contains(bad), "{e}");
        }
        assert_eq!(
            Retention::parse(Some("2")).unwrap().cutoff_ms(DAY_MS * 5),
            DAY_MS * 3
        );
    }
}
