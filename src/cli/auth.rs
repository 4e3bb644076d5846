//! `auth start|finish|device|status|import-codex-cli`: parse, call [`crate::engine::oauth`],
//! render. The callback URL becomes a [`Secret`] the moment clap hands it over; nothing here
//! prints a code, verifier, state (outside the authorize URL) or token.

use std::io::{IsTerminal as _, Write as _};
use std::path::Path;

use serde_json::json;

use super::args::{AuthCmd, GlobalArgs};
use super::output::{CliError, CmdResult, Report};
use super::paste;
use super::store_opts::open_store;
use crate::engine::health::iso_ms;
use crate::engine::oauth::device::{DeviceEvent, DeviceOptions};
use crate::engine::oauth::flow::{self, Started};
use crate::engine::oauth::login::{Elsewhere, SavedLogin};
use crate::engine::oauth::pending::PendingLogins;
use crate::engine::oauth::status::{PendingView, ProfileStatus, is_pending_name, login_status};
use crate::engine::oauth::{Issuer, Requester, now_ms};
use crate::secret::{CALLBACK_URL_PLACEHOLDER, Secret};

/// Run an `auth` subcommand.
pub fn run(g: &GlobalArgs, cmd: AuthCmd) -> CmdResult {
    match cmd {
        AuthCmd::Start { profile } => start(g, &profile),
        AuthCmd::Finish {
            profile,
            callback_url,
            queue_apply,
        } => finish(g, &profile, callback_url, queue_apply),
        AuthCmd::Device { profile } => device(g, &profile),
        AuthCmd::Status { profile } => status(g, &profile),
        AuthCmd::ImportCodexCli {
            profile,
            codex_home,
        } => import(g, &profile, codex_home.as_deref()),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|_| CliError::runtime("runtime", "could not start the async runtime"))
}

fn start(g: &GlobalArgs, name: &str) -> CmdResult {
    // The issuer is checked before anything is written or sent.
    let issuer = Issuer::from_env()?;
    let store = open_store(g)?;
    let s: Started = flow::start_login(&store, &issuer, name, &Requester::cli())?;
    let expires = iso_ms(s.expires_at_ms).unwrap_or_default();
    if g.json {
        return Ok(Report::Json(json!({
            "ok": true,
            "store": store.info(),
            "profile": s.profile,
            "authorize_url": s.authorize_url.as_str(),
            "expires_at": expires,
        })));
    }
    Ok(Report::Text(format!(
        "Open this URL in a browser and log in with the account for `{p}`:\n\n{url}\n\n\
         The browser then goes to {CALLBACK_URL_PLACEHOLDER} (the page will not load; that is \
         expected). Copy that whole address and run:\n\n  \
         codex-profiler auth finish --profile {p} --callback-url -\n\n\
         and paste it after the prompt (or pipe it in: `pbpaste | codex-profiler auth finish \
         --profile {p} --callback-url -`).\n\n\
         This login expires at {expires} (15 minutes). Keep the address private: it holds a \
         one-time login code.",
        p = s.profile,
        url = s.authorize_url,
    )))
}

fn finish(g: &GlobalArgs, name: &str, pasted: Secret<String>, queue_apply: bool) -> CmdResult {
    let pasted = if pasted.expose_secret() == paste::FROM_STDIN {
        let stdin = std::io::stdin();
        if stdin.is_terminal() {
            eprint!("Paste the address the browser was sent to, then press Enter: ");
            let _ = std::io::stderr().flush();
        }
        paste::read_callback(stdin.lock())?
    } else {
        pasted
    };
    let issuer = Issuer::from_env()?;
    let store = open_store(g)?;
    let saved = runtime()?.block_on(flow::finish_login(
        &store,
        &issuer,
        Some(name),
        &Requester::cli(),
        &pasted,
    ))?;
    let queued = if queue_apply {
        Some(crate::engine::change::queue_apply(store.state_dir())?)
    } else {
        None
    };
    Ok(saved_report(g.json, "login", &saved, queued))
}

