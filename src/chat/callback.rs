//! The inline-button codec: `codex_auth_<action>:<arg>`, at most 64 bytes (Telegram's limit),
//! for every button including usage ones. Decoding is total: anything that is not exactly
//! what [`CallbackData::encode`] produces is `None`, and the caller answers "this menu is out
//! of date" without doing anything.

use crate::chat::keys::{ItemKey, ProfileKey};
use crate::chat::paging::{ListKey, Menu};

/// Prefix of every callback datum.
pub const PREFIX: &str = "codex_auth_";
/// Telegram's limit on callback data, in bytes.
pub const MAX_LEN: usize = 64;
/// The argument of actions that take none.
const NO_ARG: &str = "-";

/// Every callback namespace (`codex_auth_<action>`, the data up to its `:`) the core draws:
/// what a host that routes taps by namespace (the OpenClaw plugin) must register.
pub const NAMESPACES: &[&str] = &[
    "codex_auth_usage",
    "codex_auth_status",
    "codex_auth_new",
    "codex_auth_login",
    "codex_auth_device",
    "codex_auth_retire",
    "codex_auth_delete",
    "codex_auth_confirm",
    "codex_auth_cancel",
    "codex_auth_unblock",
    "codex_auth_page",
    "codex_auth_ofirst",
    "codex_auth_oup",
    "codex_auth_odown",
    "codex_auth_oout",
    "codex_auth_oclear",
    "codex_auth_oconfirm",
    "codex_auth_restore",
    "codex_auth_restoreok",
    "codex_auth_fix",
    "codex_auth_fixok",
    "codex_auth_agent",
    "codex_auth_history",
];

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
    /// Clear the profile's stale block (the watcher's button).
    Unblock(ProfileKey),
    /// Show another page of a paged selector.
    Page(PageTap),
    /// A button of the order view (move, take out, clear, confirm).
    Order(OrderTap),
    /// Ask to restore the backup (shows what comes back and asks for a confirmation).
    Restore(ItemKey),
    /// The confirmation tap: restore the backup.
    ConfirmRestore(ItemKey),
    /// Apply a doctor finding's fix (asks first when a profile leaves service).
    Fix(ItemKey),
    /// The confirmation tap: apply the fix.
    ConfirmFix(ItemKey),
    /// Show and change this agent in this chat (several agents under one state directory).
    Agent(String),
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
            CallbackData::Unblock(k) => ("unblock", k.as_str()),
            CallbackData::Page(p) => ("page", p.arg.as_str()),
            CallbackData::Order(o) => (o.action.word(), o.arg.as_str()),
            CallbackData::Restore(k) => ("restore", k.as_str()),
            CallbackData::ConfirmRestore(k) => ("restoreok", k.as_str()),
            CallbackData::Fix(k) => ("fix", k.as_str()),
            CallbackData::ConfirmFix(k) => ("fixok", k.as_str()),
            CallbackData::Agent(a) => ("agent", a.as_str()),
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
            "unblock" => CallbackData::Unblock(key()?),
            "restore" => CallbackData::Restore(ItemKey::parse(arg)?),
            "restoreok" => CallbackData::ConfirmRestore(ItemKey::parse(arg)?),
            "fix" => CallbackData::Fix(ItemKey::parse(arg)?),
            "fixok" => CallbackData::ConfirmFix(ItemKey::parse(arg)?),
            "agent" if crate::chat::agents::plausible(arg) => CallbackData::Agent(arg.to_owned()),
            "history" => CallbackData::History(target()?),
            "page" => CallbackData::Page(PageTap::parse(arg)?),
            _ => CallbackData::Order(OrderTap::parse(action, arg)?),
        };
        Some(decoded)
    }

    /// The command (without slash) whose menu draws this choice, and which, typed with the
    /// choice's word, picks it where bare replies never reach the core.
    pub fn command(&self) -> &'static str {
        match self {
            CallbackData::Usage(_) | CallbackData::History(_) => "codex_usage",
            CallbackData::Page(p) if p.menu == Menu::Usage => "codex_usage",
            _ => "codex_auth",
        }
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
            | CallbackData::ConfirmDelete(k)
            | CallbackData::Unblock(k) => Some(k),
            _ => None,
        }
    }
}

/// A page button: which menu, which page, and the list it was drawn from (`u3.1a2b3c4d`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageTap {
    /// The menu.
    pub menu: Menu,
    /// Zero-based page.
    pub page: u16,
    /// The whole list the page belonged to.
    pub list: ListKey,
    arg: String,
}

impl PageTap {
    /// A page button.
    pub fn new(menu: Menu, page: u16, list: ListKey) -> PageTap {
        let arg = format!("{}{page}.{}", menu.letter(), list.as_str());
        PageTap {
            menu,
            page,
            list,
            arg,
        }
    }

    fn parse(arg: &str) -> Option<PageTap> {
        let mut chars = arg.chars();
        let menu = Menu::from_letter(chars.next()?)?;
        let (page, list) = chars.as_str().split_once('.')?;
        // Digits only, no sign or leading zero: one spelling per page.
        if page.is_empty()
            || !page.bytes().all(|b| b.is_ascii_digit())
            || page.len() > 1 && page.starts_with('0')
        {
            return None;
        }
        let tap = PageTap::new(menu, page.parse().ok()?, ListKey::parse(list)?);
        (tap.arg == arg).then_some(tap)
    }
}

