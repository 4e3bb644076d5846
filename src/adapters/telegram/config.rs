//! The Telegram adapter's own settings (SPEC section 8), parsed once at the edge from the
//! environment into types that cannot be wrong: the bot token is a [`Secret`] from the first
//! read, URLs are parsed, the admin list is checked for being non-empty.

use std::net::SocketAddr;
use std::time::Duration;

use redact::Secret;
use url::Url;

use super::TelegramError;

/// Where the webhook's HTTP server listens when `TELEGRAM_WEBHOOK_LISTEN` is not set: loopback,
/// because a reverse proxy terminates TLS in front of it (see `docs/TELEGRAM.md`).
pub const DEFAULT_WEBHOOK_LISTEN: &str = "127.0.0.1:8080";

/// How updates arrive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateSource {
    /// `getUpdates` long polling (the default).
    Polling,
    /// Telegram POSTs updates to `url`; our server listens on `listen`.
    Webhook {
        /// The public HTTPS URL registered with `setWebhook`.
        url: Url,
        /// The local address the webhook server binds.
        listen: SocketAddr,
    },
}

/// Everything `bot` needs besides the conversation core.
#[derive(Debug, Clone)]
pub struct TelegramConfig {
    /// `TELEGRAM_BOT_TOKEN`, never shown.
    pub token: Secret<String>,
    /// `TELEGRAM_API_URL`: another Bot API server (a loopback fake in tests).
    pub api_url: Option<Url>,
    /// Polling or webhook (`TELEGRAM_WEBHOOK_URL`, `TELEGRAM_WEBHOOK_LISTEN`).
    pub source: UpdateSource,
    /// `CODEX_PROFILER_INLINE_BUTTONS` (default true); false gives the text fallback.
    pub inline_buttons: bool,
    /// How long in-flight handlers may run after SIGINT/SIGTERM before the bot exits anyway.
    pub shutdown_grace: Duration,
    /// Long-poll wait per `getUpdates` call (kept below teloxide's 17 s client timeout).
    pub poll_timeout: Duration,
}

impl TelegramConfig {
    /// Read the settings from the process environment.
    pub fn from_env() -> Result<TelegramConfig, TelegramError> {
        TelegramConfig::from_lookup(|k| std::env::var(k).ok())
    }

    /// Read the settings through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<TelegramConfig, TelegramError> {
        let get = |k: &str| {
            lookup(k)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let token = get("TELEGRAM_BOT_TOKEN").ok_or(TelegramError::NoToken)?;
        if get("CODEX_PROFILER_ADMINS").is_none() {
            return Err(TelegramError::NoAdmin);
        }
        let api_url = match get("TELEGRAM_API_URL") {
            Some(raw) => Some(parse_api_url(&raw)?),
            None => None,
        };
        let source = match get("TELEGRAM_WEBHOOK_URL") {
            None => UpdateSource::Polling,
            Some(raw) => {
                let url = Url::parse(&raw).map_err(|_| TelegramError::BadSetting {
                    name: "TELEGRAM_WEBHOOK_URL",
                    why: "is not a URL",
                })?;
                let listen_raw = get("TELEGRAM_WEBHOOK_LISTEN")
                    .unwrap_or_else(|| DEFAULT_WEBHOOK_LISTEN.to_owned());
                let listen = listen_raw.parse().map_err(|_| TelegramError::BadSetting {
                    name: "TELEGRAM_WEBHOOK_LISTEN",
                    why: "is not an address like 127.0.0.1:8080",
                })?;
                UpdateSource::Webhook { url, listen }
            }
        };
        let inline_buttons = match get("CODEX_PROFILER_INLINE_BUTTONS") {
            None => true,
            Some(v) => parse_bool(&v).ok_or(TelegramError::BadSetting {
                name: "CODEX_PROFILER_INLINE_BUTTONS",
                why: "must be true or false",
            })?,
        };
        let shutdown_grace = get("CODEX_PROFILER_SHUTDOWN_GRACE_MS")
            .and_then(|v| v.parse().ok())
            .map(Duration::from_millis)
            .unwrap_or(Duration::from_secs(5));
        let poll_timeout = get("CODEX_PROFILER_POLL_TIMEOUT_SEC")
            .and_then(|v| v.parse::<u64>().ok())
            .map(|s| Duration::from_secs(s.min(15)))
            .unwrap_or(Duration::from_secs(10));
        Ok(TelegramConfig {
            token: Secret::new(token),
            api_url,
            source,
            inline_buttons,
            shutdown_grace,
            poll_timeout,
        })
    }
}

