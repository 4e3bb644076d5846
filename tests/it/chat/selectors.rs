//! Issue 9 §2 through the chat core over the real engine: emails and labels select, an
//! ambiguous name lists its candidates and a wrong one suggests close names, in chat words;
//! the selector tells same-email workspaces apart and every label on it selects its profile;
//! a login under a new name for a stored account says where it went and why.

use std::sync::Arc;

use codex_profiler::chat::transport::Transport;
use codex_profiler::chat::{ChatConfig, Conversation, StoreOptions};

use super::recording::{ADMIN, Recording, text};
use crate::selectors::{ALICE, ALICE_TEAM, LAPTOP, World, line_label};
use crate::support::cli::assert_no_secret_in;
use crate::support::fixtures::tokens_of;
use crate::support::oauth_server::{self, Account, OAuthServer};

struct Chat {
    w: World,
    issuer: OAuthServer,
    conv: Arc<Conversation>,
    t: Arc<Recording>,
}

impl Chat {
    fn new(buttons: bool) -> Chat {
        let w = World::new();
        let issuer = oauth_server::spawn();
        let config = ChatConfig {
            admins: [ADMIN].into_iter().collect(),
            store: StoreOptions {
                state_dir: Some(w.fx.state_dir()),
                ..StoreOptions::default()
            },
            usage_url: Some(w.server.url.clone()),
            auth_issuer: Some(issuer.issuer_url.clone()),
            ..ChatConfig::default()
        };
        let conv = Conversation::new(config).expect("conversation");
        Chat {
            w,
            issuer,
            conv,
            t: Arc::new(Recording::new(buttons)),
        }
    }

    /// Send `s` and return everything shown in answer.
    async fn say(&self, s: &str) -> String {
        self.t.clear();
        let (e, _) = text(ADMIN, false, s);
        let t: Arc<dyn Transport> = self.t.clone();
        self.conv.handle(e, t).await;
        let all = self.t.all_text();
        let secrets = tokens_of(&self.w.store);
        let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
        assert_no_secret_in(&all, &refs);
        all
    }

    /// The usage lines of `/codex_usage SEL`'s answer.
    async fn usage_lines(&self, selector: &str) -> Vec<String> {
        let all = self.say(&format!("/codex_usage {selector}")).await;
        all.lines()
            .filter(|l| l.contains(" · ") && l.contains("% left"))
            .map(str::to_owned)
            .collect()
    }
}

