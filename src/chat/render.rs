//! Every user-visible chat text comes from `templates/chat/*.j2` (minijinja). The templates are
//! embedded with `include_str!`, so the binary runs from any directory; this module only
//! renders them. Texts are plain (no HTML or Markdown), so adapters send them as they are.

use std::collections::HashMap;
use std::sync::OnceLock;

use minijinja::Environment;

pub use minijinja::Value;
pub use minijinja::context;

macro_rules! templates {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/templates/chat/", $name, ".j2")))),*]
    };
}

/// Every template, by name.
const TEMPLATES: &[(&str, &str)] = templates!(
    "start",
    "help",
    "menu",
    "labels",
    "refused_stranger",
    "refused_admin_only",
    "refused_private_only",
    "unknown_command",
    "bad_arguments",
    "too_long",
    "unknown_reply",
    "stale_menu",
    "already_running",
    "duplicate",
    "failed",
    "reply_with",
    "reply_with_command",
    "usage_selector",
    "usage_progress",
    "usage_result",
    "auth_selector",
    "auth_status",
    "new_login",
    "login_started",
    "login_progress",
    "login_done",
    "url_deleted",
    "url_no_pending",
    "url_in_group",
    "device_progress",
    "device_waiting",
    "device_done",
    "device_failed",
    "retire_progress",
    "retire_done",
    "delete_confirm",
    "delete_confirm_text",
    "delete_progress",
    "delete_done",
    "cancelled",
    "pick_one",
    "terminal_banner",
    "selector_empty",
    "selector_no_profiles",
    "selector_no_match",
    "selector_ambiguous",
    "rotation",
    "rotation_deep",
    "watch_changes",
    "watch_unblock_progress",
    "watch_unblock_done",
    "order_view",
    "order_confirm",
    "order_progress",
    "order_done",
    "order_nothing",
    "order_duplicate",
    "order_all",
    "order_last_one",
    "page_of",
    "backups",
    "restore_confirm",
    "restore_other_store",
    "restore_progress",
    "restore_done",
    "layers",
    "doctor",
    "fix_progress",
    "fix_confirm",
    "fix_done",
    "error_hints",
    "agent_header",
    "agent_menu",
    "agent_switched",
    "agent_unknown",
    "agent_gone",
    "usage_history_progress",
    "usage_history_empty",
    "usage_history_caption",
    "usage_history_text",
    "usage_history_photo_failed",
    "plugin_paste_refused",
    "plugin_device_instead",
);

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            // A template that does not parse is a build mistake the `every_template_renders`
            // test catches; at run time it is skipped and `render` reports it.
            if let Err(e) = env.add_template(name, source) {
                tracing::error!(template = name, error = %e, "chat template does not parse");
            }
        }
        env
    })
}

/// Render template `name` with `ctx`. A broken template never takes the chat down: it is
/// logged and a short generic sentence is shown instead.
pub fn render(name: &str, ctx: Value) -> String {
    match env().get_template(name).and_then(|t| t.render(ctx)) {
        Ok(text) => text,
        Err(e) => {
            tracing::error!(template = name, error = %e, "chat template failed to render");
            "Something went wrong while writing this answer.".to_owned()
        }
    }
}

/// Render a template that takes no context.
pub fn text(name: &str) -> String {
    render(name, Value::UNDEFINED)
}

/// Parse a `key: text` template (one entry a line).
fn pairs(name: &str) -> Vec<(String, String)> {
    text_pairs(&text(name))
}

/// The bot's command menu (`setMyCommands`) for everyone: command without slash,
/// description.
pub fn menu() -> Vec<(String, String)> {
    pairs("menu")
}

/// The command menu of a role (`admin`, `user`): what that role may run.
pub fn menu_for(role: &str) -> Vec<(String, String)> {
    text_pairs(&render("menu", context! { role }))
}

fn text_pairs(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .filter(|(k, v)| !k.is_empty() && !v.is_empty())
        .collect()
}

/// The chat action for an engine failure with stable `code`, from
/// `templates/chat/error_hints.j2`, where the chat has one.
pub fn error_hint(code: &str) -> Option<String> {
    static HINTS: OnceLock<HashMap<String, String>> = OnceLock::new();
    HINTS
        .get_or_init(|| pairs("error_hints").into_iter().collect())
        .get(code)
        .cloned()
}

