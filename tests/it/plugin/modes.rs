//! What is different in plugin mode, over the host's pipes: every way into a login (the
//! command, the status button, "new login", the doctor's offer) is the device login with a line saying why, since
//! a pasted address would stay in OpenClaw's files; and on a channel without buttons the text
//! fallback asks for commands (replies that are no command go to the gateway's agent), each of
//! which works when typed back.

use serde_json::{Value, json};

use super::driver::{Host, command_event, from, of, tap_event};
use super::host::{OWNER, Setup, setup, spawn_with};
use crate::support::oauth_server;
use codex_profiler::chat::render;

fn started(s: &Setup, issuer: &str) -> Host {
    let mut host = spawn_with(s, issuer);
    assert_eq!(host.next()["type"], "hello");
    host.send(&json!({"type": "hello", "protocol": 1}));
    host
}

/// The texts of every send and edit among `lines`, in order.
fn texts(lines: &[Value]) -> Vec<String> {
    lines
        .iter()
        .filter(|v| v["type"] == "send" || v["type"] == "edit")
        .map(|v| v["text"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// The callback data of every button among `lines`.
fn buttons(lines: &[Value]) -> Vec<String> {
    lines
        .iter()
        .filter_map(|v| v["buttons"].as_array())
        .flatten()
        .filter_map(Value::as_array)
        .flatten()
        .map(|b| b["data"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn every_way_into_a_login_is_the_device_login_in_plugin_mode() {
    let mut s = setup();
    // Alice's refresh failed: the doctor offers to log her in again.
    s.store["profiles"]["openai:alice@example.com"]["refresh"] =
        "openclaw-oauth-refresh-fence:v1:failed:abc".into();
    let db = s.fx.state_db_path();
    for end in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{end}", db.display()));
    }
    s.fx.state_db(&s.store, None);
    let issuer = oauth_server::spawn();
    let mut host = started(&s, &issuer.issuer_url);
    let owner = from(OWNER, true);
    let why = render::text("plugin_device_instead");
    let is_device = |t: &[String]| {
        t.first().is_some_and(|t| t.starts_with(why.trim()))
            && t.iter()
                .any(|t| t.contains("/codex/device") && t.contains(why.trim()))
            && !t
                .iter()
                .any(|t| t.contains("localhost:1455") || t.contains("authorize"))
    };

    // The command: no link to paste back from, the device code on the same message.
    host.send(&command_event("l1", &owner, "/codex_auth login laptop"));
    let lines = host.until_done("l1");
    assert!(is_device(&texts(&lines)), "{lines:#?}");
    assert!(
        issuer
            .requests()
            .iter()
            .any(|r| r.contains("deviceauth/usercode")),
        "{:?}",
        issuer.requests()
    );

    // A profile's actions offer the device login only; a login tap (from a menu drawn
    // elsewhere, or the doctor's "log in again") is the device login too, on its message.
    host.send(&command_event("l2", &owner, "/codex_auth bob@example.com"));
    let lines = host.until_done("l2");
    let data = buttons(&lines);
    assert!(
        !data.iter().any(|d| d.starts_with("codex_auth_login:")),
        "{data:?}"
    );
    let device = data
        .iter()
        .find(|d| d.starts_with("codex_auth_device:"))
        .expect("a device login button");
    let login = device.replace("codex_auth_device:", "codex_auth_login:");
    host.send(&tap_event("l3", &owner, &login, 700));
    let lines = host.until_done("l3");
    assert!(of(&lines, "edit").iter().all(|e| e["ref"] == 700));
    assert!(is_device(&texts(&lines)), "{lines:#?}");

    // "New login" and /help speak of the device login only.
    host.send(&tap_event("l4", &owner, "codex_auth_new:-", 701));
    let lines = host.until_done("l4");
    let text = texts(&lines).join("\n");
    assert!(
        text.contains("/codex_auth device NAME") && !text.contains("/codex_auth login"),
        "{text}"
    );
    host.send(&command_event("l5", &owner, "/help"));
    let help = texts(&host.until_done("l5")).join("\n");
    assert!(
        help.contains("/codex_auth device NAME") && !help.contains("finish"),
        "{help}"
    );

    // The doctor's "log in again" is the device login too.
    host.send(&command_event("l6", &owner, "/codex_auth doctor"));
    let lines = host.until_done("l6");
    let again = buttons(&lines)
        .into_iter()
        .find(|d| d.starts_with("codex_auth_login:"))
        .unwrap_or_else(|| panic!("no login offer: {lines:#?}"));
    host.send(&tap_event("l7", &owner, &again, 702));
    let lines = host.until_done("l7");
    assert!(is_device(&texts(&lines)), "{lines:#?}");
    let (code, _, stderr) = host.close();
    assert_eq!(code, 0, "{stderr}");
}

/// The commands of the `Send one of:` line of `text`.
fn offered(text: &str) -> Vec<String> {
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("Send one of: "))
        .unwrap_or_else(|| panic!("no `Send one of:` line in {text}"));
    line.split(" | ").map(str::to_owned).collect()
}

/// Run `text` from `who` and give back the texts it caused.
fn ask(host: &mut Host, id: &str, who: &Value, text: &str) -> String {
    host.send(&command_event(id, who, text));
    let lines = host.until_done(id);
    assert!(buttons(&lines).is_empty(), "no buttons here: {lines:#?}");
    texts(&lines).join("\n")
}

/// `reply` is what `command` asked for, not a failure to understand it.
fn worked(command: &str, reply: &str) {
    for failure in [
        render::text("stale_menu").as_str(),
        "No profile is called",
        "Usage:",
        "I did not understand",
        "I do not know",
    ] {
        assert!(!reply.contains(failure), "{command} -> {reply}");
    }
    assert!(!reply.trim().is_empty(), "{command} said nothing");
}

#[test]
fn without_buttons_every_choice_is_a_command_that_works_typed_back() {
    let s = setup();
    let mut host = started(&s, "http://127.0.0.1:9");
    let mut owner = from(OWNER, true);
    owner["buttons"] = false.into();

    // The auth menu: each choice as `/codex_auth WORD`, none as a bare word to reply with.
    let menu = ask(&mut host, "a0", &owner, "/codex_auth");
    assert!(!menu.contains("Reply with"), "{menu}");
    let commands = offered(&menu);
    assert!(commands.contains(&"/codex_auth new".to_owned()), "{menu}");
    for (i, c) in commands.iter().enumerate() {
        assert!(c.starts_with("/codex_auth "), "{c}");
        ask(&mut host, &format!("a{i}m"), &owner, "/codex_auth");
        worked(c, &ask(&mut host, &format!("a{i}"), &owner, c));
    }

    // A profile's actions, then a delete's confirmation, as commands too.
    let status = ask(&mut host, "s0", &owner, "/codex_auth bob@example.com");
    assert!(
        offered(&status).contains(&"/codex_auth delete".to_owned()),
        "{status}"
    );
    let confirm = ask(&mut host, "s1", &owner, "/codex_auth delete");
    assert!(
        offered(&confirm).contains(&"/codex_auth cancel".to_owned()),
        "{confirm}"
    );
    let cancelled = ask(&mut host, "s2", &owner, "/codex_auth cancel");
    assert_eq!(cancelled, render::text("cancelled"));

    // The order's moves: said as commands, and one typed back moves.
    let order = ask(&mut host, "o0", &owner, "/codex_auth order");
    assert!(
        order.contains("Send /codex_auth first N") && !order.contains("Reply with"),
        "{order}"
    );
    let moves = offered(&order);
    let down = moves
        .iter()
        .find(|c| c.starts_with("/codex_auth down "))
        .unwrap_or_else(|| panic!("no down move in {order}"));
    worked(down, &ask(&mut host, "o1", &owner, down));

    // The usage menu's choices are `/codex_usage WORD`; each from a sender of its own, so no
    // run is a duplicate of another.
    let menu = ask(&mut host, "u0", &owner, "/codex_usage");
    let commands = offered(&menu);
    assert!(commands.contains(&"/codex_usage all".to_owned()), "{menu}");
    for (i, c) in commands.iter().enumerate() {
        assert!(c.starts_with("/codex_usage "), "{c}");
        let mut user = from(5000 + i as u64, false);
        user["buttons"] = false.into();
        ask(&mut host, &format!("u{i}m"), &user, "/codex_usage");
        let reply = ask(&mut host, &format!("u{i}"), &user, c);
        worked(c, &reply);
        if !c.ends_with("history") {
            assert!(reply.contains("@example.com"), "{c} -> {reply}");
        }
    }
    let (code, _, stderr) = host.close();
    assert_eq!(code, 0, "{stderr}");
}
