//! Json stores: leftover temp files of killed writers are removed by the next write, and an
//! agent other than `main` without a json store of its own reads (and writes) `main`'s.

use std::fs;
use std::path::Path;
use std::time::{Duration, SystemTime};

use codex_profiler::engine::profile::ProfileId;
use codex_profiler::engine::store::{Change, StoreChoice, StoreFormat};
use serde_json::{Map, Value, json};

use super::{forced, open, open_auto};
use crate::support::fixtures::{self, Fixture};

fn touch(path: &Path, age: Duration) {
    fs::write(path, b"{\"half\": ").unwrap();
    let f = fs::File::options().write(true).open(path).unwrap();
    f.set_modified(SystemTime::now() - age).unwrap();
}

fn upsert_label(id: &str, label: &str) -> Change {
    let mut fields = Map::new();
    fields.insert("label".into(), Value::String(label.into()));
    Change::UpsertProfile {
        id: ProfileId::parse(id).unwrap(),
        fields,
    }
}

#[test]
fn old_temp_files_of_a_killed_writer_are_removed_by_the_next_write() {
    let fx = Fixture::new();
    let file = fx.json_split(
        "main",
        &fixtures::json_example(),
        &json!({"version": 1, "lastGood": {}}),
    );
    let dir = file.parent().unwrap().to_owned();
    let old_profiles = dir.join(".auth-profiles.json.4242.17.tmp");
    let old_state = dir.join(".auth-state.json.4242.18.tmp");
    let young = dir.join(".auth-profiles.json.4243.19.tmp");
    let foreign = dir.join(".notes.json.1.2.tmp");
    touch(&old_profiles, Duration::from_secs(120));
    touch(&old_state, Duration::from_secs(61));
    touch(&young, Duration::from_secs(5));
    touch(&foreign, Duration::from_secs(3600));

    let store = open_auto(&fx.state_dir());
    // Reading never removes anything.
    store.load().unwrap();
    assert!(old_profiles.exists() && old_state.exists());

    store
        .apply(&upsert_label("openai-codex:alice@example.com", "home"))
        .unwrap();
    assert!(!old_profiles.exists(), "old profiles temp file left");
    assert!(!old_state.exists(), "old state temp file left");
    // Under the lock no writer of ours is mid-write, so even a young one is a leftover (it
    // holds a copy of the tokens): removed too.
    assert!(!young.exists(), "a leftover under the lock, however young");
    assert!(foreign.exists(), "not ours");
    let doc = fixtures::read_json(&file);
    assert_eq!(
        doc["profiles"]["openai-codex:alice@example.com"]["label"],
        "home"
    );
}

#[test]
fn an_agent_without_its_own_json_store_reads_and_writes_mains() {
    let fx = Fixture::new();
    let main_file = fx.json_single("main", &fixtures::json_example());
    let work_file = fx.json_path("work");

    for choice in [StoreChoice::Auto, forced(StoreFormat::Json)] {
        let store = open(&fx.state_dir(), "work", choice);
        assert_eq!(store.info().format, StoreFormat::Json);
        assert_eq!(store.info().path, main_file);
        let snap = store.load().unwrap();
        assert_eq!(snap.codex.len(), 2);
        assert_eq!(
            snap.last_good("openai-codex").as_deref(),
            Some("openai-codex:bob@example.com")
        );
    }

    let store = open(&fx.state_dir(), "work", StoreChoice::Auto);
    let applied = store
        .apply(&upsert_label("openai-codex:bob@example.com", "work"))
        .unwrap();
    assert_eq!(applied.written[0].path, main_file);
    assert_eq!(
        fixtures::read_json(&main_file)["profiles"]["openai-codex:bob@example.com"]["label"],
        "work"
    );
    assert!(!work_file.exists(), "no store created for the agent");

    // An agent with its own file reads its own.
    fx.json_single(
        "work",
        &json!({"version": 1, "profiles": {}, "lastGood": {"x": "y"}}),
    );
    let store = open(&fx.state_dir(), "work", StoreChoice::Auto);
    assert_eq!(store.info().path, work_file);
    assert!(store.load().unwrap().codex.is_empty());
}

#[test]
fn an_agent_with_only_its_own_state_file_does_not_inherit() {
    let fx = Fixture::new();
    fx.json_single("main", &fixtures::json_example());
    let work_file = fx.json_path("work");
    fixtures::write_json(
        &work_file.with_file_name("auth-state.json"),
        &json!({"version": 1}),
    );
    let store = open(&fx.state_dir(), "work", StoreChoice::Auto);
    assert_eq!(store.info().path, work_file);
}

#[test]
fn split_state_merges_key_by_key_and_deletes_leave_no_legacy_entry_behind() {
    let fx = Fixture::new();
    let mut profiles = fixtures::json_example();
    profiles["profiles"]["anthropic:x"] =
        json!({"type": "api_key", "provider": "anthropic", "key": "sk-ant-FIXTURE"});
    profiles["order"]["anthropic"] = json!(["anthropic:x"]);
    profiles["lastGood"]["anthropic"] = json!("anthropic:x");
    let alice = "openai-codex:alice@example.com";
    let file = fx.json_split(
        "main",
        &profiles,
        &json!({"version": 1,
            "order": {"openai-codex": [alice]},
            "usageStats": {alice: {"errorCount": 3}}}),
    );
    let state_file = file.with_file_name("auth-state.json");
    let store = open_auto(&fx.state_dir());
    let snap = store.load().unwrap();
    // The state file wins per provider / profile id; the profiles file fills in the rest.
    assert_eq!(snap.stored_order("openai-codex").unwrap().0, [alice]);
    assert_eq!(snap.stored_order("anthropic").unwrap().0, ["anthropic:x"]);
    assert_eq!(snap.last_good("anthropic").as_deref(), Some("anthropic:x"));
    assert_eq!(
        snap.last_good("openai-codex").as_deref(),
        Some("openai-codex:bob@example.com")
    );
    assert_eq!(snap.usage_stats(alice).error_count, 3);
    assert_eq!(
        snap.usage_stats("openai-codex:bob@example.com").error_count,
        1
    );

    store
        .apply(&Change::Delete {
            id: ProfileId::parse("anthropic:x").unwrap(),
        })
        .unwrap();
    let snap = store.load().unwrap();
    assert!(snap.raw_profile("anthropic:x").is_none());
    assert_eq!(snap.last_good("anthropic"), None);
    // An emptied order may stay as `[]` (OpenClaw reads it as no order).
    assert!(
        snap.stored_order("anthropic")
            .is_none_or(|(ids, _)| ids.is_empty())
    );
    assert!(snap.effective_order("anthropic").ids.is_empty());
    for path in [&file, &state_file] {
        let doc = fixtures::read_json(path);
        let text = doc.to_string();
        assert!(!text.contains("anthropic:x"), "{}: {text}", path.display());
    }
    // The profiles file's other legacy entries are kept as they were.
    let doc = fixtures::read_json(&file);
    assert_eq!(
        doc["order"],
        profiles["order"]
            .as_object()
            .map(|m| {
                let mut m = m.clone();
                m.remove("anthropic");
                Value::Object(m)
            })
            .unwrap()
    );
    assert_eq!(
        snap.last_good("openai-codex").as_deref(),
        Some("openai-codex:bob@example.com")
    );
}
