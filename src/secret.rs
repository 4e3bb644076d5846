//! Secrets (tokens, authorization codes, callback URLs, PKCE verifiers, the bot token) are
//! held in [`redact::Secret`] from the moment they are parsed. This module adds the few
//! helpers every output path shares: a scrubber for text that came from outside (a child
//! process's output, an upstream error body) and the one safe way to show a callback URL.

pub use redact::Secret;

/// What a callback URL looks like wherever one must be shown.
pub const CALLBACK_URL_PLACEHOLDER: &str = "http://localhost:1455/auth/callback?code=…&state=…";

/// Environment variables holding a secret of this process that no child it runs may inherit
/// (`openclaw`, the queued restart's worker and command): `.env` exports what it gives into
/// our environment, and a child gets the whole environment unless told otherwise.
pub const SECRET_ENV_VARS: &[&str] = &["TELEGRAM_BOT_TOKEN"];

/// Keep [`SECRET_ENV_VARS`] out of what `cmd` passes on to the program it starts.
pub fn without_secret_env(cmd: &mut std::process::Command) -> &mut std::process::Command {
    for name in SECRET_ENV_VARS {
        cmd.env_remove(name);
    }
    cmd
}

/// Replace every occurrence of any of `secrets` (ignoring empty and very short ones, which
/// would match ordinary text) in `text` with `[redacted]`.
pub fn scrub(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_owned();
    for s in secrets {
        if s.len() >= 6 {
            out = out.replace(s, "[redacted]");
        }
    }
    scrub_patterns(&out)
}

/// Remove things that look like credentials even when we do not know them: JWTs,
/// `code=`/`state=`/`token=` query values, refresh-token-like words and `Bearer` values.
pub fn scrub_patterns(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_inclusive(char::is_whitespace) {
        let trimmed = word.trim_end();
        let tail = &word[trimmed.len()..];
        out.push_str(&scrub_word(trimmed));
        out.push_str(tail);
    }
    out
}

fn scrub_word(word: &str) -> String {
    // A JWT: three base64url parts, the first starting with `eyJ`.
    if let Some(pos) = word.find("eyJ") {
        let rest = &word[pos..];
        if rest.split('.').count() >= 3 {
            return format!("{}[redacted]", &word[..pos]);
        }
    }
    if word.starts_with("rt_") || word.starts_with("sk-") {
        return "[redacted]".to_owned();
    }
    // A pasted `code#state` (the state is 32 hex digits).
    if let Some((code, state)) = word.split_once('#') {
        let state = state.trim_end_matches(|c: char| !c.is_ascii_hexdigit());
        if code.len() >= 6 && state.len() >= 16 && state.chars().all(|c| c.is_ascii_hexdigit()) {
            return "[redacted]".to_owned();
        }
    }
    let mut w = word.to_owned();
    for key in [
        "code=",
        "state=",
        "access_token=",
        "refresh_token=",
        "id_token=",
        "code_verifier=",
    ] {
        w = redact_query_value(&w, key);
    }
    w
}

fn redact_query_value(word: &str, key: &str) -> String {
    let mut out = String::new();
    let mut rest = word;
    while let Some(pos) = rest.find(key) {
        let boundary_ok = pos == 0 || matches!(rest.as_bytes()[pos - 1], b'?' | b'&' | b'#');
        out.push_str(&rest[..pos + key.len()]);
        rest = &rest[pos + key.len()..];
        if boundary_ok {
            // A closing bracket ends the value too (a URL quoted in parentheses).
            let end = rest.find(['&', '#', '"', '\'', ')']).unwrap_or(rest.len());
            if end > 0 {
                out.push('…');
            }
            rest = &rest[end..];
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_is_started_without_the_secret_variables() {
        let mut cmd = std::process::Command::new("env");
        cmd.env("TELEGRAM_BOT_TOKEN", "1:x").env("KEEP", "1");
        without_secret_env(&mut cmd);
        let envs: Vec<_> = cmd.get_envs().collect();
        for name in SECRET_ENV_VARS {
            assert!(
                envs.contains(&(std::ffi::OsStr::new(name), None)),
                "{name} removed"
            );
        }
        assert!(envs.contains(&(
            std::ffi::OsStr::new("KEEP"),
            Some(std::ffi::OsStr::new("1"))
        )));
    }

    #[test]
    fn scrubs_known_secrets_and_patterns() {
        let text = "failed for rt_ABCDEF123 with http://localhost:1455/auth/callback?code=abc123&state=ff00 and eyJa.eyJb.sig";
        let out = scrub(text, &["abc123"]);
        assert!(!out.contains("rt_ABCDEF123"));
        assert!(!out.contains("abc123"));
        assert!(!out.contains("ff00"));
        assert!(!out.contains("eyJa.eyJb"));
        assert!(out.contains("code=…"));
    }

    #[test]
    fn a_query_value_ends_at_a_closing_bracket() {
        assert_eq!(
            scrub_patterns("(http://localhost:1455/auth/callback?code=abc&state=ff00)"),
            "(http://localhost:1455/auth/callback?code=…&state=…)"
        );
    }

    #[test]
    fn scrubs_a_pasted_code_hash_state() {
        let out = scrub_patterns("not a callback: ac_Abc123def#0123456789abcdef0123456789abcdef.");
        assert!(!out.contains("ac_Abc123def"), "{out}");
        assert!(!out.contains("0123456789abcdef"), "{out}");
        assert_eq!(scrub_patterns("issue #42 and C#"), "issue #42 and C#");
    }

    #[test]
    fn leaves_plain_text_alone() {
        assert_eq!(
            scrub_patterns("order set openai:alice"),
            "order set openai:alice"
        );
    }
}
