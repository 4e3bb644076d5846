//! A scripted engine behind the real conversation core, so the Telegram wire path of every
//! chat flow can be tested before (and independently of) the engine: two profiles, a usage
//! check that takes a little while and counts its runs, logins that record what they got.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use codex_profiler::chat::backend::{
    Backend, BackendError, BackendResult, ChangeDone, DeviceLogin, LoginDone, LoginStarted,
    ProfileView, UsageReport,
};
use codex_profiler::chat::transport::{BoxFuture, UserId};
use codex_profiler::engine::profile::ProfileId;
use codex_profiler::engine::rotation::Rotation;
use codex_profiler::secret::Secret;

/// The authorization code the tests paste (must never reach the wire).
pub const CODE: &str = "ac_SECRETcode_0123456789";
/// The state the tests paste.
pub const STATE: &str = "5eed5eed5eed5eed5eed5eed5eed5eed";

/// The scripted engine.
#[derive(Default)]
pub struct Scripted {
    /// Usage checks run.
    pub usage_runs: AtomicUsize,
    /// Lines per usage report (long reports test continuation).
    pub lines_per_profile: AtomicUsize,
    /// Logins finished (profile names).
    pub finished: Mutex<Vec<String>>,
    /// Pending login per requester.
    pub pending: Mutex<Vec<(UserId, String)>>,
    /// Profiles deleted.
    pub deleted: Mutex<Vec<String>>,
    /// Profiles retired.
    pub retired: Mutex<Vec<String>>,
}

fn ids() -> Vec<ProfileId> {
    ["openai:alice@example.com", "openai:bob@example.com"]
        .iter()
        .filter_map(|s| ProfileId::parse(s).ok())
        .collect()
}

fn view(id: &ProfileId) -> ProfileView {
    ProfileView {
        id: id.clone(),
        label: id.as_str().trim_start_matches("openai:").to_owned(),
        plan: Some("plus".into()),
        status: "ok".into(),
        expires_at: None,
        in_order: true,
        last_good: false,
        unusable_until: None,
        error_count: 0,
    }
}

fn done<T: Send + 'static>(v: BackendResult<T>) -> BoxFuture<'static, BackendResult<T>> {
    Box::pin(async move { v })
}

impl Backend for Scripted {
    fn profiles(&self) -> BoxFuture<'_, BackendResult<Vec<ProfileView>>> {
        done(Ok(ids().iter().map(view).collect()))
    }

    fn resolve<'a>(&'a self, selector: &'a str) -> BoxFuture<'a, BackendResult<Vec<ProfileId>>> {
        let all = ids();
        let found: Vec<ProfileId> = match selector {
            "all" => all,
            "default" => all.into_iter().take(1).collect(),
            s => all
                .into_iter()
                .filter(|id| id.as_str().ends_with(s))
                .collect(),
        };
        if found.is_empty() {
            return done(Err(BackendError {
                kind: codex_profiler::engine::FailureKind::NoMatch,
                code: "no_match",
                message: format!("no Codex profile matches {selector}"),
            }));
        }
        done(Ok(found))
    }

    fn usage(&self, ids: Vec<ProfileId>) -> BoxFuture<'_, BackendResult<UsageReport>> {
        Box::pin(async move {
            self.usage_runs.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(300)).await;
            let per = self.lines_per_profile.load(Ordering::SeqCst).max(1);
            let mut lines = Vec::new();
            for id in &ids {
                let label = id.as_str().trim_start_matches("openai:");
                for i in 0..per {
                    lines.push(format!(
                        "{label} · plus · 5h 42% left (resets 2h 13m) · week 88% left (resets 4d 15h) #{i}"
                    ));
                }
            }
            Ok(UsageReport {
                lines,
                ok_count: ids.len(),
                failed_count: 0,
                usable_count: ids.len(),
                forecast: Vec::new(),
                ..UsageReport::default()
            })
        })
    }

    fn login_start(
        &self,
        name: String,
        requester: UserId,
    ) -> BoxFuture<'_, BackendResult<LoginStarted>> {
        self.pending.lock().unwrap().push((requester, name.clone()));
        done(Ok(LoginStarted {
            profile: format!("openai:{name}"),
            authorize_url: format!(
                "http://127.0.0.1:9/oauth/authorize?client_id=app&state={STATE}"
            ),
            expires_in: Duration::from_secs(900),
        }))
    }

    fn pending_login(&self, requester: UserId) -> BoxFuture<'_, BackendResult<Option<String>>> {
        let p = self.pending.lock().unwrap();
        done(Ok(p
            .iter()
            .find(|(u, _)| *u == requester)
            .map(|(_, n)| n.clone())))
    }

    fn login_finish(
        &self,
        name: Option<String>,
        requester: UserId,
        callback_url: Secret<String>,
    ) -> BoxFuture<'_, BackendResult<LoginDone>> {
        let ok = callback_url.expose_secret().contains(CODE);
        let mut p = self.pending.lock().unwrap();
        let pending = p
            .iter()
            .position(|(u, _)| *u == requester)
            .map(|i| p.remove(i));
        let result = match (ok, pending) {
            (true, Some((_, n))) => {
                let n = name.unwrap_or(n);
                self.finished.lock().unwrap().push(n.clone());
                Ok(LoginDone {
                    profile: format!("openai:{n}"),
                    email: Some(format!("{n}@example.com")),
                    plan: Some("plus".into()),
                    updated: false,
                    requested: None,
                    account: None,
                })
            }
            _ => Err(BackendError::runtime(
                "state_mismatch",
                "that login is not pending",
            )),
        };
        done(result)
    }

    fn device_start(
        &self,
        _name: String,
        _requester: UserId,
    ) -> BoxFuture<'_, BackendResult<DeviceLogin>> {
        done(Err(BackendError::runtime(
            "not_scripted",
            "device login is not scripted",
        )))
    }

    fn retire(&self, id: ProfileId) -> BoxFuture<'_, BackendResult<ChangeDone>> {
        self.retired.lock().unwrap().push(id.as_str().to_owned());
        done(Ok(ChangeDone {
            profile: id.as_str().to_owned(),
            layer: "shared".into(),
            verified: true,
            backup: None,
        }))
    }

    fn delete(&self, id: ProfileId) -> BoxFuture<'_, BackendResult<ChangeDone>> {
        self.deleted.lock().unwrap().push(id.as_str().to_owned());
        done(Ok(ChangeDone {
            profile: id.as_str().to_owned(),
            layer: "shared".into(),
            verified: true,
            backup: None,
        }))
    }

    fn rotation(&self) -> BoxFuture<'_, BackendResult<Rotation>> {
        done(Err(BackendError::runtime(
            "unscripted",
            "rotation is not scripted in this fake",
        )))
    }
}
