//! Parse one text message into what the user asked for: a command with its arguments
//! (`@botname` stripped), a bare reply (text-fallback choice), a pasted callback URL, or
//! something to refuse. Parsing is pure; callback URLs are [`Secret`]s from here on and the
//! message holding one is marked so the conversation deletes it.

use crate::secret::Secret;

/// The longest message the bot reads (Telegram's own limit).
pub const MAX_TEXT_CHARS: usize = 4096;

/// An `/codex_auth ...` request.
#[derive(Debug, Clone)]
pub enum AuthCommand {
    /// No argument: the profile selector plus "new login".
    Menu,
    /// `SEL`: one profile's status and actions.
    Status(String),
    /// `login NAME`.
    Login(String),
    /// `device NAME`.
    Device(String),
    /// `finish NAME URL`.
    Finish {
        /// Profile name.
        name: String,
        /// The pasted callback URL.
        url: Secret<String>,
    },
    /// `retire SEL`.
    Retire(String),
    /// `agent [NAME]`: the agents to choose from, or switch this chat to agent NAME.
    Agent(Option<String>),
    /// `delete SEL [confirm]`.
    Delete {
        /// The profile.
        selector: String,
        /// Whether `confirm` was given.
        confirm: bool,
    },
    /// `order`: the stored and the effective order.
    Order,
    /// `order A B ...`: set the order (one selector a word).
    OrderSet(Vec<String>),
    /// `order clear`.
    OrderClear,
    /// `backups`: the newest backups, each with a restore action.
    Backups,
    /// `layers`: the seven layers that decide which profile is used.
    Layers,
    /// `doctor`: the doctor's findings and their fixes.
    Doctor,
}

/// What a text message asks for.
#[derive(Debug, Clone)]
pub enum Parsed {
    /// `/start`.
    Start,
    /// `/help`.
    Help,
    /// `/codex_usage [SEL]`.
    Usage(Option<String>),
    /// `/codex_usage history [SEL]`.
    UsageHistory(Option<String>),
    /// `/codex_auth ...`.
    Auth(AuthCommand),
    /// `/codex_rotation [deep]`.
    Rotation {
        /// `deep` was given.
        deep: bool,
    },
    /// A message that is just a callback URL.
    CallbackUrl(Secret<String>),
    /// A bare word or words (a text-fallback reply, or chatter).
    Bare(String),
    /// A command we do not have.
    Unknown(String),
    /// A known command with wrong arguments: the problem and the usage line.
    BadArguments {
        /// What is wrong.
        problem: String,
        /// The correct form.
        usage: &'static str,
    },
    /// Longer than [`MAX_TEXT_CHARS`].
    TooLong(usize),
}

const AUTH_USAGE: &str = "/codex_auth [PROFILE | login NAME | device NAME | finish NAME URL | retire PROFILE | delete PROFILE confirm | order [PROFILE... | clear] | backups | layers | doctor | agent [NAME]]";

/// Whether a word looks like an OAuth callback URL (or its query): it carries `code=` and
/// `state=` parameters, or points at the local callback path.
pub fn is_callback_url(word: &str) -> bool {
    let w = word.trim();
    let has_param = |p: &str| {
        w.match_indices(p)
            .any(|(i, _)| i == 0 || matches!(w.as_bytes()[i - 1], b'?' | b'&' | b'#'))
    };
    w.contains("/auth/callback") || (has_param("code=") && has_param("state="))
}

/// Whether any part of `text` holds a callback URL (then the message must be deleted). The
/// argument of `/codex_auth finish NAME X` counts whatever it looks like: the engine takes a
/// bare `code#state` there too, and a code left in the chat history stays usable until it
/// expires.
pub fn holds_callback_url(text: &str) -> bool {
    let mut words = text.split_whitespace();
    let finish = matches!(
        (words.next(), words.next(), words.next(), words.next()),
        (Some(cmd), Some("finish"), Some(_), Some(_))
            if cmd.split_once('@').map_or(cmd, |(c, _)| c) == "/codex_auth"
    );
    finish || text.split_whitespace().any(is_callback_url)
}

/// `/codex_usage WORDS` or `/codex_auth WORDS` as (command without slash, words): how a
/// text-fallback choice is sent back where only commands reach the core. `None` for anything
/// else, or a command without words.
pub fn command_and_words(text: &str) -> Option<(&str, &str)> {
    let body = text.trim().strip_prefix('/')?;
    let (head, rest) = body.split_once(char::is_whitespace)?;
    let command = head.split_once('@').map_or(head, |(c, _)| c);
    let words = rest.trim();
    (matches!(command, "codex_usage" | "codex_auth") && !words.is_empty())
        .then_some((command, words))
}

