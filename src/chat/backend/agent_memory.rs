//! The agent each admin chose per chat, kept across restarts in
//! `<state>/codex-profiler/chat-agents.json` (0600, written whole and atomically by
//! [`change::json_file`], the watcher's helpers). A file that is not this document is set
//! aside as `chat-agents.json.bad` with a warning and every chat starts on the configured
//! agent. A change re-reads the file under a lock first, so two chat processes on the same
//! state directory (the bot and a terminal chat) do not drop each other's choices.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::chat::agents::Saved;
use crate::chat::backend::{BackendError, BackendResult};
use crate::chat::transport::{ChatId, UserId};
use crate::engine::change::{ChangeError, files, json_file};

/// The file's name in `<state>/codex-profiler/`.
pub const FILE: &str = "chat-agents.json";
const VERSION: u32 = 1;

#[derive(Debug, Default, Serialize, Deserialize)]
struct Document {
    version: u32,
    chats: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Entry {
    user: u64,
    chat: i64,
    agent: String,
}

fn read(state_dir: &Path) -> json_file::Read<Document> {
    let path = state_dir.join("codex-profiler").join(FILE);
    json_file::read(
        &path,
        "chat agent choices",
        "every chat shows the configured agent",
        |d: &Document| {
            if d.version == VERSION {
                Ok(())
            } else {
                Err(format!("has version {}, not {VERSION}", d.version))
            }
        },
    )
}

fn saved(d: Document) -> Vec<Saved> {
    d.chats
        .into_iter()
        .filter(|e| crate::chat::agents::plausible(&e.agent))
        .map(|e| Saved {
            user: UserId(e.user),
            chat: ChatId(e.chat),
            agent: e.agent,
        })
        .collect()
}

/// The saved choices; none when there is no file or it is bad (then with a warning, logged).
pub(super) fn load(state_dir: &Path) -> Vec<Saved> {
    let r = read(state_dir);
    if let Some(w) = &r.warning {
        tracing::warn!(warning = %w, "chat agent choices");
    }
    r.value.map(saved).unwrap_or_default()
}

/// Save `agent` as (`user`, `chat`)'s choice, or forget it (`None`), keeping every other
/// chat's as the file holds them now.
pub(super) fn save(
    state_dir: &Path,
    user: UserId,
    chat: ChatId,
    agent: Option<String>,
) -> BackendResult<()> {
    let fail = |e: ChangeError| BackendError::from_failure(&e);
    let dir = files::own_dir(state_dir).map_err(fail)?;
    let _lock = files::FileLock::acquire(&dir.join(format!("{FILE}.lock"))).map_err(fail)?;
    let r = read(state_dir);
    if let Some(w) = &r.warning {
        tracing::warn!(warning = %w, "chat agent choices");
    }
    let mut doc = r.value.unwrap_or_default();
    doc.version = VERSION;
    doc.chats.retain(|e| (e.user, e.chat) != (user.0, chat.0));
    if let Some(agent) = agent {
        doc.chats.push(Entry {
            user: user.0,
            chat: chat.0,
            agent,
        });
    }
    json_file::write(state_dir, FILE, &doc).map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn saves_per_chat_keeps_others_and_sets_a_bad_file_aside() {
        let dir = std::env::temp_dir().join(format!("cp-chat-agents-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        assert!(load(&dir).is_empty());
        save(&dir, UserId(1), ChatId(1), Some("work".into())).unwrap();
        save(&dir, UserId(2), ChatId(2), Some("ops".into())).unwrap();
        save(&dir, UserId(1), ChatId(1), Some("lab".into())).unwrap();
        let file = dir.join("codex-profiler").join(FILE);
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let got: Vec<(u64, i64, String)> = load(&dir)
            .into_iter()
            .map(|s| (s.user.0, s.chat.0, s.agent))
            .collect();
        assert_eq!(got, vec![(2, 2, "ops".into()), (1, 1, "lab".into())]);
        save(&dir, UserId(2), ChatId(2), None).unwrap();
        assert_eq!(load(&dir).len(), 1);

        std::fs::write(&file, b"[1, 2").unwrap();
        assert!(load(&dir).is_empty());
        assert!(dir.join("codex-profiler/chat-agents.json.bad").exists());
        // A name no agent folder can have is ignored, not used.
        std::fs::write(
            &file,
            br#"{"version":1,"chats":[{"user":1,"chat":1,"agent":"../x"}]}"#,
        )
        .unwrap();
        assert!(load(&dir).is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
