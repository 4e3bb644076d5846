//! Every time the chat shows is in the operator's zone, absolute and relative (issue 11 item
//! 8), rendered at a fixed instant over the real engine and a real state database: the usage
//! result's resets, the backups list, a restore's confirmation, the layers, the order's
//! blocked profiles, a profile's status, the doctor and the rotation, in `Asia/Kolkata` and in
//! `America/New_York` across its spring DST change; then end to end through the terminal
//! adapter. No RFC 3339 time and no UTC is left in anything shown.

use std::sync::Arc;

use codex_profiler::chat::ChatConfig;
use codex_profiler::chat::Conversation;
use codex_profiler::engine::clock::{Now, Zone};
use serde_json::{Value, json};

use super::backups::{ALICE, BOB, World, config, has};
use super::recording::Recording;
use crate::support::cli::{self, run_with_stdin};
use crate::support::fixtures::{Fixture, oauth_profile};
use crate::support::usage_server::{self, UsageServer};

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;

/// 2099-12-31T12:00:00Z: 17:30 IST.
const KOLKATA_NOW: i64 = 4_102_401_600_000;
/// 2050-03-13T06:00:00Z: 01:00 EST; at 07:00 UTC New York's clocks go forward to EDT.
/// (The compiled-in tz data stops applying DST rules long before 2100.)
const NEW_YORK_NOW: i64 = 2_530_764_000_000;

fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Alice and bob, both valid until `now + 12h`; bob first in the order but blocked for 3h.
fn store(now: i64) -> Value {
    json!({"version": 1, "profiles": {
        ALICE: oauth_profile("openai", "alice@example.com", "acc-alice", "plus", now + 12 * HOUR),
        BOB: oauth_profile("openai", "bob@example.com", "acc-bob", "pro", now + 12 * HOUR),
    }})
}

fn state(now: i64) -> Value {
    json!({"version": 1, "order": {"openai": [BOB, ALICE]}, "lastGood": {"openai": ALICE},
        "usageStats": {BOB: {"blockedUntil": now + 3 * HOUR}}})
}

/// The one backup on disk, marked as taken at `at`.
fn backdate_backup(fx: &Fixture, at: &str) {
    let dir = fx.state_dir().join("codex-profiler/backups");
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    let mut rec: Value = serde_json::from_slice(&std::fs::read(&names[0]).unwrap()).unwrap();
    rec["created_at"] = json!(at);
    std::fs::write(&names[0], serde_json::to_vec(&rec).unwrap()).unwrap();
}

/// `store` and `state` in `fx`'s state database, and the usage endpoint answering alice.
fn seed(fx: &Fixture, store: &Value, state: &Value) -> UsageServer {
    fx.state_db(store, Some(state));
    usage_server::full_for(store, ALICE)
}

/// A conversation in `zone` at `now`, the usage endpoint answering alice with the full reply.
fn world(zone: &str, now: i64) -> (World, UsageServer) {
    let fx = Fixture::new();
    let store = store(now);
    let server = seed(&fx, &store, &state(now));
    let chat = ChatConfig {
        zone: Zone::named(zone).unwrap(),
        now: Now::Fixed(now),
        usage_url: Some(server.url.clone()),
        ..config(&fx)
    };
    let conv: Arc<Conversation> = Conversation::new(chat).unwrap();
    let w = World {
        fx,
        store,
        conv,
        t: Arc::new(Recording::new(false)),
    };
    (w, server)
}

/// Every view with a time, in reply words (the text fallback), each answer returned. The
/// backups come last: a delete takes the backup they list, marked as taken at `backup_at`.
async fn every_view(w: &World, backup_at: &str) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let mut say = async |name: &'static str, said: &str| {
        w.say(said).await;
        out.push((name, w.last_shown().1));
    };
    say("usage", "/codex_usage all").await;
    say("layers", "/codex_auth layers").await;
    say("order", "/codex_auth order").await;
    say("menu", "/codex_auth").await;
    say("status", "bob@example.com").await;
    say("doctor", "/codex_auth doctor").await;
    say("rotation", "/codex_rotation").await;
    w.say("/codex_auth delete openai:alice@example.com confirm")
        .await;
    backdate_backup(&w.fx, backup_at);
    say("backups", "/codex_auth backups").await;
    say("restore", "restore1").await;
    say("cancel", "cancel").await;
    out
}