fn device(g: &GlobalArgs, name: &str) -> CmdResult {
    let issuer = Issuer::from_env()?;
    let store = open_store(g)?;
    let rt = runtime()?;
    let tty = std::io::stderr().is_terminal();
    let mut on_event = move |e: DeviceEvent| progress(&e, tty);
    let saved = rt.block_on(async {
        tokio::select! {
            r = flow::device_and_save(&store, &issuer, name, DeviceOptions::default(), &mut on_event) => {
                r.map_err(CliError::from)
            }
            _ = ctrl_c() => Err(CliError::runtime(
                "cancelled",
                "device login cancelled; nothing was saved",
            )),
        }
    })?;
    if tty {
        eprintln!();
    }
    Ok(saved_report(g.json, "device_login", &saved, None))
}

/// Resolves on Ctrl-C; never, if the handler cannot be installed (the login then simply runs
/// to its end instead of being cancelled by mistake).
async fn ctrl_c() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Device-flow progress on stderr: the code once, then a countdown (one line per poll, or an
/// updated line on a terminal).
fn progress(e: &DeviceEvent, tty: bool) {
    let mut err = std::io::stderr().lock();
    let _ = match e {
        DeviceEvent::Code {
            user_code,
            verification_url,
            expires_at_ms,
        } => writeln!(
            err,
            "Open {verification_url} and enter the code {user_code} (valid until {}). Ctrl-C cancels.",
            iso_ms(*expires_at_ms).unwrap_or_default()
        ),
        DeviceEvent::Waiting { remaining_s } => {
            let left = format!("{}m {:02}s", remaining_s / 60, remaining_s % 60);
            if tty {
                write!(err, "\rWaiting for approval… {left} left ")
            } else {
                writeln!(err, "Waiting for approval… {left} left")
            }
        }
        DeviceEvent::Exchanging => {
            writeln!(
                err,
                "{}Approved; fetching the tokens…",
                if tty { "\n" } else { "" }
            )
        }
    };
    let _ = err.flush();
}

fn saved_report(
    json: bool,
    action: &str,
    s: &SavedLogin,
    queued: Option<crate::engine::change::QueueOutcome>,
) -> Report {
    if json {
        let mut v = json!({
            "ok": true,
            "action": action,
            "store": s.store,
            "layer": s.layer,
            "profile": s.profile,
            "new_profile": s.new_profile,
            "requested_profile": s.requested_profile,
            "stored_elsewhere": s.why_elsewhere(),
            "email": s.email,
            "account": s.account,
            "plan": s.plan,
            "expires_at": s.expires_at,
            "backups": s.backups,
            "verified": s.verified,
            "differences": s.differences,
            "order": s.order,
        });
        if let Some(q) = queued {
            v["queued_apply"] = json!(q);
        }
        return Report::Json(v);
    }
    let what = if s.new_profile {
        "Added new profile"
    } else {
        "Updated profile"
    };
    let layer = s.layer.as_ref().map_or_else(
        || "nothing changed (the stored values were the same)".to_owned(),
        |l| format!("written to {l}"),
    );
    let mut text = format!(
        "{what} {} ({}, account {}, plan {}, token expires {}).\nStore: {} {}; {layer}.",
        s.profile,
        s.email.as_deref().unwrap_or("no email"),
        s.account,
        s.plan.as_deref().unwrap_or("unknown"),
        s.expires_at.as_deref().unwrap_or("unknown"),
        s.store.format.as_str(),
        s.store.path.display(),
    );
    if let Some(why) = elsewhere_text(s) {
        text.push('\n');
        text.push_str(&why);
    }
    if let Some(order) = &s.order {
        text.push_str(&format!(
            "\nAdded to the stored order (the gateway skips profiles a stored order leaves out): {}.",
            order.join(", ")
        ));
    }
    if !s.verified {
        text.push_str(&format!(
            "\nWarning: reading the store back showed other differences: {}.",
            s.differences.join(", ")
        ));
    }
    if let Some(q) = queued {
        text.push_str(match q {
            crate::engine::change::QueueOutcome::Started => {
                "\nGateway restart queued in the background (see `codex-profiler doctor`)."
            }
            _ => "\nA gateway restart was already queued; it will pick this login up.",
        });
    }
    Report::Text(text)
}

/// Why the login went to another id than its name asked for, and how to keep two apart.
fn elsewhere_text(s: &SavedLogin) -> Option<String> {
    let email = s.email.as_deref().unwrap_or("no email");
    let asked = &s.requested_profile;
    let name = asked.split_once(':').map_or(asked.as_str(), |(_, n)| n);
    Some(match s.why_elsewhere()? {
        Elsewhere::SameAccount => format!(
            "Not saved as {asked}: {p} already holds this account (same account id {a} and \
             email {email}), so it was updated; one account is kept once because its refresh \
             token is single-use. To keep two profiles apart, log in with another account or \
             choose another workspace on the login page; to name this one {name}, delete {p} \
             and log in again as {name}.",
            p = s.profile,
            a = s.account,
        ),
        Elsewhere::NameTaken => format!(
            "Saved as {p}, not {asked}: {asked} holds another account or workspace of the same \
             email, which was left as it was. Both are told apart by plan and account in every \
             list.",
            p = s.profile,
        ),
    })
}

fn status(g: &GlobalArgs, selector: &str) -> CmdResult {
    let store = open_store(g)?;
    let snap = store.load()?;
    let pending = PendingLogins::at(store.state_dir());
    let (rows, pend) = login_status(&snap, &pending, selector, now_ms())?;
    if g.json {
        return Ok(Report::Json(json!({
            "ok": true, "store": snap.info, "profiles": rows, "pending": pend,
        })));
    }
    Ok(Report::Text(status_text(&rows, &pend, selector)))
}

fn status_text(rows: &[ProfileStatus], pend: &[PendingView], selector: &str) -> String {
    let dash = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
    let mut out = String::new();
    let pending_only: Vec<&PendingView> = pend
        .iter()
        .filter(|p| is_pending_name(&p.profile, selector))
        .collect();
    if rows.is_empty() && selector.trim() != "all" {
        // Only a pending login gets here (else the selector failed): a profile not stored yet.
        for p in &pending_only {
            out.push_str(&format!(
                "No profile `{}` is stored yet: a login for it is pending (started by {}, \
                 until {}); finish it with `codex-profiler auth finish --profile {} \
                 --callback-url -` and paste the address.\n",
                p.profile,
                p.requester,
                dash(&p.expires_at),
                p.profile,
            ));
        }
    } else if rows.is_empty() {
        out.push_str("No Codex profiles.\n");
    }
    for r in rows {
        out.push_str(&format!(
            "{} · {} · account {} · {} · token {} (expires {}) · fence {} · pending login {}\n",
            r.profile,
            dash(&r.email),
            dash(&r.account),
            dash(&r.plan),
            r.status.as_str(),
            dash(&r.token_expires_at),
            r.fence,
            if r.pending_login { "yes" } else { "no" },
        ));
    }
    for p in pend {
        out.push_str(&format!(
            "pending login for `{}` (by {}) until {}\n",
            p.profile,
            p.requester,
            dash(&p.expires_at)
        ));
    }
    out
}

fn import(g: &GlobalArgs, name: &str, codex_home: Option<&Path>) -> CmdResult {
    let store = open_store(g)?;
    let saved = flow::import_codex_cli(&store, name, codex_home)?;
    let mut report = saved_report(g.json, "import_codex_cli", &saved, None);
    let warning = crate::engine::oauth::codex_cli::SHARED_REFRESH_TOKEN_WARNING;
    match &mut report {
        Report::Json(v) => v["warning"] = json!(warning),
        Report::Text(t) => t.push_str(&format!("\nWarning: {warning}.")),
        _ => {}
    }
    Ok(report)
}
