//! Times as people read them, in the operator's zone: `14:25 IST` today, `Dec 3 14:25 IST`
//! on another day, `in 2h 13m` / `5m ago` relative to now, and both at once
//! (`14:25 IST, in 2h 13m`). Pure apart from [`Zone::system`], which reads the environment
//! and `/etc/localtime` once at startup.
//!
//! The zone is `CODEX_PROFILER_TZ` (an IANA name such as `Europe/Berlin`; a bad name is a
//! configuration error naming the variable), else the system's: `TZ` when it holds an IANA
//! name, else the zone `/etc/localtime` links to (or `/etc/timezone` names), else UTC. The tz
//! database is compiled in (chrono-tz), so a machine without tzdata renders the same.
//! JSON documents never use this module: they stay RFC 3339 UTC (SPEC). [`localise`] shows
//! the RFC 3339 times inside a text in the zone; [`Now`] is the instant times are shown
//! against (the system clock, or a fixed one in tests).

use std::path::Path;

use chrono::{DateTime, Datelike, TimeZone, Utc};
use chrono_tz::Tz;

use crate::engine::{Failure, FailureKind};

mod text;
pub use text::localise;

/// The variable that names the operator's zone.
pub const TZ_VAR: &str = "CODEX_PROFILER_TZ";

/// Where a [`Zone`] came from (for the docs and `--help`-like messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZoneSource {
    /// `CODEX_PROFILER_TZ`.
    Variable,
    /// The `TZ` variable.
    TzVariable,
    /// `/etc/localtime` (or `/etc/timezone`).
    System,
    /// Nothing named a zone, or `--utc`: UTC.
    Utc,
}

/// A time zone to show times in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Zone {
    tz: Tz,
    source: ZoneSource,
}

/// `CODEX_PROFILER_TZ` does not name a zone.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{TZ_VAR} must be an IANA time zone name such as Europe/Berlin or UTC; `{given}` is not one"
)]
pub struct ZoneError {
    /// What the variable held (a zone name holds no secret), shortened.
    pub given: String,
}

impl Failure for ZoneError {
    fn kind(&self) -> FailureKind {
        FailureKind::Usage
    }
    fn code(&self) -> &'static str {
        "bad_time_zone"
    }
}

impl Default for Zone {
    fn default() -> Self {
        Zone::utc()
    }
}

impl Zone {
    /// UTC.
    pub fn utc() -> Zone {
        Zone {
            tz: Tz::UTC,
            source: ZoneSource::Utc,
        }
    }

    /// The zone of an IANA name (`Asia/Kolkata`, `UTC`).
    pub fn named(name: &str) -> Result<Zone, ZoneError> {
        parse_name(name)
            .map(|tz| Zone {
                tz,
                source: ZoneSource::Variable,
            })
            .ok_or_else(|| ZoneError {
                given: name.chars().take(60).collect(),
            })
    }

    /// The operator's zone from the process environment and the system files.
    pub fn system() -> Result<Zone, ZoneError> {
        Zone::system_with(|k| std::env::var(k).ok())
    }

    /// The operator's zone from the variables `get` gives and the system files.
    pub fn system_with(get: impl Fn(&str) -> Option<String>) -> Result<Zone, ZoneError> {
        Zone::resolve(
            get,
            std::fs::read_link("/etc/localtime")
                .ok()
                .map(|p| p.to_string_lossy().into_owned()),
            std::fs::read_to_string("/etc/timezone").ok(),
        )
    }

    /// The zone from `get` (the environment), the target of `/etc/localtime` and the content
    /// of `/etc/timezone`, in that order of preference (see the module header).
    pub fn resolve(
        get: impl Fn(&str) -> Option<String>,
        localtime_link: Option<String>,
        timezone_file: Option<String>,
    ) -> Result<Zone, ZoneError> {
        if let Some(v) = get(TZ_VAR).filter(|v| !v.trim().is_empty()) {
            return Zone::named(v.trim());
        }
        let with = |tz, source| Zone { tz, source };
        // `TZ` is not ours: a POSIX rule string we cannot read falls through, silently.
        if let Some(tz) = get("TZ").as_deref().and_then(tz_variable) {
            return Ok(with(tz, ZoneSource::TzVariable));
        }
        let from_link = localtime_link.as_deref().and_then(zoneinfo_name);
        let from_file = timezone_file.as_deref().and_then(|s| parse_name(s.trim()));
        Ok(match from_link.or(from_file) {
            Some(tz) => with(tz, ZoneSource::System),
            None => Zone::utc(),
        })
    }