async fn views_in(zone: &str, now: i64, backup_at: &str) -> Vec<(&'static str, String)> {
    let (w, _server) = world(zone, now);
    let views = every_view(&w, backup_at).await;
    w.assert_no_token();
    views
}

fn no_utc_left(views: &[(&str, String)]) {
    for (name, text) in views {
        for year in ["2099-", "2100-", "2050-"] {
            assert!(
                !text.contains(year),
                "{name}: an RFC 3339 time is left\n{text}"
            );
        }
        assert!(!text.contains("UTC"), "{name}: shown in UTC\n{text}");
    }
}

fn view<'a>(views: &'a [(&str, String)], name: &str) -> &'a str {
    &views.iter().find(|(n, _)| *n == name).unwrap().1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_view_shows_kolkata_time_absolute_and_relative() {
    let views = views_in("Asia/Kolkata", KOLKATA_NOW, &iso(KOLKATA_NOW - 5 * MIN)).await;
    // The usage line: 14:13 UTC today is 19:43 IST; the week resets on another day.
    has(
        view(&views, "usage"),
        &[
            "alice@example.com · plus · 5h 42% left (resets 19:43 IST, in 2h 13m) · \
             week 88% left (resets Jan 5 2100 08:30 IST, in 4d 15h)",
        ],
    );
    // Bob's block ends at 15:00 UTC: 20:30 IST, the same day.
    let blocked = "20:30 IST, in 3h 0m";
    has(
        view(&views, "layers"),
        &[&format!("unusable until {blocked}")],
    );
    has(
        view(&views, "order"),
        &[&format!("blocked until {blocked}")],
    );
    has(
        view(&views, "status"),
        &[
            "(expires Jan 1 2100 05:30 IST, in 12h 0m)",
            &format!("unusable until {blocked}"),
        ],
    );
    has(view(&views, "rotation"), &["20:30 IST"]);
    has(
        view(&views, "backups"),
        &[
            "1. before deleting openai:alice@example.com\n   17:25 IST, 5m ago · the shared state-db store",
        ],
    );
    has(
        view(&views, "restore"),
        &["Restore the backup taken 17:25 IST, 5m ago, before delete"],
    );
    no_utc_left(&views);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_york_times_carry_the_offset_of_their_side_of_the_dst_change() {
    let views = views_in(
        "America/New_York",
        NEW_YORK_NOW,
        &iso(NEW_YORK_NOW - 30 * MIN),
    )
    .await;
    // Now is 01:00 EST; 2h 13m later the clocks have gone forward: 04:13 EDT.
    has(
        view(&views, "usage"),
        &["5h 42% left (resets 04:13 EDT, in 2h 13m)"],
    );
    has(
        view(&views, "order"),
        &["blocked until 05:00 EDT, in 3h 0m"],
    );
    has(view(&views, "status"), &["(expires 14:00 EDT, in 12h 0m)"]);
    has(
        view(&views, "backups"),
        &["00:30 EST, 30m ago · the shared state-db store"],
    );
    no_utc_left(&views);
}

/// Through the terminal adapter (`codex-profiler chat`), the zone from `CODEX_PROFILER_TZ`
/// and the real clock: a backup taken in New York's summer shows EDT, the usage resets and
/// bob's block are in the zone too.
#[test]
fn the_terminal_shows_the_zone_of_its_variable() {
    let fx = Fixture::new();
    let now = chrono::Utc::now().timestamp_millis();
    let store = store(now);
    // Blocked until 2050-03-13T09:00:00Z: 05:00 EDT.
    let state = json!({"version": 1, "order": {"openai": [BOB, ALICE]},
        "usageStats": {BOB: {"blockedUntil": NEW_YORK_NOW + 3 * HOUR}}});
    let server = seed(&fx, &store, &state);
    let state_dir = fx.state_arg();
    let env = [
        ("OPENCLAW_STATE_DIR", state_dir.as_str()),
        ("CODEX_PROFILER_TZ", "America/New_York"),
        ("CODEX_PROFILER_USAGE_URL", server.url.as_str()),
    ];
    // A change takes a backup: marked as taken on 2025-07-04T16:30:00Z, 12:30 EDT.
    cli::run(fx.home(), &env, &["order", "set", ALICE, BOB]).expect_code(0);
    backdate_backup(&fx, "2025-07-04T16:30:00.000Z");
    let run = run_with_stdin(
        fx.home(),
        &env,
        &["chat"],
        "/codex_auth backups\n/codex_auth order\n/codex_usage all\n",
    );
    run.expect_code(0);
    let out = &run.stdout;
    has(
        out,
        &["Jul 4 2025 12:30 EDT, ", " ago · the shared state-db store"],
    );
    has(out, &["blocked until Mar 13 2050 05:00 EDT, in "]);
    let zone = if out.contains(" EDT, in 2h 13m)") {
        "EDT"
    } else {
        "EST"
    };
    has(
        out,
        &[&format!(" {zone}, in 2h 13m) · week 88% left (resets ")],
    );
    assert!(!out.contains("UTC") && !out.contains(":00Z"), "{out}");
}

/// An unblock the usage endpoint refuses (alice is still limited) names the reset in the zone,
/// not as the engine's RFC 3339 UTC.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_unblock_names_the_reset_in_the_zone() {
    use codex_profiler::chat::transport::{
        ChatId, ChatKind, Incoming, MessageRef, Origin, Transport,
    };
    use codex_profiler::engine::watch::{ChangeSet, Event, Who};

    let now = chrono::Utc::now().timestamp_millis();
    let g = crate::watch::Gateway::new(Some(now + HOUR));
    let server = g.server(crate::watch::used(100.0), crate::watch::used(20.0));
    let chat = ChatConfig {
        zone: Zone::named("Asia/Kolkata").unwrap(),
        usage_url: Some(server.url.clone()),
        ..config(&g.fx)
    };
    let conv = Conversation::new(chat).unwrap();
    let t = Arc::new(Recording::new(false));
    let transport: Arc<dyn Transport> = t.clone();
    let changes = ChangeSet {
        now_ms: now,
        profiles_checked: 2,
        baseline: false,
        events: vec![Event::StaleBlock {
            who: Who {
                profile: crate::watch::ALICE.into(),
                label: "alice@example.com".into(),
            },
            until_ms: now + HOUR,
        }],
    };
    assert!(conv.notify(&changes, transport.clone()).await);
    // The reply word, in the admin's private chat (where the notification went).
    let admin = super::recording::ADMIN;
    let origin = Origin {
        chat: ChatId(i64::try_from(admin.0).unwrap()),
        kind: ChatKind::Private,
        user: admin,
    };
    let message = MessageRef {
        chat: origin.chat,
        message_id: 999,
    };
    let e = Incoming::Text {
        origin,
        message,
        text: "unblock".into(),
    };
    conv.handle(e, transport).await;
    let shown = t.all_text();
    // The notification itself is in the chat's zone too.
    assert!(
        shown.contains("keeps alice@example.com out until "),
        "{shown}"
    );
    assert!(shown.contains("still limited"), "{shown}");
    assert!(
        shown.contains(" IST, in 2h 5") || shown.contains(" IST, in 3h 0m"),
        "{shown}"
    );
    assert!(!shown.contains("UTC") && !shown.contains(":00Z"), "{shown}");
    assert!(g.alice_stats().get("blockedUntil").is_some());
}
