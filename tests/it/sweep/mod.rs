//! The secret sweep (issue 13, "Prove" 4): one test runs every end-to-end flow of the real
//! binary at `RUST_LOG=trace` with recognisable fake secrets and scans everything the run
//! produced for any fragment of any of them.
//!
//! - `world`: the fixture (our `SWEEP…` tokens), the loopback issuer and usage endpoint, the
//!   secrets as they appear (the issuer's codes, tokens, states and the verifiers the binary
//!   made, read from its token requests), every text a flow produced;
//! - `cli_flows`, `chat_flows`: the flows;
//! - `procs`: the process-list sampler; `files`: which files hold tokens by design;
//! - `secrets`: fragments (windows) of every secret in every form, and the search.

mod chat_flows;
mod cli_flows;
mod files;
mod interactive;
mod procs;
mod regressions;
mod secrets;
mod world;

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use procs::Sampler;
use secrets::Finding;
use world::World;

#[test]
fn every_flow_at_trace_leaks_no_secret() {
    let started = Instant::now();
    let mut w = World::new();
    let sampler = Sampler::start(w.marker.clone(), Duration::from_millis(3));

    cli_flows::run_all(&mut w);
    chat_flows::terminal(&mut w);
    chat_flows::plugin_host(&mut w);
    chat_flows::bot(&mut w);
    let (procs, samples) = sampler.finish();
    w.register_issued();

    let ix = w.secrets.index();
    let mut findings: Vec<Finding> = Vec::new();

    // Everything printed, logged, or sent to the Bot API.
    for (place, text) in &w.outputs {
        // `SWEEP_DEBUG_DIR=D`: every output as a file there, to look at a finding.
        if let Some(d) = std::env::var_os("SWEEP_DEBUG_DIR") {
            let name: String = place
                .chars()
                .map(|c| if c.is_alphanumeric() { c } else { '_' })
                .collect();
            let _ = std::fs::write(std::path::Path::new(&d).join(name), text);
        }
        findings.extend(ix.search(place, &w.without_authorize_urls(text)));
    }

    // What the fakes received other than where a token is meant to go.
    let access: Vec<String> = w
        .secrets
        .of_kind("access token")
        .iter()
        .map(|s| s.value.clone())
        .collect();
    for (i, r) in w.usage.requests().iter().enumerate() {
        let bearer = r.token.clone().unwrap_or_default();
        assert!(
            access.contains(&bearer),
            "usage request #{i} carried a bearer that is no access token"
        );
        let rest = format!("{:?} {:?} {:?}", r.account_id, r.user_agent, r.accept);
        findings.extend(ix.search(&format!("usage request #{i} headers"), rest.as_bytes()));
    }
    for r in w.issuer.requests() {
        assert!(
            [
                "POST /oauth/token",
                "POST /api/accounts/deviceauth/usercode",
                "POST /api/accounts/deviceauth/token"
            ]
            .contains(&r.as_str()),
            "unexpected issuer request {r}"
        );
    }
    assert!(
        w.issuer.rejections().is_empty(),
        "{:?}",
        w.issuer.rejections()
    );

    // Every file written under the home, but the store layers and backups.
    let mut scanned = Vec::new();
    for (rel, mode) in files::walk(w.fx.home()) {
        let bytes = std::fs::read(w.fx.home().join(&rel)).unwrap_or_default();
        let place = format!("file {}", rel.display());
        match files::exempt(&rel) {
            Some(why) if why.starts_with("the pending") => {
                assert_eq!(mode, 0o600, "{place} is mode {mode:o}");
            }
            Some(_) => {}
            None => {
                scanned.push(rel.display().to_string());
                findings.extend(ix.search(&place, &w.without_authorize_urls(&bytes)));
            }
        }
    }

    // The process list: what the binary put on its children's command lines and in their
    // environments (what the test put on its own children is the test's doing).
    let mut grandchildren = 0;
    for p in &procs {
        let clean = |b: &[u8]| -> Vec<u8> {
            let mut t = String::from_utf8_lossy(b).into_owned();
            if p.direct {
                for g in &w.given {
                    t = t.replace(g.as_str(), "<given by the test>");
                }
            }
            t.into_bytes()
        };
        grandchildren += usize::from(!p.direct);
        let argv0 =
            String::from_utf8_lossy(p.cmdline.split(|b| *b == 0).next().unwrap_or_default())
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_owned();
        for (what, b) in [("command line", &p.cmdline), ("environment", &p.environ)] {
            let place = format!("the {what} of pid {} ({argv0})", p.pid);
            findings.extend(ix.search(&place, &clean(b)));
        }
    }

    // The search works on this run's data: the store holds the tokens, by design.
    let store = std::fs::read(w.store_db()).unwrap_or_default();
    let mut wal = w.store_db().into_os_string();
    wal.push("-wal");
    let store = [store, std::fs::read(wal).unwrap_or_default()].concat();
    let control = ix.search("store", &store);
    assert!(
        control.iter().any(|f| f.kind == "refresh token")
            && control.iter().any(|f| f.kind == "access token"),
        "the positive control failed: the store's tokens were not found in it"
    );
    // The sampler saw what the binary spawns: the restart's worker and command, `openclaw`.
    let argvs: Vec<String> = procs
        .iter()
        .filter(|p| !p.direct)
        .map(|p| String::from_utf8_lossy(&p.cmdline).replace('\0', " "))
        .collect();
    for child in ["__apply-worker", "sh -c sleep 0.3", "bin/openclaw"] {
        assert!(
            argvs.iter().any(|a| a.contains(child)),
            "the sampler never saw `{child}` ({samples} samples, {grandchildren} grandchildren)"
        );
    }
    let pending = w.fx.state_dir().join("codex-profiler/pending.json");
    if let Ok(m) = std::fs::metadata(&pending) {
        assert_eq!(m.permissions().mode() & 0o777, 0o600);
    }

    findings.sort_by(|a, b| (&a.place, &a.kind).cmp(&(&b.place, &b.kind)));
    findings.dedup();
    eprintln!(
        "sweep: {} secrets ({} windows), {} outputs, files {:?}, {} process views ({} samples), {:.1} s",
        w.secrets.len(),
        ix.windows(),
        w.outputs.len(),
        scanned,
        procs.len(),
        samples,
        started.elapsed().as_secs_f64()
    );
    assert!(
        findings.is_empty(),
        "{} leak(s):\n{}",
        findings.len(),
        findings
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    );
}
