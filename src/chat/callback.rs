//! The inline-button codec: `codex_auth_<action>:<arg>`, at most 64 bytes (Telegram's limit),
//! for every button including usage ones. Decoding is total: anything that is not exactly
//! what [`CallbackData::encode`] produces is `None`, and the caller answers "this menu is out
//! of date" without doing anything.

use crate::chat::keys::ProfileKey;

/// Prefix of every callback datum.
pub const PREFIX: &str = "codex_auth_";
/// Telegram's limit on callback data, in bytes.
pub const MAX_LEN: usize = 64;
/// The argument of actions that take none.
const NO_ARG: &str = "-";

/// What a usage button checks.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum UsageTarget {
    /// The selector's `default`.
    Default,
    /// Every profile.
    All,
    /// One profile.
    Profile(ProfileKey),
}

/// A decoded button.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CallbackData {
    /// Run the usage check.
    Usage(UsageTarget),
    /// Show a profile's auth status.
    Status(ProfileKey),
    /// Explain how to start a new login.
    NewLogin,
    /// Log the profile in again (PKCE paste-back).
    Login(ProfileKey),
    /// Log the profile in again with a device code.
    Device(ProfileKey),
    /// Take the profile out of the order, keep the credential.
    Retire(ProfileKey),
    /// Ask to delete the profile (shows a confirmation).
    Delete(ProfileKey),
    /// The confirmation tap: delete the profile.
    ConfirmDelete(ProfileKey),
    /// Dismiss a confirmation.
    Cancel,
    /// Chart the usage history (`/codex_usage history`).
    History(UsageTarget),
}

impl CallbackData {
    /// The action word and its argument.
    fn parts(&self) -> (&'static str, &str) {
        match self {
            CallbackData::Usage(t) => ("usage", target_arg(t)),
            CallbackData::Status(k) => ("status", k.as_str()),
            CallbackData::NewLogin => ("new", NO_ARG),
            CallbackData::Login(k) => ("login", k.as_str()),
            CallbackData::Device(k) => ("device", k.as_str()),
            CallbackData::Retire(k) => ("retire", k.as_str()),
            CallbackData::Delete(k) => ("delete", k.as_str()),
            CallbackData::ConfirmDelete(k) => ("confirm", k.as_str()),
            CallbackData::Cancel => ("cancel", NO_ARG),
            CallbackData::History(t) => ("history", target_arg(t)),
        }
    }

    /// Encode as `codex_auth_<action>:<arg>` (always well under 64 bytes).
    pub fn encode(&self) -> String {
        let (action, arg) = self.parts();
        format!("{PREFIX}{action}:{arg}")
    }

    /// Decode callback data; `None` for anything unknown, forged or over-long.
    pub fn decode(data: &str) -> Option<CallbackData> {
        if data.len() > MAX_LEN {
            return None;
        }
        let (action, arg) = data.strip_prefix(PREFIX)?.split_once(':')?;
        let key = || ProfileKey::parse(arg);
        let target = || {
            Some(match arg {
                "default" => UsageTarget::Default,
                "all" => UsageTarget::All,
                _ => UsageTarget::Profile(key()?),
            })
        };
        let decoded = match action {
            "usage" => CallbackData::Usage(target()?),
            "status" => CallbackData::Status(key()?),
            "new" if arg == NO_ARG => CallbackData::NewLogin,
            "login" => CallbackData::Login(key()?),
            "device" => CallbackData::Device(key()?),
            "retire" => CallbackData::Retire(key()?),
            "delete" => CallbackData::Delete(key()?),
            "confirm" => CallbackData::ConfirmDelete(key()?),
            "cancel" if arg == NO_ARG => CallbackData::Cancel,
            "history" => CallbackData::History(target()?),
            _ => return None,
        };
        Some(decoded)
    }

    /// The profile key this action names, if any.
    pub fn key(&self) -> Option<&ProfileKey> {
        match self {
            CallbackData::Usage(UsageTarget::Profile(k))
            | CallbackData::History(UsageTarget::Profile(k))
            | CallbackData::Status(k)
            | CallbackData::Login(k)
            | CallbackData::Device(k)
            | CallbackData::Retire(k)
            | CallbackData::Delete(k)
            | CallbackData::ConfirmDelete(k) => Some(k),
            _ => None,
        }
    }
}

/// A usage target as a callback argument.
fn target_arg(t: &UsageTarget) -> &str {
    match t {
        UsageTarget::Default => "default",
        UsageTarget::All => "all",
        UsageTarget::Profile(k) => k.as_str(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::profile::ProfileId;

    fn key() -> ProfileKey {
        ProfileKey::of(
            &ProfileId::parse("openai:a-very-long-name-for-a-profile@some.example.com").unwrap(),
        )
    }

    fn every() -> Vec<CallbackData> {
        let k = key();
        vec![
            CallbackData::Usage(UsageTarget::Default),
            CallbackData::Usage(UsageTarget::All),
            CallbackData::Usage(UsageTarget::Profile(k.clone())),
            CallbackData::Status(k.clone()),
            CallbackData::NewLogin,
            CallbackData::Login(k.clone()),
            CallbackData::Device(k.clone()),
            CallbackData::Retire(k.clone()),
            CallbackData::Delete(k.clone()),
            CallbackData::ConfirmDelete(k.clone()),
            CallbackData::Cancel,
            CallbackData::History(UsageTarget::All),
            CallbackData::History(UsageTarget::Default),
            CallbackData::History(UsageTarget::Profile(k)),
        ]
    }

    #[test]
    fn round_trips_within_64_bytes() {
        for d in every() {
            let s = d.encode();
            assert!(s.len() <= MAX_LEN, "{s} is too long");
            assert!(s.starts_with("codex_auth_"));
            assert_eq!(CallbackData::decode(&s), Some(d));
        }
    }

    #[test]
    fn refuses_forged_and_unknown_data() {
        for bad in [
            "",
            "codex_auth_usage",
            "codex_auth_usage:",
            "codex_auth_usage:openai:alice@example.com",
            "codex_auth_status:XYZ",
            "codex_auth_delete:../../etc",
            "codex_auth_new:x",
            "codex_auth_launch:000000000000",
            "other_usage:all",
            "codex_auth_usage:all:extra",
            "codex_auth_history",
            "codex_auth_history:",
            "codex_auth_history:-",
            "codex_auth_history:openai:alice@example.com",
            "codex_auth_history:all:extra",
            "codex_auth_History:all",
        ] {
            assert_eq!(CallbackData::decode(bad), None, "{bad}");
        }
        let long = format!("codex_auth_usage:{}", "a".repeat(60));
        assert!(long.len() > MAX_LEN);
        assert_eq!(CallbackData::decode(&long), None);
    }

    #[test]
    fn history_buttons_name_their_target() {
        let k = key();
        assert_eq!(
            CallbackData::History(UsageTarget::All).encode(),
            "codex_auth_history:all"
        );
        let one = CallbackData::History(UsageTarget::Profile(k.clone()));
        assert_eq!(one.key(), Some(&k));
        assert_eq!(CallbackData::History(UsageTarget::All).key(), None);
        // A history button is never a usage check, nor the other way round.
        assert_ne!(
            CallbackData::decode(&one.encode()),
            Some(CallbackData::Usage(UsageTarget::Profile(k)))
        );
    }
}
