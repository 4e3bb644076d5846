//! The forecast as lines of text, for `usage` and the chat's usage result:
//! `alice@example.com · 5h runs out in ~40 min (30–55 min), before its reset at 14:25 UTC`.
//! Times are in the [`Zone`] given (UTC in JSON) and relative; nothing negative, NaN or
//! absurd is printed, since the values were bounded when they were made.

use crate::engine::clock::Zone;

use super::window::{Status, WindowForecast};
use super::{Forecast, PoolForecast, PoolStatus, ProfileForecast};

const SEP: &str = " · ";

/// A duration as `~`-free text: `40 min`, `3h 10m`, `2d 4h`.
pub fn approx(secs: i64) -> String {
    let s = secs.max(0);
    if s < 3600 {
        format!("{} min", ((s + 30) / 60).max(1))
    } else if s < 48 * 3600 {
        let m = (s + 150) / 300 * 5;
        match (m / 60, m % 60) {
            (h, 0) => format!("{h}h"),
            (h, m) => format!("{h}h {m}m"),
        }
    } else {
        let h = (s + 1800) / 3600;
        match (h / 24, h % 24) {
            (d, 0) => format!("{d}d"),
            (d, h) => format!("{d}d {h}h"),
        }
    }
}

/// `(30–55 min)` or `(2h 40m–4h)`.
fn range(lo: i64, hi: i64) -> String {
    if hi < 3600 {
        format!("({}–{})", ((lo.max(0) + 30) / 60).max(1), approx(hi))
    } else {
        format!("({}–{})", approx(lo), approx(hi))
    }
}

/// A time in `zone`: `14:25 UTC` on the day of `now`, else `Dec 3 14:25 UTC`.
pub fn clock(at_ms: i64, now_ms: i64, zone: &Zone) -> String {
    zone.at(at_ms, now_ms)
}

fn name(w: &WindowForecast) -> String {
    match &w.limit {
        Some(l) => format!("{l} {}", w.label),
        None => w.label.clone(),
    }
}

/// One window's part of a line.
pub fn window_text(w: &WindowForecast, now_ms: i64, zone: &Zone) -> String {
    let n = name(w);
    let reset = w.reset_at_ms.map(|r| clock(r, now_ms, zone));
    match (w.status, reset) {
        (Status::RunsOut, reset) => {
            let mut s = format!(
                "{n} runs out in ~{}",
                approx(w.runs_out_in_seconds.unwrap_or(0))
            );
            if let Some([lo, hi]) = w.runs_out_range_seconds {
                s.push_str(&format!(" {}", range(lo, hi)));
            }
            if let Some(r) = reset {
                s.push_str(&format!(", before its reset at {r}"));
            }
            s
        }
        (Status::LastsUntilReset, Some(r)) => format!("{n} lasts until its reset at {r}"),
        (Status::LastsUntilReset | Status::Idle, None) => format!("{n} lasts at this pace"),
        (Status::Idle, Some(r)) => format!("{n} idle, resets at {r}"),
        (Status::Exhausted, Some(r)) => format!(
            "{n} used up, resets at {r} (in {})",
            approx(w.reset_in_seconds.unwrap_or(0))
        ),
        (Status::Exhausted, None) => format!("{n} used up"),
        (Status::ResetSinceLastCheck, _) => format!("{n} has reset since the last check"),
        (Status::InsufficientData, _) => format!(
            "{n} not enough history yet ({} check{} in this window)",
            w.samples,
            if w.samples == 1 { "" } else { "s" }
        ),
        (Status::Stale, _) => format!("{n} no recent check to project from"),
    }
}

/// One line for a profile.
pub fn profile_line(p: &ProfileForecast, now_ms: i64, zone: &Zone) -> String {
    let mut parts = vec![p.label.clone()];
    let insufficient = |w: &WindowForecast| w.status == Status::InsufficientData;
    if p.windows.is_empty() {
        parts.push("no usage reported to forecast from".to_owned());
    } else if p.windows.iter().all(insufficient) {
        // One short verdict instead of the same words per window.
        let n = p.windows.iter().map(|w| w.samples).max().unwrap_or(0);
        parts.push(format!(
            "not enough history yet ({n} check{} in this window)",
            if n == 1 { "" } else { "s" }
        ));
    } else {
        parts.extend(p.windows.iter().map(|w| window_text(w, now_ms, zone)));
    }
    parts.join(SEP)
}

fn recovery_text(p: &PoolForecast, now_ms: i64, zone: &Zone) -> Option<String> {
    p.next_recovery.as_ref().map(|r| {
        format!(
            "next recovery: {} {} at {} (in {})",
            r.label,
            r.window,
            clock(r.at_ms, now_ms, zone),
            approx(r.in_seconds)
        )
    })
}