    /// The IANA name (`Asia/Kolkata`, `UTC`).
    pub fn name(&self) -> &'static str {
        self.tz.name()
    }

    /// Where the zone came from.
    pub fn source(&self) -> ZoneSource {
        self.source
    }

    fn local(&self, ms: i64) -> Option<DateTime<Tz>> {
        Utc.timestamp_millis_opt(ms)
            .single()
            .map(|t| t.with_timezone(&self.tz))
    }

    /// `14:25 IST` on the same local day as `now_ms`, `Dec 3 14:25 IST` on another day of the
    /// same year, `Dec 3 2027 14:25 IST` otherwise.
    pub fn at(&self, ms: i64, now_ms: i64) -> String {
        let (Some(t), Some(now)) = (self.local(ms), self.local(now_ms)) else {
            return "an unknown time".to_owned();
        };
        let fmt = if t.date_naive() == now.date_naive() {
            "%H:%M %Z"
        } else if t.year() == now.year() {
            "%b %-d %H:%M %Z"
        } else {
            "%b %-d %Y %H:%M %Z"
        };
        t.format(fmt).to_string()
    }

    /// `in 2h 13m`, `5m ago`, `now` (under a minute either way).
    pub fn relative(ms: i64, now_ms: i64) -> String {
        let secs = (ms - now_ms) / 1000;
        if secs.abs() < 60 {
            "now".to_owned()
        } else if secs > 0 {
            format!("in {}", span(secs))
        } else {
            format!("{} ago", span(secs.saturating_neg()))
        }
    }

    /// Both: `14:25 IST, in 2h 13m`.
    pub fn at_relative(&self, ms: i64, now_ms: i64) -> String {
        format!("{}, {}", self.at(ms, now_ms), Zone::relative(ms, now_ms))
    }

    /// [`Zone::at`] of an RFC 3339 time; the text itself when it does not parse.
    pub fn iso_absolute(&self, iso: &str, now_ms: i64) -> String {
        match DateTime::parse_from_rfc3339(iso) {
            Ok(t) => self.at(t.timestamp_millis(), now_ms),
            Err(_) => iso.to_owned(),
        }
    }

    /// [`Zone::at_relative`] of an RFC 3339 time (as the engine's reports carry them); the
    /// text itself when it does not parse.
    pub fn iso(&self, iso: &str, now_ms: i64) -> String {
        match DateTime::parse_from_rfc3339(iso) {
            Ok(t) => self.at_relative(t.timestamp_millis(), now_ms),
            Err(_) => iso.to_owned(),
        }
    }
}

/// The instant shown times are relative to: the system clock, or a fixed instant (a test, or
/// a replay that must read the same each time).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Now {
    /// The system clock.
    #[default]
    System,
    /// Always this instant, in ms since the epoch.
    Fixed(i64),
}

impl Now {
    /// Now, in ms since the epoch.
    pub fn ms(self) -> i64 {
        match self {
            Now::System => Utc::now().timestamp_millis(),
            Now::Fixed(ms) => ms,
        }
    }
}

/// A duration in seconds as people read it: `4d 15h`, `2h 13m`, `7m`, `<1m`.
pub fn span(secs: i64) -> String {
    let s = secs.max(0);
    let (d, h, m) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60);
    if d > 0 {
        format!("{d}d {h}h")
    } else if h > 0 {
        format!("{h}h {m}m")
    } else if m > 0 {
        format!("{m}m")
    } else {
        "<1m".to_owned()
    }
}

fn parse_name(name: &str) -> Option<Tz> {
    if name.is_empty() {
        return None;
    }
    name.parse::<Tz>().ok()
}

/// `TZ=Asia/Kolkata`, `TZ=:Asia/Kolkata` or `TZ=/usr/share/zoneinfo/Asia/Kolkata`.
fn tz_variable(v: &str) -> Option<Tz> {
    let v = v.trim().trim_start_matches(':');
    parse_name(v).or_else(|| zoneinfo_name(v))
}