/// Chat words: no command line in sight.
fn assert_chat_words(s: &str) {
    assert!(!s.contains("codex-profiler") && !s.contains("--"), "{s}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emails_select_ambiguity_lists_candidates_and_misses_suggest() {
    let c = Chat::new(true);
    let lines = c.usage_lines("ivy@example.com").await;
    assert_eq!(lines.len(), 1, "{lines:?}");
    // The label selects; the plan after it is the usage reply's (fresher than the token's).
    assert!(lines[0].starts_with("ivy@example.com · "), "{lines:?}");
    let status = c.say("/codex_auth IVY@example.com").await;
    assert!(status.contains(&format!("({LAPTOP})")), "{status}");

    let amb = c.say("/codex_usage alice@example.com").await;
    assert!(
        amb.contains("`alice@example.com` fits 2 profiles")
            && amb.contains(&format!(
                "{ALICE} — alice@example.com (plus, account 1111…0001)"
            ))
            && amb.contains(&format!(
                "{ALICE_TEAM} — alice@example.com (team, account 2222…0002)"
            )),
        "{amb}"
    );
    assert!(!amb.contains("% left"), "nothing was checked: {amb}");
    assert_chat_words(&amb);

    let miss = c.say("/codex_usage alice@exampel.com").await;
    assert!(
        miss.contains(
            "No profile is called `alice@exampel.com`. Did you mean \
             alice@example.com-22222222 or openai:alice@example.com?"
        ),
        "{miss}"
    );
    assert_chat_words(&miss);
    for (typed, label) in [
        (
            "alice@example.com-22222222",
            "alice@example.com (team, account 2222…0002)",
        ),
        (ALICE, "alice@example.com (plus, account 1111…0001)"),
    ] {
        let lines = c.usage_lines(typed).await;
        assert_eq!(lines.len(), 1, "{typed}: {lines:?}");
        assert_eq!(line_label(&lines[0]), label);
    }
    let retire = c.say("/codex_auth retire alice@example.com").await;
    assert!(retire.contains("fits 2 profiles"), "{retire}");
    let (_, state, _) = c.w.fx.state_db_cells();
    assert_eq!(
        state.unwrap()["order"]["openai"][0],
        ALICE,
        "nothing retired"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_label_on_the_chat_selector_selects_exactly_its_profile() {
    let c = Chat::new(true);
    c.say("/codex_usage").await;
    let (_, _, kb) = c.t.last_send();
    let labels: Vec<String> = kb
        .unwrap()
        .iter()
        .flatten()
        .map(|b| b.label.clone())
        .filter(|l| l != "Default" && l != "All profiles" && l != "History")
        .collect();
    assert_eq!(
        labels,
        [
            "alice@example.com (plus, account 1111…0001)",
            "alice@example.com (team, account 2222…0002)",
            "ivy@example.com",
        ]
    );
    let menu = c.say("/codex_auth").await;
    for l in &labels {
        assert!(menu.contains(l.as_str()), "{menu}");
    }
    for (label, id) in labels.iter().zip([ALICE, ALICE_TEAM, LAPTOP]) {
        let lines = c.usage_lines(label).await;
        assert_eq!(lines.len(), 1, "{label}: {lines:?}");
        assert_eq!(line_label(&lines[0]), label);
        let status = c.say(&format!("/codex_auth {label}")).await;
        assert!(status.starts_with(&format!("{label} ({id})")), "{status}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_reply_word_of_the_text_selector_selects_its_profile() {
    let c = Chat::new(false);
    let menu = c.say("/codex_auth").await;
    let words: Vec<String> = menu
        .lines()
        .find_map(|l| l.strip_prefix("Reply with: "))
        .unwrap_or_else(|| panic!("{menu}"))
        .split(" | ")
        .filter(|w| *w != "new")
        .map(str::to_owned)
        .collect();
    assert_eq!(words, [ALICE, ALICE_TEAM, "ivy@example.com"]);
    for (word, id) in words.iter().zip([ALICE, ALICE_TEAM, LAPTOP]) {
        let status = c.say(&format!("/codex_auth {word}")).await;
        assert!(status.contains(&format!("({id})")), "{word}: {status}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_under_a_new_name_for_a_stored_account_says_where_it_went() {
    let c = Chat::new(true);
    c.issuer.set_account(Account::new(
        "33333333-aaaa-4bbb-8ccc-000000000003",
        "ivy@example.com",
        "pro",
    ));
    let started = c.say("/codex_auth login work").await;
    let url = started
        .split_whitespace()
        .find(|w| w.starts_with(&format!("{}/oauth/authorize?", c.issuer.issuer_url)))
        .unwrap_or_else(|| panic!("{started}"))
        .to_owned();
    let callback = c.issuer.approve(&url);
    let done = c.say(&callback).await;
    assert!(
        done.contains("Updated openai:laptop (ivy@example.com, pro)"),
        "{done}"
    );
    assert!(
        done.contains(
            "Not saved as openai:work: openai:laptop already holds this account \
             (same account 3333…0003 and email ivy@example.com)"
        ),
        "{done}"
    );
    assert!(done.contains("pick another workspace"), "{done}");
    assert_chat_words(&done);
    let (store, _, _) = c.w.fx.state_db_cells();
    assert!(store.unwrap()["profiles"].get("openai:work").is_none());
}