/// How an order button moves its profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderMove {
    /// Put it first.
    First,
    /// One place earlier.
    Up,
    /// One place later.
    Down,
    /// Take it out of the order.
    Out,
}

/// What an order button does.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OrderAction {
    /// Move one profile of the list `list` was drawn from.
    Move(OrderMove, ListKey, ProfileKey),
    /// Ask to clear the stored order (drawn from `list`).
    Clear(ListKey),
    /// Confirm the change shown: drawn from order `drawn`, proposing the order `proposal`.
    Confirm(ListKey, ListKey),
}

impl OrderAction {
    fn word(&self) -> &'static str {
        match self {
            OrderAction::Move(OrderMove::First, ..) => "ofirst",
            OrderAction::Move(OrderMove::Up, ..) => "oup",
            OrderAction::Move(OrderMove::Down, ..) => "odown",
            OrderAction::Move(OrderMove::Out, ..) => "oout",
            OrderAction::Clear(_) => "oclear",
            OrderAction::Confirm(..) => "oconfirm",
        }
    }
}

/// An order button (`codex_auth_oup:1a2b3c4d.0123456789ab`, at most 40 bytes).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OrderTap {
    /// What it does.
    pub action: OrderAction,
    arg: String,
}

impl OrderTap {
    /// An order button.
    pub fn new(action: OrderAction) -> OrderTap {
        let arg = match &action {
            OrderAction::Move(_, list, key) => format!("{}.{}", list.as_str(), key.as_str()),
            OrderAction::Clear(list) => list.as_str().to_owned(),
            OrderAction::Confirm(drawn, proposal) => {
                format!("{}.{}", drawn.as_str(), proposal.as_str())
            }
        };
        OrderTap { action, arg }
    }

    fn parse(word: &str, arg: &str) -> Option<OrderTap> {
        let two = || arg.split_once('.');
        let mv = |m: OrderMove| {
            let (list, key) = two()?;
            Some(OrderAction::Move(
                m,
                ListKey::parse(list)?,
                ProfileKey::parse(key)?,
            ))
        };
        let action = match word {
            "ofirst" => mv(OrderMove::First)?,
            "oup" => mv(OrderMove::Up)?,
            "odown" => mv(OrderMove::Down)?,
            "oout" => mv(OrderMove::Out)?,
            "oclear" => OrderAction::Clear(ListKey::parse(arg)?),
            "oconfirm" => {
                let (drawn, proposal) = two()?;
                OrderAction::Confirm(ListKey::parse(drawn)?, ListKey::parse(proposal)?)
            }
            _ => return None,
        };
        Some(OrderTap::new(action))
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

    fn list() -> ListKey {
        ListKey::of("stored", &["openai:a", "openai:b"])
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
            CallbackData::Unblock(k.clone()),
            CallbackData::Restore(ItemKey::of("20261201T120000000Z-order-clear-1000.json")),
            CallbackData::ConfirmRestore(ItemKey::of("b")),
            CallbackData::Fix(ItemKey::of("set_order openai a b")),
            CallbackData::ConfirmFix(ItemKey::of("retire openai:a")),
            CallbackData::Agent("work".into()),
            CallbackData::History(UsageTarget::All),
            CallbackData::History(UsageTarget::Default),
            CallbackData::History(UsageTarget::Profile(k.clone())),
            CallbackData::Page(PageTap::new(Menu::Usage, 0, list())),
            CallbackData::Page(PageTap::new(Menu::Order, u16::MAX, list())),
            CallbackData::Order(OrderTap::new(OrderAction::Clear(list()))),
            CallbackData::Order(OrderTap::new(OrderAction::Confirm(list(), list()))),
        ]
        .into_iter()
        .chain(
            [
                OrderMove::First,
                OrderMove::Up,
                OrderMove::Down,
                OrderMove::Out,
            ]
            .map(|m| CallbackData::Order(OrderTap::new(OrderAction::Move(m, list(), k.clone())))),
        )
        .collect()
    }

    #[test]
    fn every_namespace_drawn_is_listed_once() {
        let mut drawn: Vec<String> = every()
            .iter()
            .map(|d| d.encode().split(':').next().unwrap_or("").to_owned())
            .collect();
        drawn.sort();
        drawn.dedup();
        let mut listed: Vec<String> = NAMESPACES.iter().map(|n| (*n).to_owned()).collect();
        listed.sort();
        assert_eq!(drawn, listed);
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
            "codex_auth_unblock:-",
            "codex_auth_unblock:openai:alice",
            "codex_auth_launch:000000000000",
            "other_usage:all",
            "codex_auth_usage:all:extra",
            "codex_auth_page:u1",
            "codex_auth_page:x1.1a2b3c4d",
            "codex_auth_page:u01.1a2b3c4d",
            "codex_auth_page:u+1.1a2b3c4d",
            "codex_auth_page:u99999.1a2b3c4d",
            "codex_auth_page:u1.1A2B3C4D",
            "codex_auth_oup:1a2b3c4d",
            "codex_auth_oup:1a2b3c4d.000000000000.x",
            "codex_auth_oclear:1a2b3c4d.000000000000",
            "codex_auth_oconfirm:1a2b3c4d",
            "codex_auth_omove:1a2b3c4d.000000000000",
            "codex_auth_restore:20261201T120000000Z-retire.json",
            "codex_auth_restoreok:-",
            "codex_auth_fix:ABCDEF012345",
            "codex_auth_fixok:",
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
