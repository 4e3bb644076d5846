//! The CLI's text shows every time in the operator's zone, absolute and relative (issue 11
//! item 8), through the real binary over a real state database and the loopback usage
//! endpoint: the usage lines' resets (`resets 19:43 IST, in 2h 13m`), the backups list, the
//! layers, the order's blocked profiles, the profiles' expiry and the doctor; `--utc` shows
//! UTC; JSON keeps RFC 3339 UTC and SPEC section 7's relative `formatted_profiles`.

use codex_profiler::engine::clock::Zone;
use serde_json::{Value, json};

use crate::support::cli::{self, Run};
use crate::support::fixtures::{Fixture, oauth_profile};
use crate::support::usage_server::{self, Reply, UsageServer};

const ALICE: &str = "openai:alice@example.com";
const BOB: &str = "openai:bob@example.com";
/// 2050-03-13T09:00:00Z: 14:30 IST, 05:00 EDT (New York went to summer time at 07:00 UTC).
const BLOCKED_UNTIL: i64 = 2_530_774_800_000;

struct World {
    fx: Fixture,
    server: UsageServer,
}

fn world() -> World {
    let fx = Fixture::new();
    let store = json!({"version": 1, "profiles": {
        ALICE: oauth_profile("openai", "alice@example.com", "acc-alice", "plus", BLOCKED_UNTIL),
        BOB: oauth_profile("openai", "bob@example.com", "acc-bob", "pro", BLOCKED_UNTIL),
    }});
    let state = json!({"version": 1, "order": {"openai": [BOB, ALICE]},
        "usageStats": {BOB: {"blockedUntil": BLOCKED_UNTIL}}});
    fx.state_db(&store, Some(&state));
    let server = usage_server::full_for(&store, ALICE);
    World { fx, server }
}

impl World {
    fn run(&self, zone: &str, args: &[&str]) -> Run {
        let state = self.fx.state_arg();
        let mut all = vec!["--state-dir", state.as_str()];
        all.extend_from_slice(args);
        let env = [
            ("CODEX_PROFILER_TZ", zone),
            ("CODEX_PROFILER_USAGE_URL", self.server.url.as_str()),
        ];
        let r = cli::run(self.fx.home(), &env, &all);
        r.expect_code(0);
        r
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// `resets <when>, in <delay>` as the zone names a reset `after_s` from `now`: one string for
/// each instant the run may have read as now.
fn resets(zone: &str, after_s: i64, delay: &str, before: i64, after: i64) -> Vec<String> {
    let z = Zone::named(zone).unwrap();
    [before, after]
        .iter()
        .map(|n| format!("(resets {}, in {delay})", z.at(n + after_s * 1000, *n)))
        .collect()
}

fn has_one_of(text: &str, options: &[String]) {
    assert!(
        options.iter().any(|o| text.contains(o.as_str())),
        "none of {options:?} in:\n{text}"
    );
}

#[test]
fn usage_resets_are_absolute_in_the_zone_and_relative_and_json_stays_as_it_was() {
    let w = world();
    for (zone, flag) in [
        ("Asia/Kolkata", None),
        ("America/New_York", None),
        ("Asia/Kolkata", Some("--utc")),
    ] {
        let before = now();
        let args: Vec<&str> = flag.into_iter().chain(["usage"]).collect();
        let r = w.run(zone, &args);
        let after = now();
        let shown = if flag.is_some() { "UTC" } else { zone };
        has_one_of(&r.stdout, &resets(shown, 7980, "2h 13m", before, after));
        // The weekly window resets on another day: the date is shown.
        has_one_of(&r.stdout, &resets(shown, 399_600, "4d 15h", before, after));
    }
    let doc: Value = w.run("Asia/Kolkata", &["--json", "usage"]).json();
    let line = doc["formatted_profiles"][0].as_str().unwrap();
    assert!(
        line.starts_with(
            "alice@example.com · plus · 5h 42% left (resets 2h 13m) · week 88% left (resets 4d 15h)"
        ),
        "{line}"
    );
    let window = &doc["profiles"][0]["remote_usage"]["windows"][0];
    assert_eq!(window["reset_after_seconds"], 7980, "{window}");
    assert!(!doc.to_string().contains(" IST"), "{doc}");
}

#[test]
fn every_text_view_shows_the_zone_and_utc_with_the_flag() {
    let w = world();
    // A change, so there is a backup to list.
    w.run("Asia/Kolkata", &["order", "set", ALICE, BOB]);
    for (zone, blocked, taken) in [
        (
            "Asia/Kolkata",
            "Mar 13 2050 14:30 IST, in ",
            &[" IST, "][..],
        ),
        (
            "America/New_York",
            "Mar 13 2050 05:00 EDT, in ",
            &[" EST, ", " EDT, "],
        ),
    ] {
        // Taken a moment ago: `14:25 IST, now  before order-set ...`.
        let backups = w.run(zone, &["backups", "list"]).stdout;
        assert!(taken.iter().any(|t| backups.contains(t)), "{backups}");
        assert!(backups.contains("  before order-set  "), "{backups}");
        assert!(!backups.contains("Z  before"), "{backups}");
        for args in [
            &["order", "get"][..],
            &["layers"],
            &["profiles"],
            &["doctor"],
        ] {
            let out = w.run(zone, args).stdout;
            assert!(!out.contains("2050-03-13T"), "{args:?}: {out}");
            if args != ["doctor"] {
                assert!(out.contains(blocked), "{args:?}: {out}");
            }
        }
    }
    let utc = w.run("Asia/Kolkata", &["--utc", "order", "get"]).stdout;
    assert!(utc.contains("Mar 13 2050 09:00 UTC, in "), "{utc}");
    let backups = w.run("Asia/Kolkata", &["--utc", "backups", "list"]).stdout;
    assert!(backups.contains(" UTC, "), "{backups}");
}

/// `watch --once` names a reset in the zone, and in UTC with `--utc`; the JSON keeps RFC 3339.
#[test]
fn the_watchers_sentences_follow_the_zone_and_the_utc_flag() {
    use crate::watch::{Gateway, used};
    let g = Gateway::new(None);
    let server = g.server(
        Reply::Sequence(vec![used(50.0), used(85.0), used(96.0)]),
        used(20.0),
    );
    let state = g.fx.state_arg();
    let watch = |flags: &[&str]| {
        let mut args: Vec<&str> = flags.to_vec();
        args.extend(["--state-dir", state.as_str(), "watch", "--once"]);
        let env = [
            ("CODEX_PROFILER_TZ", "Asia/Kolkata"),
            ("CODEX_PROFILER_USAGE_URL", server.url.as_str()),
        ];
        let r = cli::run(g.fx.home(), &env, &args);
        r.expect_code(0);
        r.stdout
    };
    assert!(watch(&[]).starts_with("First check"));
    let crossed = watch(&["--utc"]);
    assert!(
        crossed.contains("(threshold 80%), which resets at ") && crossed.contains(" UTC"),
        "{crossed}"
    );
    // The next crossing (95%), in the zone.
    let crossed = watch(&[]);
    assert!(
        crossed.contains(" IST") && !crossed.contains("UTC"),
        "{crossed}"
    );
}