/// A button label from `templates/chat/labels.j2`; the key itself if missing.
pub fn label(key: &str) -> String {
    static LABELS: OnceLock<HashMap<String, String>> = OnceLock::new();
    LABELS
        .get_or_init(|| pairs("labels").into_iter().collect())
        .get(key)
        .cloned()
        .unwrap_or_else(|| key.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A context with every variable any template uses.
    fn sample() -> Value {
        sample_with(true)
    }

    /// [`sample`] with every yes/no fact `yes`, so both branches of each template can be
    /// rendered.
    fn sample_with(yes: bool) -> Value {
        let p = Value::from_serialize(serde_json::json!({
            "id": "openai:a@example.com", "label": "a@example.com", "plan": "plus",
            "status": "ok", "expires_at": "2026-12-01T00:00:00Z", "in_order": yes,
            "last_good": yes, "unusable_until": null, "error_count": 0
        }));
        context! {
            role => if yes { "admin" } else { "user" }, user_id => 7, words => vec!["a", "b"], p => p.clone(),
            profiles => vec![p], command => "/x", problem => "Bad.", usage => "/x",
            length => 5000, max => 4096, what => "Usage check", message => "boom",
            lines => vec!["a · plus"], ok => 1, failed => 1, profile => "openai:a",
            usable => 0, limited => 1, checked => 2,
            name => "a", url => "https://example.invalid", minutes => 15, email => "a@x",
            updated => yes, placeholder => crate::secret::CALLBACK_URL_PLACEHOLDER,
            code => "ABCD-1234", layer => "state-db", verified => yes, backup => "b.json",
            selector => "all", count => 2, given => "alice", suggestions => vec!["a", "b", "c"],
            candidates => vec![context! { id => "openai:a", label => "a (plus, account 1111…0001)" }],
            requested => "openai:work", account => "1111…0001", r => rotation_sample(),
            rotations => 1, until => "14:25 IST", agent => "work", agents => vec!["main", "work"], current => "work",
            default => "main", days => 7, series => 2, pool => "pool (1 usable profile) · m",
            text => "a 5h ▁▂ 42% left", unsaved => yes, findings => doctor_sample(yes),
            buttons => yes, healthy => !yes
        }
    }

    /// Doctor findings with a remedy of every kind.
    fn doctor_sample(yes: bool) -> Value {
        let remedies = serde_json::json!([
            {"kind": "set_order", "provider": "openai", "ids": ["openai:a"]},
            {"kind": "retire", "profile": "openai:a"},
            {"kind": "login", "profile": "openai:a"},
            {"kind": "unblock", "profile": "openai:a"},
        ]);
        Value::from_serialize(serde_json::json!([{"n": 1, "code": "profile_blocked",
            "action": yes, "title": "t", "meaning": null, "facts": {}, "remedies": remedies}]))
    }

    /// A rotation with one finding of every code the templates word.
    fn rotation_sample() -> Value {
        let facts = serde_json::json!({"model": "m", "usable": "4", "which": "the third and fourth",
            "never": "openai:c", "whence": "w", "listed": "openai:a", "hidden": "openai:b",
            "order": "openai:a", "session": "s", "profile": "openai:a", "source": "user",
            "until": "2100-01-01T00:00:00Z", "left": "3 min"});
        let findings: Vec<serde_json::Value> = [
            "fallback_caps_rotation", "config_profiles_hide_stored", "config_order_hides_stored",
            "config_order_decides", "config_order_overridden", "codex_home_scope_user",
            "session_pin", "profile_blocked", "no_usable_profile", "other",
        ]
        .iter()
        .map(|c| serde_json::json!({"code": c, "severity": "info", "message": "m", "fix": null, "facts": facts}))
        .collect();
        Value::from_serialize(serde_json::json!({"provider": "openai", "usable_now": 4,
            "try_order": ["openai:a"], "order_source": "store", "fallback_model": "m",
            "tried_per_turn": 2, "last_good": null, "findings": findings}))
    }

    #[test]
    fn every_template_renders() {
        for (name, _) in TEMPLATES {
            let out = env().get_template(name).and_then(|t| t.render(sample()));
            assert!(out.is_ok(), "{name}: {out:?}");
        }
    }

    /// Item 9 of issue 11: no chat text names a flag, a `codex-profiler` or `openclaw`
    /// command or a backticked shell command. Every template is checked, so a template added
    /// later is caught too.
    #[test]
    fn no_template_speaks_command_line() {
        let words = [
            "--state-dir",
            "--confirm",
            "--yes",
            "auth start",
            "order set",
        ];
        for (name, _) in TEMPLATES {
            // Both branches of every yes/no fact.
            for yes in [true, false] {
                let out = render(name, sample_with(yes));
                assert!(
                    !crate::chat::backend::wording::has_cli_words(&out),
                    "{name} names a command-line word: {out}"
                );
                for word in words {
                    assert!(!out.contains(word), "{name} names {word}: {out}");
                }
            }
        }
        // Every hint the failures get is a chat action, never a command line.
        for (code, hint) in pairs("error_hints") {
            assert!(
                !crate::chat::backend::wording::has_cli_words(&hint),
                "{code}: {hint}"
            );
        }
    }

    #[test]
    fn menu_and_labels() {
        let m = menu();
        let names: Vec<&str> = m.iter().map(|(c, _)| c.as_str()).collect();
        assert_eq!(
            names,
            [
                "codex_usage",
                "codex_auth",
                "codex_rotation",
                "help",
                "start"
            ]
        );
        assert!(m.iter().all(|(_, d)| !d.is_empty() && d.len() <= 256));
        // The admin menu names what only admins may do; everyone else's does not.
        let admin = menu_for("admin");
        assert_eq!(admin.len(), m.len());
        let says = |m: &[(String, String)], w: &str| m.iter().any(|(_, d)| d.contains(w));
        assert!(says(&admin, "retire") && says(&admin, "new logins"));
        assert!(!says(&m, "retire") && !says(&menu_for("user"), "new logins"));
        assert_eq!(label("confirm_delete"), "Yes, delete it");
        assert_eq!(label("nope"), "nope");
    }

    #[test]
    fn usage_result_counts_limited_apart_from_usable() {
        let counts = |ok: usize, failed: usize, usable: usize, limited: usize| {
            render(
                "usage_result",
                context! { lines => vec!["a · plus"], ok, failed, usable, limited,
                checked => ok + failed },
            )
        };
        assert!(
            counts(3, 1, 2, 1)
                .starts_with("Codex usage (4 checked: 2 usable, 1 limited, 1 failed):\n"),
            "{}",
            counts(3, 1, 2, 1)
        );
        assert!(
            counts(2, 0, 1, 1)
                .starts_with("Codex usage (2 checked: 1 usable, 1 limited, 0 failed):")
        );
        assert!(counts(2, 0, 2, 0).starts_with("Codex usage:\n"));
    }

    #[test]
    fn progress_text_is_the_spec_one() {
        assert_eq!(text("usage_progress"), "Running Codex usage check…");
        assert_eq!(
            render(
                "reply_with",
                context! { words => vec!["default", "all", "alice@example.com"] }
            ),
            "Reply with: default | all | alice@example.com"
        );
    }
}