/// Parse one message. A callback URL in it is never carried as plain text: it is a
/// [`Secret`] (alone, or after `/codex_auth finish NAME`), or the message is refused as a
/// whole, so no reply can quote it back into the chat it was just deleted from.
pub fn parse(text: &str) -> Parsed {
    let parsed = parse_words(text);
    if carries_text(&parsed) && holds_callback_url(text) {
        return bad(
            "A login callback URL goes alone in a message, or after /codex_auth finish NAME.",
            AUTH_USAGE,
        );
    }
    parsed
}

/// Whether a parse holds words of the message outside a [`Secret`].
fn carries_text(parsed: &Parsed) -> bool {
    match parsed {
        Parsed::Usage(Some(_)) | Parsed::Bare(_) | Parsed::Unknown(_) => true,
        Parsed::Auth(AuthCommand::Finish { name, .. }) => is_callback_url(name),
        Parsed::Auth(a) => !matches!(a, AuthCommand::Menu),
        _ => false,
    }
}

fn parse_words(text: &str) -> Parsed {
    let length = text.chars().count();
    if length > MAX_TEXT_CHARS {
        return Parsed::TooLong(length);
    }
    let trimmed = text.trim();
    let Some(body) = trimmed.strip_prefix('/') else {
        let words: Vec<&str> = trimmed.split_whitespace().collect();
        return match words.as_slice() {
            [one] if is_callback_url(one) => Parsed::CallbackUrl(Secret::new((*one).to_owned())),
            _ => Parsed::Bare(trimmed.to_owned()),
        };
    };
    let mut words = body.split_whitespace();
    let head = words.next().unwrap_or("");
    // `/cmd@botname` in groups: the bot name is not ours to check here.
    let command = head.split_once('@').map_or(head, |(c, _)| c);
    let args: Vec<&str> = words.collect();
    match command {
        "start" => no_args(Parsed::Start, &args, "/start"),
        "help" => no_args(Parsed::Help, &args, "/help"),
        // A selector may be a label with spaces (`alice@example.com (team, account …)`).
        "codex_usage" => match args.as_slice() {
            [] => Parsed::Usage(None),
            // A profile named `history` is still checked by its id (`openai:history`).
            ["history"] => Parsed::UsageHistory(None),
            ["history", sel @ ..] => Parsed::UsageHistory(Some(sel.join(" "))),
            sel => Parsed::Usage(Some(sel.join(" "))),
        },
        "codex_auth" => parse_auth(&args),
        "codex_rotation" => match args.as_slice() {
            [] => Parsed::Rotation { deep: false },
            ["deep"] => Parsed::Rotation { deep: true },
            _ => bad(
                "/codex_rotation takes nothing or deep.",
                "/codex_rotation [deep]",
            ),
        },
        _ => Parsed::Unknown(format!("/{}", command.chars().take(40).collect::<String>())),
    }
}

fn no_args(ok: Parsed, args: &[&str], name: &str) -> Parsed {
    if args.is_empty() {
        ok
    } else {
        Parsed::BadArguments {
            problem: format!("{name} takes no arguments."),
            usage: if name == "/start" { "/start" } else { "/help" },
        }
    }
}

fn bad(problem: &str, usage: &'static str) -> Parsed {
    Parsed::BadArguments {
        problem: problem.to_owned(),
        usage,
    }
}