/// The zone a path under a `zoneinfo` folder names (`/usr/share/zoneinfo/Europe/Berlin`).
fn zoneinfo_name(path: &str) -> Option<Tz> {
    let p = Path::new(path);
    let parts: Vec<&str> = p.iter().filter_map(|c| c.to_str()).collect();
    let at = parts.iter().rposition(|c| *c == "zoneinfo")?;
    parse_name(&parts[at + 1..].join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-01T12:00:00Z.
    const NOON: i64 = 1_796_126_400_000;
    const H: i64 = 3_600_000;
    const M: i64 = 60_000;

    fn zone(name: &str) -> Zone {
        Zone::named(name).unwrap()
    }

    #[test]
    fn renders_absolute_times_in_the_zone() {
        assert_eq!(Zone::utc().at(NOON + 2 * H + 25 * M, NOON), "14:25 UTC");
        // Kolkata is UTC+5:30: 14:25 UTC is 19:55 IST, the same day.
        let ist = zone("Asia/Kolkata");
        assert_eq!(ist.at(NOON + 2 * H + 25 * M, NOON), "19:55 IST");
        // 20:00 UTC is 01:30 IST the next day: a date is shown.
        assert_eq!(ist.at(NOON + 8 * H, NOON), "Dec 2 01:30 IST");
        assert_eq!(ist.at(NOON + 400 * 24 * H, NOON), "Jan 5 2028 17:30 IST");
        assert_eq!(Zone::utc().at(i64::MAX, NOON), "an unknown time");
    }

    #[test]
    fn new_york_across_the_dst_change() {
        let ny = zone("America/New_York");
        // 2026-03-08 06:00 UTC is 01:00 EST; three hours later the clocks have gone forward.
        let before = 1_772_949_600_000;
        assert_eq!(ny.at(before, before), "01:00 EST");
        assert_eq!(ny.at(before + 3 * H, before), "05:00 EDT");
        // November: back to EST.
        let nov = 1_793_689_200_000; // 2026-11-03T07:00:00Z
        assert_eq!(ny.at(nov, nov), "02:00 EST");
    }

    #[test]
    fn relative_and_both() {
        assert_eq!(Zone::relative(NOON + 2 * H + 13 * M, NOON), "in 2h 13m");
        assert_eq!(Zone::relative(NOON - 5 * M, NOON), "5m ago");
        assert_eq!(Zone::relative(NOON + 10_000, NOON), "now");
        assert_eq!(Zone::relative(NOON + 100 * H, NOON), "in 4d 4h");
        assert_eq!(
            Zone::utc().at_relative(NOON + 2 * H + 25 * M, NOON),
            "14:25 UTC, in 2h 25m"
        );
        assert_eq!(
            zone("Asia/Kolkata").iso("2026-12-01T14:25:00Z", NOON),
            "19:55 IST, in 2h 25m"
        );
        assert_eq!(Zone::utc().iso("garbage", NOON), "garbage");
    }

    #[test]
    fn the_variable_wins_and_a_bad_name_names_the_variable() {
        let get = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let z = Zone::resolve(
            get(&[(TZ_VAR, "Asia/Kolkata"), ("TZ", "Europe/Berlin")]),
            None,
            None,
        );
        assert_eq!(z.unwrap().name(), "Asia/Kolkata");
        let err = Zone::resolve(get(&[(TZ_VAR, "Mars/Olympus")]), None, None).unwrap_err();
        assert!(err.to_string().contains("CODEX_PROFILER_TZ"), "{err}");
        assert!(err.to_string().contains("Mars/Olympus"), "{err}");
        assert_eq!(err.kind().exit_code(), 2);
    }

    #[test]
    fn the_system_zone_is_tz_then_localtime_then_utc() {
        let none = |_: &str| None;
        let tz = |v: &'static str| move |k: &str| (k == "TZ").then(|| v.to_owned());
        let link = Some("/usr/share/zoneinfo/America/New_York".to_owned());
        let z = Zone::resolve(tz(":Asia/Kolkata"), link.clone(), None).unwrap();
        assert_eq!(
            (z.name(), z.source()),
            ("Asia/Kolkata", ZoneSource::TzVariable)
        );
        // A POSIX rule in TZ we cannot read: the link decides.
        let z = Zone::resolve(tz("<+0330>-3:30"), link.clone(), None).unwrap();
        assert_eq!(
            (z.name(), z.source()),
            ("America/New_York", ZoneSource::System)
        );
        let z = Zone::resolve(none, None, Some("Europe/Berlin\n".into())).unwrap();
        assert_eq!(z.name(), "Europe/Berlin");
        let z = Zone::resolve(none, Some("/somewhere/else".into()), None).unwrap();
        assert_eq!((z.name(), z.source()), ("UTC", ZoneSource::Utc));
    }
}
