//! `/codex_auth backups` end to end over the real engine: the list, the restore button, the
//! confirmation (what comes back, live credentials kept), the restore through the pipeline
//! (its own backup first, verify), with the store checked afterwards and the real `openclaw`
//! agreeing on the order; through the recording transport, the Telegram adapter over the
//! fake Bot API, and the terminal adapter. Bad input writes nothing: a stale button, a
//! confirmation never offered, a backup taken before a format migration, a user who is not
//! an admin, a group.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use codex_profiler::adapters::telegram::TelegramConfig;
use codex_profiler::chat::transport::{Keyboard, MessageRef, Transport, UserId};
use codex_profiler::chat::{ChatConfig, Conversation, StoreOptions};
use serde_json::{Value, json};

use super::recording::{ADMIN, Call, Recording, USER, button, tap, text};
use crate::support::bot_api::{FakeBotApi, TOKEN};
use crate::support::cli::{self, assert_no_secret_in, run_with_stdin};
use crate::support::fixtures::{Fixture, oauth_profile, tokens_of};
use crate::support::in_process_bot::InProcessBot;
use crate::support::openclaw::openclaw;

pub(super) const ALICE: &str = "openai:alice@example.com";
pub(super) const BOB: &str = "openai:bob@example.com";

/// A state-db store with alice and bob, and a conversation over the real engine with one
/// admin and one user.
pub(super) struct World {
    pub fx: Fixture,
    pub store: Value,
    pub conv: Arc<Conversation>,
    pub t: Arc<Recording>,
}

pub(super) fn far_future() -> i64 {
    chrono::Utc::now().timestamp_millis() + 10 * 24 * 3600 * 1000
}

/// The two profiles, with `state` as the state cell.
pub(super) fn two_profiles() -> Value {
    json!({"version": 1, "profiles": {
        ALICE: oauth_profile("openai", "alice@example.com", "acc-alice", "plus", far_future()),
        BOB: oauth_profile("openai", "bob@example.com", "acc-bob", "pro", far_future()),
    }})
}

/// The chat configuration over `fx`'s state directory.
pub(super) fn config(fx: &Fixture) -> ChatConfig {
    ChatConfig {
        admins: [ADMIN].into_iter().collect(),
        users: [USER].into_iter().collect(),
        store: StoreOptions {
            state_dir: Some(fx.state_dir()),
            ..StoreOptions::default()
        },
        usage_url: Some("http://127.0.0.1:9/usage".into()),
        auth_issuer: Some("http://127.0.0.1:9".into()),
        ..ChatConfig::default()
    }
}

impl World {
    pub fn new(store: Value, state: Value, buttons: bool) -> World {
        let fx = Fixture::new();
        fx.state_db(&store, Some(&state));
        let conv = Conversation::new(config(&fx)).expect("conversation");
        World {
            fx,
            store,
            conv,
            t: Arc::new(Recording::new(buttons)),
        }
    }

    pub fn transport(&self) -> Arc<dyn Transport> {
        self.t.clone()
    }

    pub async fn say_as(&self, user: UserId, group: bool, s: &str) {
        let (e, _) = text(user, group, s);
        self.conv.handle(e, self.transport()).await;
    }

    pub async fn say(&self, s: &str) {
        self.say_as(ADMIN, false, s).await;
    }

    pub async fn tap_as(&self, user: UserId, group: bool, on: MessageRef, data: &str) {
        self.conv
            .handle(tap(user, group, on, data), self.transport())
            .await;
    }

    /// The last message shown (sent or edited), with its keyboard.
    pub fn last_shown(&self) -> (MessageRef, String, Option<Keyboard>) {
        self.t.last_shown()
    }

    /// The answers to button taps, in order.
    pub fn notices(&self) -> Vec<Option<String>> {
        self.t.answers()
    }

    /// The text of the newest tap answer (a tap answered without text fails).
    pub fn last_notice(&self) -> String {
        self.notices()
            .last()
            .cloned()
            .flatten()
            .expect("the last tap was answered with a text")
    }

    /// Every file of the store, as bytes (to prove nothing was written).
    pub fn bytes(&self) -> Vec<(PathBuf, String)> {
        store_bytes(&self.fx)
    }