fn parse_auth(args: &[&str]) -> Parsed {
    let own = |s: &&str| (*s).to_owned();
    match args {
        [] => Parsed::Auth(AuthCommand::Menu),
        ["login", name] => Parsed::Auth(AuthCommand::Login(own(name))),
        ["device", name] => Parsed::Auth(AuthCommand::Device(own(name))),
        // A URL, its query or `code#state`: the engine parses it and explains a bad one.
        ["finish", name, url] => Parsed::Auth(AuthCommand::Finish {
            name: own(name),
            url: Secret::new(own(url)),
        }),
        // Selectors may be labels with spaces: the rest of the line is the selector.
        ["retire", sel @ ..] if !sel.is_empty() => Parsed::Auth(AuthCommand::Retire(sel.join(" "))),
        ["delete", sel @ .., "confirm"] if !sel.is_empty() => Parsed::Auth(AuthCommand::Delete {
            selector: sel.join(" "),
            confirm: true,
        }),
        ["delete", sel @ ..] if !sel.is_empty() => Parsed::Auth(AuthCommand::Delete {
            selector: sel.join(" "),
            confirm: false,
        }),
        ["order"] => Parsed::Auth(AuthCommand::Order),
        ["order", "clear"] => Parsed::Auth(AuthCommand::OrderClear),
        // An order names several profiles: one selector a word.
        ["order", sel @ ..] => Parsed::Auth(AuthCommand::OrderSet(
            sel.iter().map(|s| (*s).to_owned()).collect(),
        )),
        ["backups"] => Parsed::Auth(AuthCommand::Backups),
        ["layers"] => Parsed::Auth(AuthCommand::Layers),
        ["doctor"] => Parsed::Auth(AuthCommand::Doctor),
        ["backups" | "layers" | "doctor", ..] => bad(
            &format!("/codex_auth {} takes nothing more.", args[0]),
            AUTH_USAGE,
        ),
        ["agent"] => Parsed::Auth(AuthCommand::Agent(None)),
        ["agent", name] => Parsed::Auth(AuthCommand::Agent(Some(own(name)))),
        [
            "login" | "device" | "finish" | "retire" | "delete" | "agent",
            ..,
        ] => bad(
            &format!("Wrong arguments for /codex_auth {}.", args[0]),
            AUTH_USAGE,
        ),
        sel => Parsed::Auth(AuthCommand::Status(sel.join(" "))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    const URL: &str = "http://localhost:1455/auth/callback?code=abc123secret&state=ff00ff";

    #[test]
    fn commands_and_bot_names() {
        assert!(matches!(parse("/start"), Parsed::Start));
        assert!(matches!(parse(" /help@codex_bot "), Parsed::Help));
        assert!(matches!(parse("/codex_usage"), Parsed::Usage(None)));
        assert!(matches!(
            parse("/codex_rotation"),
            Parsed::Rotation { deep: false }
        ));
        assert!(matches!(
            parse("/codex_rotation@bot deep"),
            Parsed::Rotation { deep: true }
        ));
        assert!(matches!(
            parse("/codex_rotation deeper"),
            Parsed::BadArguments { .. }
        ));
        assert!(matches!(parse("/codex_usage@bot all"), Parsed::Usage(Some(s)) if s == "all"));
        assert!(matches!(
            parse("/codex_usage history"),
            Parsed::UsageHistory(None)
        ));
        assert!(matches!(
            parse("/codex_usage@bot history a (plus)"),
            Parsed::UsageHistory(Some(s)) if s == "a (plus)"
        ));
        assert!(
            matches!(parse("/codex_usage openai:history"), Parsed::Usage(Some(s)) if s == "openai:history")
        );
        assert!(matches!(
            parse("/codex_auth"),
            Parsed::Auth(AuthCommand::Menu)
        ));
        assert!(
            matches!(parse("/codex_auth alice"), Parsed::Auth(AuthCommand::Status(s)) if s == "alice")
        );
        assert!(
            matches!(parse("/codex_auth login work"), Parsed::Auth(AuthCommand::Login(s)) if s == "work")
        );
        assert!(matches!(
            parse("/codex_auth device work"),
            Parsed::Auth(AuthCommand::Device(_))
        ));
        assert!(matches!(
            parse("/codex_auth retire a"),
            Parsed::Auth(AuthCommand::Retire(_))
        ));
        assert!(matches!(
            parse("/codex_auth delete a"),
            Parsed::Auth(AuthCommand::Delete { confirm: false, .. })
        ));
        assert!(matches!(
            parse("/codex_auth delete a confirm"),
            Parsed::Auth(AuthCommand::Delete { confirm: true, .. })
        ));
        assert!(matches!(
            parse("/codex_auth order"),
            Parsed::Auth(AuthCommand::Order)
        ));
        assert!(matches!(
            parse("/codex_auth@bot order clear"),
            Parsed::Auth(AuthCommand::OrderClear)
        ));
        assert!(
            matches!(parse("/codex_auth order bob  alice"), Parsed::Auth(AuthCommand::OrderSet(s)) if s == ["bob", "alice"])
        );
    }

    #[test]
    fn admin_views() {
        assert!(matches!(
            parse("/codex_auth backups"),
            Parsed::Auth(AuthCommand::Backups)
        ));
        assert!(matches!(
            parse("/codex_auth@bot layers"),
            Parsed::Auth(AuthCommand::Layers)
        ));
        assert!(matches!(
            parse("/codex_auth doctor"),
            Parsed::Auth(AuthCommand::Doctor)
        ));
        assert!(matches!(
            parse("/codex_auth doctor now"),
            Parsed::BadArguments { .. }
        ));
    }

    #[test]
    fn finish_keeps_the_url_secret() {
        let Parsed::Auth(AuthCommand::Finish { name, url }) =
            parse(&format!("/codex_auth finish work {URL}"))
        else {
            panic!("not a finish");
        };
        assert_eq!(name, "work");
        assert_eq!(url.expose_secret(), URL);
        assert!(!format!("{url:?}").contains("abc123secret"));
    }

    /// SPEC section 4 takes `code#state` as well as a URL; the message holding it is deleted
    /// like one holding a URL, since the code stays usable until it expires.
    #[test]
    fn finish_takes_code_hash_state_and_the_message_is_deleted() {
        let text = "/codex_auth@bot finish work abc123secret#ff00ff";
        let Parsed::Auth(AuthCommand::Finish { url, .. }) = parse(text) else {
            panic!("not a finish");
        };
        assert_eq!(url.expose_secret(), "abc123secret#ff00ff");
        assert!(holds_callback_url(text));
        assert!(!holds_callback_url("/codex_auth finish work"));
        assert!(!holds_callback_url("/codex_auth login work"));
    }

    #[test]
    fn bad_input() {
        // The rest of the line is one selector: labels have spaces.
        assert!(matches!(
            parse("/codex_usage a@x.io  (team, account 1111…0001)"),
            Parsed::Usage(Some(s)) if s == "a@x.io (team, account 1111…0001)"
        ));
        assert!(matches!(parse("/help me"), Parsed::BadArguments { .. }));
        assert!(matches!(
            parse("/codex_auth login"),
            Parsed::BadArguments { .. }
        ));
        assert!(matches!(
            parse("/codex_auth delete a (plus) confirm"),
            Parsed::Auth(AuthCommand::Delete { selector, confirm: true }) if selector == "a (plus)"
        ));
        assert!(matches!(
            parse("/codex_auth retire a (plus)"),
            Parsed::Auth(AuthCommand::Retire(s)) if s == "a (plus)"
        ));
        assert!(matches!(
            parse("/codex_auth a b"),
            Parsed::Auth(AuthCommand::Status(s)) if s == "a b"
        ));
        assert!(matches!(
            parse("/codex_auth retire"),
            Parsed::BadArguments { .. }
        ));
        assert!(matches!(parse("/launch"), Parsed::Unknown(c) if c == "/launch"));
        assert!(matches!(parse(&"x".repeat(4097)), Parsed::TooLong(4097)));
        assert!(matches!(parse(&"é".repeat(4096)), Parsed::Bare(_)));
    }

    #[test]
    fn bare_replies_and_urls() {
        assert!(matches!(parse(" all "), Parsed::Bare(s) if s == "all"));
        assert!(matches!(parse(URL), Parsed::CallbackUrl(_)));
        assert!(matches!(parse("?code=a&state=b"), Parsed::CallbackUrl(_)));
        assert!(matches!(parse("hello there"), Parsed::Bare(_)));
        assert!(holds_callback_url(&format!("see {URL} please")));
        assert!(!holds_callback_url("decode=1 and estate=2"));
        assert!(!is_callback_url("alice@example.com"));
    }

    /// A URL pasted after another command was carried as its selector or name, and the
    /// reply quoted it (`No profile is called `http://…?code=…``) right after the message
    /// holding it was deleted; chatter around a URL kept it in a plain `Bare`.
    #[test]
    fn a_url_outside_finish_is_refused_not_carried() {
        for text in [
            format!("/codex_usage {URL}"),
            format!("/codex_auth {URL}"),
            format!("/codex_auth login {URL}"),
            format!("/codex_auth device {URL}"),
            format!("/codex_auth retire {URL}"),
            format!("/codex_auth delete {URL} confirm"),
            format!("/codex_auth finish {URL} {URL}"),
            format!("here it is {URL}"),
            format!("{URL}\tthanks"),
            "/?code=abc123secret&state=ff00ff".to_owned(),
        ] {
            assert!(holds_callback_url(&text), "{text}");
            let parsed = parse(&text);
            assert!(
                matches!(parsed, Parsed::BadArguments { usage, .. } if usage == AUTH_USAGE),
                "{text}: {parsed:?}"
            );
            assert!(!format!("{parsed:?}").contains("abc123secret"), "{text}");
        }
        // Alone, or after finish NAME: still a login to finish.
        assert!(matches!(parse(URL), Parsed::CallbackUrl(_)));
        assert!(matches!(
            parse(&format!("/codex_auth finish work {URL}")),
            Parsed::Auth(AuthCommand::Finish { .. })
        ));
    }
}