/// The pool's line.
pub fn pool_line(p: &PoolForecast, now_ms: i64, zone: &Zone) -> String {
    let who = format!(
        "pool ({} usable profile{})",
        p.usable_profiles,
        if p.usable_profiles == 1 { "" } else { "s" }
    );
    let mut parts = vec![who];
    match p.status {
        PoolStatus::RunsOut => {
            let mut s = format!(
                "all usable quota runs out in ~{}",
                approx(p.runs_out_in_seconds.unwrap_or(0))
            );
            if let Some([lo, hi]) = p.runs_out_range_seconds {
                s.push_str(&format!(" {}", range(lo, hi)));
            }
            if let Some(w) = &p.window {
                s.push_str(&format!(" at the current pace ({w} windows)"));
            }
            parts.push(s);
        }
        PoolStatus::Lasts => parts.push("does not run out at the current pace".to_owned()),
        PoolStatus::InsufficientData => parts.push(format!(
            "not enough history yet for {} of them",
            p.profiles_without_forecast
        )),
        PoolStatus::NoUsableProfiles => parts.push("no usable profile now".to_owned()),
    }
    parts.extend(recovery_text(p, now_ms, zone));
    parts.join(SEP)
}

/// Every profile's line, then the pool's, in UTC (the JSON document's `lines`).
pub fn lines(f: &Forecast) -> Vec<String> {
    let utc = Zone::utc();
    let mut out: Vec<String> = f
        .profiles
        .iter()
        .map(|p| profile_line(p, f.now_ms, &utc))
        .collect();
    out.push(pool_line(&f.pool, f.now_ms, &utc));
    out
}

/// The top-level `forecast` of `usage --format json`: `available`, the forecast's fields
/// (`generated_at`, `profiles`, `pool`), its `lines`, and the history `warnings`.
pub fn json(f: Option<&Forecast>, warnings: &[String]) -> serde_json::Value {
    let mut doc = match f.map(serde_json::to_value) {
        Some(Ok(serde_json::Value::Object(m))) => m,
        _ => serde_json::Map::new(),
    };
    doc.insert("available".into(), serde_json::json!(f.is_some()));
    doc.entry("profiles")
        .or_insert_with(|| serde_json::json!([]));
    doc.entry("pool").or_insert(serde_json::Value::Null);
    doc.insert(
        "lines".into(),
        serde_json::json!(f.map(lines).unwrap_or_default()),
    );
    doc.insert("warnings".into(), serde_json::json!(warnings));
    serde_json::Value::Object(doc)
}

/// The lines people see: each profile with usage to forecast from, then the pool; or one
/// line saying there is not enough history yet when nothing can be forecast at all (the first
/// checks), so a fresh install is not flooded with "not enough history" per window.
pub fn shown_lines(f: &Forecast, zone: &Zone) -> Vec<String> {
    let anything = f.profiles.iter().any(|p| {
        p.windows
            .iter()
            .any(|w| w.status != Status::InsufficientData)
    });
    if !anything {
        return vec![
            "not enough history yet: a forecast needs 3 checks over 10 minutes or more".to_owned(),
        ];
    }
    let mut out: Vec<String> = f
        .profiles
        .iter()
        .filter(|p| !p.windows.is_empty())
        .map(|p| profile_line(p, f.now_ms, zone))
        .collect();
    out.push(pool_line(&f.pool, f.now_ms, zone));
    out
}

/// The `Forecast:` block `usage` prints after its summary line.
pub fn text(f: Option<&Forecast>, zone: &Zone) -> String {
    match f.map(|f| shown_lines(f, zone)) {
        Some(lines) if lines.len() == 1 => format!("Forecast: {}\n", lines[0]),
        Some(lines) => {
            let mut out = String::from("Forecast:\n");
            for l in lines {
                out.push_str("  ");
                out.push_str(&l);
                out.push('\n');
            }
            out
        }
        None => "Forecast: unavailable (the usage history could not be used)\n".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_well_and_never_go_negative() {
        assert_eq!(approx(-50), "1 min");
        assert_eq!(approx(40 * 60), "40 min");
        assert_eq!(approx(3 * 3600 + 10 * 60), "3h 10m");
        assert_eq!(approx(4 * 3600), "4h");
        assert_eq!(approx(52 * 3600), "2d 4h");
        assert_eq!(range(30 * 60, 55 * 60), "(30–55 min)");
        assert_eq!(range(9600, 4 * 3600), "(2h 40m–4h)");
        let now = 1_800_000_000_000;
        let utc = Zone::utc();
        assert_eq!(clock(now, now, &utc), "08:00 UTC");
        assert_eq!(clock(now + 3 * 86_400_000, now, &utc), "Jan 18 08:00 UTC");
        let ist = Zone::named("Asia/Kolkata").unwrap();
        assert_eq!(clock(now, now, &ist), "13:30 IST");
    }
}