    pub fn assert_no_token(&self) {
        let secrets = tokens_of(&self.store);
        let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
        assert_no_secret_in(&self.t.all_text(), &refs);
    }
}

/// Assert that `text` holds every one of `needles`, showing the whole text otherwise.
#[track_caller]
pub(super) fn has(text: &str, needles: &[&str]) {
    for n in needles {
        assert!(text.contains(n), "{n:?} missing in:\n{text}");
    }
}

/// The store's files (the state database and anything beside it but SQLite's shared-memory
/// index and an empty write-ahead log, which readers create), each as its SHA-256: equal
/// means nothing was written.
pub(super) fn store_bytes(fx: &Fixture) -> Vec<(PathBuf, String)> {
    use sha2::{Digest, Sha256};
    let dir = fx.state_dir().join("state");
    let mut out: Vec<(PathBuf, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.to_string_lossy().ends_with("-shm"))
        .filter(|p| std::fs::metadata(p).is_ok_and(|m| m.len() > 0))
        .map(|p| {
            let h = hex::encode(Sha256::digest(std::fs::read(&p).unwrap()));
            (p, h)
        })
        .collect();
    out.sort();
    out
}

/// The names of the backups on disk, newest first.
fn backup_names(fx: &Fixture) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fx.state_dir().join("codex-profiler/backups"))
        .map(|d| {
            d.map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names.reverse();
    names
}

fn state() -> Value {
    json!({"version": 1, "order": {"openai": [ALICE, BOB]}, "lastGood": {"openai": ALICE}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_profile_comes_back_from_the_chat_and_openclaw_agrees() {
    let w = World::new(two_profiles(), state(), true);
    let original = w.fx.state_db_cells();
    w.say("/codex_auth delete bob@example.com confirm").await;
    assert!(w.last_shown().1.contains("Deleted"), "{}", w.last_shown().1);
    assert!(
        w.fx.state_db_cells().0.unwrap()["profiles"]
            .get(BOB)
            .is_none()
    );

    w.say("/codex_auth backups").await;
    let (list, shown, kb) = w.last_shown();
    assert!(shown.starts_with("Backups, newest first:"), "{shown}");
    has(&shown, &["1. before deleting openai:bob@example.com"]);
    // When, in the zone (UTC here) and relative: `16:05 UTC, now · the shared state-db store`.
    assert!(shown.contains(" UTC, ") && shown.contains(" · the shared state-db store"));
    let restore = button(&kb, "Restore 1");
    assert!(restore.starts_with("codex_auth_restore:") && restore.len() <= 64);

    w.tap_as(ADMIN, false, list, &restore).await;
    let (on, ask, kb) = w.last_shown();
    assert_eq!(on, list, "the confirmation edits the list");
    has(&ask, &["Comes back: openai:bob@example.com."]);
    assert!(
        ask.contains(
            "Live credentials are never rolled back: profiles that exist keep their current tokens"
        ),
        "{ask}"
    );
    assert_eq!(
        w.fx.state_db_cells().0.unwrap()["profiles"].get(BOB),
        None,
        "not yet"
    );
    let confirm = button(&kb, "Yes, restore it");
    assert!(confirm.len() <= 64, "{confirm}");

    w.t.clear();
    w.tap_as(ADMIN, false, on, &confirm).await;
    let calls = w.t.calls();
    assert!(
        matches!(&calls[0], Call::Answer { notice: None, .. }),
        "{calls:?}"
    );
    assert!(
        matches!(&calls[1], Call::Edit { message, text, .. } if *message == on && text == "Restoring the backup…"),
        "progress first: {calls:?}"
    );
    let (_, done, _) = w.last_shown();
    assert!(done.starts_with("Restored backup "), "{done}");
    assert!(
        done.contains("verified") && !done.contains("NOT verified"),
        "{done}"
    );
    assert!(
        !done.contains("codex-profiler") && !done.contains("--"),
        "{done}"
    );
    // Exactly as it was, tokens included; and the restore took its own backup first.
    assert_eq!(w.fx.state_db_cells(), original);
    assert_eq!(backup_names(&w.fx).len(), 2);
    let theirs = openclaw().openai_order(w.fx.home());
    assert_eq!(theirs["order"], json!([ALICE, BOB]), "{theirs}");
    w.assert_no_token();

    // The same confirmation tapped again: used up, nothing more happens.
    let before = w.bytes();
    w.tap_as(ADMIN, false, on, &confirm).await;
    assert_eq!(
        w.notices().last().cloned().flatten().as_deref(),
        Some("This menu is out of date. Nothing was done; open it again.")
    );
    assert_eq!(w.bytes(), before);
}

/// A backup of the json file an old gateway used, left from before the store moved into the
/// state database.
fn plant_json_backup(fx: &Fixture) -> String {
    let dir = fx.state_dir().join("codex-profiler/backups");
    std::fs::create_dir_all(&dir).unwrap();
    let path = fx.json_path("main");
    let name = "20200101T000000000Z-retire.json".to_owned();
    let rec = json!({
        "kind": "codex-profiler-backup", "version": 1, "created_at": "2020-01-01T00:00:00.000Z",
        "action": "retire", "format": "json", "path": path,
        "layer": {"format": "json", "path": path, "scope": "shared"},
        "layer_label": format!("the shared json store ({})", path.display()),
        "store": {"version": 1, "profiles": {}}, "state": {"version": 1},
    });
    std::fs::write(dir.join(&name), serde_json::to_vec(&rec).unwrap()).unwrap();
    name
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_writes_nothing() {
    let w = World::new(two_profiles(), state(), true);
    w.say("/codex_auth retire bob@example.com").await;
    let migrated = plant_json_backup(&w.fx);
    let before = w.bytes();
    let stale = "This menu is out of date. Nothing was done; open it again.";

    // Not an admin: refused, in a private chat and in a group.
    w.say_as(USER, false, "/codex_auth backups").await;
    assert!(
        w.last_shown().1.starts_with("Only an admin"),
        "{}",
        w.last_shown().1
    );
    w.say("/codex_auth backups").await;
    let (list, shown, kb) = w.last_shown();
    has(&shown, &["1. before retiring openai:bob"]);
    let newest = button(&kb, "Restore 1");
    let old = button(&kb, "Restore 2");
    assert!(shown.contains("2. before retiring\n") && shown.contains("the shared json store"));
    w.tap_as(USER, false, list, &newest).await;
    assert!(
        w.last_notice().starts_with("Only an admin"),
        "{:?}",
        w.notices()
    );
    // An admin in a group sees the list without buttons; a tap there is refused.
    w.say_as(ADMIN, true, "/codex_auth backups").await;
    let (_, in_group, kb) = w.last_shown();
    assert!(
        kb.is_none() && in_group.starts_with("Backups"),
        "{in_group}"
    );
    w.tap_as(ADMIN, true, list, &newest).await;
    assert!(
        w.last_notice().contains("private chat"),
        "{:?}",
        w.notices()
    );

    // A backup taken before the format migration: a short refusal.
    w.tap_as(ADMIN, false, list, &old).await;
    let (_, refused, kb) = w.last_shown();
    assert_eq!(
        refused,
        "That backup was taken before the gateway's store moved from json to state-db: the gateway no longer reads the shared json store, so it cannot be restored. Nothing was changed."
    );
    assert!(kb.is_none());
    // The CLI refuses it too, the same way as before.
    let run = cli::run(
        w.fx.home(),
        &[],
        &[
            "--state-dir",
            &w.fx.state_arg(),
            "--json",
            "backups",
            "restore",
            &migrated,
            "--confirm",
        ],
    );
    run.expect_code(5);
    assert_eq!(run.json()["error"], "change_refused");

    // A confirmation tap that was never offered.
    let forged = newest.replace("codex_auth_restore:", "codex_auth_restoreok:");
    w.tap_as(ADMIN, false, list, &forged).await;
    assert_eq!(
        w.notices().last().cloned().flatten().as_deref(),
        Some(stale)
    );

    // A stale button: the backup is gone by the time of the tap.
    for n in backup_names(&w.fx) {
        std::fs::remove_file(w.fx.state_dir().join("codex-profiler/backups").join(n)).unwrap();
    }
    w.tap_as(ADMIN, false, list, &newest).await;
    assert_eq!(
        w.notices().last().cloned().flatten().as_deref(),
        Some(stale)
    );
    assert_eq!(w.bytes(), before, "nothing was written");
    assert!(!w.fx.json_path("main").exists(), "no legacy file came back");
    w.say("/codex_auth backups").await;
    assert_eq!(
        w.last_shown().1,
        "No backups yet: one is taken before every change."
    );
}

#[test]
fn the_terminal_restores_with_reply_words() {
    let fx = Fixture::new();
    fx.state_db(&two_profiles(), Some(&state()));
    let original = fx.state_db_cells();
    let state_dir = fx.state_arg();
    let env = [("OPENCLAW_STATE_DIR", state_dir.as_str())];
    cli::run(fx.home(), &env, &["delete", "bob@example.com", "--confirm"]).expect_code(0);
    let run = run_with_stdin(
        fx.home(),
        &env,
        &["chat"],
        "/codex_auth backups\nrestore1\nconfirm\n",
    );
    run.expect_code(0);
    has(&run.stdout, &["Reply with: restore1"]);
    has(&run.stdout, &["Comes back: openai:bob@example.com"]);
    has(&run.stdout, &["Reply with: confirm | cancel"]);
    has(&run.stdout, &["Restored backup"]);
    assert_eq!(fx.state_db_cells(), original);
    let secrets = tokens_of(&two_profiles());
    let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
    run.assert_no_secret(&refs);
}

/// The Telegram adapter in-process over the fake Bot API, with `chat` as its conversation.
pub(super) struct Telegram {
    pub api: FakeBotApi,
    bot: InProcessBot,
}

pub(super) const WAIT: Duration = Duration::from_secs(15);

impl Telegram {
    pub async fn start(chat: ChatConfig) -> Telegram {
        let api = FakeBotApi::start().await;
        let env = [
            ("TELEGRAM_BOT_TOKEN", TOKEN.to_owned()),
            ("TELEGRAM_API_URL", api.url.clone()),
            ("CODEX_PROFILER_POLL_TIMEOUT_SEC", "1".to_owned()),
            ("CODEX_PROFILER_ADMINS", ADMIN.0.to_string()),
        ];
        let tg = TelegramConfig::from_lookup(|k| {
            env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())
        })
        .expect("telegram config");
        let conversation = Conversation::new(chat).expect("conversation");
        let bot = InProcessBot::start(&api, tg, conversation, WAIT).await;
        Telegram { api, bot }
    }

    pub async fn stop(mut self, secrets: &[String]) {
        let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
        self.bot.stop(&self.api, &secrets, WAIT).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_restore_through_the_fake_bot_api() {
    let fx = Fixture::new();
    let store = two_profiles();
    fx.state_db(&store, Some(&state()));
    let original = fx.state_db_cells();
    let tg = Telegram::start(config(&fx)).await;
    let admin = ADMIN.0 as i64;
    tg.api
        .push_text(ADMIN.0, admin, "/codex_auth delete bob@example.com confirm");
    tg.api.wait_text(admin, "Deleted", WAIT).await;
    tg.api.push_text(ADMIN.0, admin, "/codex_auth backups");
    let list = tg.api.wait_text(admin, "Backups, newest first", WAIT).await;
    let restore = list.button("Restore 1");
    tg.api.push_tap(ADMIN.0, admin, list.message_id(), &restore);
    let ask = tg
        .api
        .wait_text(admin, "Comes back: openai:bob", WAIT)
        .await;
    assert_eq!(ask.message_id(), list.message_id());
    tg.api.push_tap(
        ADMIN.0,
        admin,
        list.message_id(),
        &ask.button("Yes, restore it"),
    );
    let done = tg.api.wait_text(admin, "Restored backup", WAIT).await;
    assert_eq!(
        done.message_id(),
        list.message_id(),
        "same message throughout"
    );
    assert_eq!(fx.state_db_cells(), original);
    assert_eq!(tg.api.calls("answerCallbackQuery").len(), 2);
    tg.stop(&tokens_of(&store)).await;
}