/// teloxide appends `bot<token>/<method>` as path segments, so the base must be able to hold
/// a path; a value like `mailto:x` is refused here rather than panicking inside teloxide.
fn parse_api_url(raw: &str) -> Result<Url, TelegramError> {
    let bad = TelegramError::BadSetting {
        name: "TELEGRAM_API_URL",
        why: "is not an http(s) URL",
    };
    let url = Url::parse(raw).map_err(|_| bad.clone())?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err(bad);
    }
    // The bot token travels in the URL's path: over plain http it is readable by anyone on the
    // way, so http is only for a Bot API server on this machine (a local `telegram-bot-api`, a
    // test fake).
    if url.scheme() == "http" && !crate::engine::endpoint::is_loopback(&url) {
        return Err(TelegramError::BadSetting {
            name: "TELEGRAM_API_URL",
            why: "uses plain http to a host that is not loopback (the bot token would travel in clear text); use https, or http only to 127.0.0.1, ::1 or localhost",
        });
    }
    Ok(url)
}

/// `true/false`, `1/0`, `yes/no`, `on/off`, any case.
pub fn parse_bool(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(pairs: &[(&str, &str)]) -> Result<TelegramConfig, TelegramError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        TelegramConfig::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn no_token_is_its_own_error() {
        assert!(matches!(
            cfg(&[("CODEX_PROFILER_ADMINS", "1")]),
            Err(TelegramError::NoToken)
        ));
    }

    #[test]
    fn no_admin_refuses() {
        let e = cfg(&[("TELEGRAM_BOT_TOKEN", "123:abc")]).err();
        assert!(matches!(e, Some(TelegramError::NoAdmin)));
        assert!(
            TelegramError::NoAdmin
                .to_string()
                .contains("CODEX_PROFILER_ADMINS")
        );
    }

    #[test]
    fn defaults_to_polling_with_buttons() {
        let c = cfg(&[
            ("TELEGRAM_BOT_TOKEN", "123:abc"),
            ("CODEX_PROFILER_ADMINS", "1"),
        ])
        .unwrap();
        assert_eq!(c.source, UpdateSource::Polling);
        assert!(c.inline_buttons);
        assert!(!format!("{c:?}").contains("123:abc"));
    }

    #[test]
    fn webhook_and_fallback_parse() {
        let c = cfg(&[
            ("TELEGRAM_BOT_TOKEN", "123:abc"),
            ("CODEX_PROFILER_ADMINS", "1"),
            ("TELEGRAM_WEBHOOK_URL", "https://bot.example.com/tg"),
            ("CODEX_PROFILER_INLINE_BUTTONS", "false"),
        ])
        .unwrap();
        assert!(
            matches!(c.source, UpdateSource::Webhook { ref listen, .. } if listen.port() == 8080)
        );
        assert!(!c.inline_buttons);
    }

    #[test]
    fn bad_values_name_the_variable() {
        let e = cfg(&[
            ("TELEGRAM_BOT_TOKEN", "123:abc"),
            ("CODEX_PROFILER_ADMINS", "1"),
            ("TELEGRAM_API_URL", "mailto:x"),
        ])
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(e.contains("TELEGRAM_API_URL"), "{e}");
    }

    #[test]
    fn plain_http_only_to_loopback() {
        let with = |url: &str| {
            cfg(&[
                ("TELEGRAM_BOT_TOKEN", "123:abc"),
                ("CODEX_PROFILER_ADMINS", "1"),
                ("TELEGRAM_API_URL", url),
            ])
        };
        for ok in [
            "http://127.0.0.1:8081",
            "http://[::1]:8081/",
            "http://localhost:8081",
            "https://api.example.com",
        ] {
            assert!(with(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://api.example.com",
            "http://10.0.0.5:8081",
            "http://127.0.0.1.example.com",
        ] {
            let e = with(bad).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(
                e.contains("TELEGRAM_API_URL") && e.contains("clear text"),
                "{bad}: {e}"
            );
            assert!(!e.contains("123:abc"), "{e}");
        }
    }
}
