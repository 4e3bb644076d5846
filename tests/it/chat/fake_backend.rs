//! A [`Backend`] double for conversation tests that must run before (or without) the engine
//! branches: profiles in memory, selectors resolved by the real `engine::selector`, counters
//! for every remote or changing call, and a gate to keep a usage check "running".

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use codex_profiler::chat::backend::{
    Backend, BackendError, BackendResult, ChangeDone, DeviceLogin, HistoryChart, LoginDone,
    LoginStarted, ProfileView, UsageReport,
};
use codex_profiler::chat::transport::{BoxFuture, UserId};
use codex_profiler::engine::FailureKind;
use codex_profiler::engine::profile::ProfileId;
use codex_profiler::engine::rotation::Rotation;
use codex_profiler::engine::selector::Selector;
use codex_profiler::secret::Secret;
use tokio::sync::{Semaphore, oneshot};

/// The state a fake login's callback URL must carry.
pub const STATE: &str = "5ca1ab1e5ca1ab1e";
/// The authorization code in the fake callback URL (a secret).
pub const CODE: &str = "ac_SECRETCODE123456";

/// The callback URL a browser would end on.
pub fn callback_url() -> String {
    format!("http://localhost:1455/auth/callback?code={CODE}&scope=openid&state={STATE}")
}

#[derive(Default)]
pub struct Fake {
    pub profiles: Mutex<Vec<ProfileView>>,
    pub usage_calls: AtomicUsize,
    pub retire_calls: AtomicUsize,
    pub delete_calls: AtomicUsize,
    pub finish_calls: AtomicUsize,
    pub pending: Mutex<HashMap<UserId, String>>,
    /// While `Some`, usage checks wait for a permit.
    pub gate: Mutex<Option<std::sync::Arc<Semaphore>>>,
    pub device_done: Mutex<Option<oneshot::Sender<BackendResult<LoginDone>>>>,
    /// Simulate a bug: reading the profiles panics.
    pub panic_on_profiles: std::sync::atomic::AtomicBool,
    /// What `usage_history` answers (`None`: a chart of every asked profile).
    pub history: Mutex<Option<BackendResult<HistoryChart>>>,
    /// Each `usage_history` call: the ids and whether a PNG was asked for.
    pub history_calls: Mutex<Vec<(Vec<String>, bool)>>,
}

/// The bytes the fake hands out as its chart (a PNG signature; the core never decodes it).
pub const FAKE_PNG: &[u8] = b"\x89PNG\r\n\x1a\nfake chart";

pub fn view(id: &str) -> ProfileView {
    let id = ProfileId::parse(id).unwrap();
    ProfileView {
        label: id.name().to_owned(),
        id,
        plan: Some("plus".into()),
        status: "ok".into(),
        expires_at: Some("2026-12-01T00:00:00Z".into()),
        in_order: true,
        last_good: false,
        unusable_until: None,
        error_count: 0,
    }
}

impl Fake {
    pub fn with(ids: &[&str]) -> Fake {
        let f = Fake::default();
        *f.profiles.lock().unwrap() = ids.iter().map(|i| view(i)).collect();
        f
    }

    pub fn remove(&self, id: &str) {
        self.profiles
            .lock()
            .unwrap()
            .retain(|p| p.id.as_str() != id);
    }

    fn ids(&self) -> Vec<ProfileId> {
        self.profiles
            .lock()
            .unwrap()
            .iter()
            .map(|p| p.id.clone())
            .collect()
    }
}

fn err(message: &str) -> BackendError {
    BackendError {
        kind: FailureKind::NoMatch,
        code: "no_matching_profile",
        message: message.to_owned(),
    }
}

/// The usage line SPEC shows.
pub fn line(label: &str) -> String {
    format!("{label} · plus · 5h 42% left (resets 2h 13m) · week 88% left (resets 4d 15h)")
}

impl Backend for Fake {
    fn profiles(&self) -> BoxFuture<'_, BackendResult<Vec<ProfileView>>> {
        Box::pin(async move {
            assert!(
                !self.panic_on_profiles.load(Ordering::SeqCst),
                "simulated bug in the backend"
            );
            Ok(self.profiles.lock().unwrap().clone())
        })
    }
    fn resolve<'a>(&'a self, selector: &'a str) -> BoxFuture<'a, BackendResult<Vec<ProfileId>>> {
        Box::pin(async move {
            let sel = Selector::parse(selector).map_err(|e| err(&e.to_string()))?;
            sel.resolve(&self.ids(), &[])
                .map_err(|e| err(&e.to_string()))
        })
    }
    fn usage(&self, ids: Vec<ProfileId>) -> BoxFuture<'_, BackendResult<UsageReport>> {
        Box::pin(async move {
            self.usage_calls.fetch_add(1, Ordering::SeqCst);
            let gate = self.gate.lock().unwrap().clone();
            if let Some(g) = gate {
                let _permit = g.acquire().await;
            }
            Ok(UsageReport {
                lines: ids.iter().map(|i| line(i.name())).collect(),
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
        Box::pin(async move {
            self.pending.lock().unwrap().insert(requester, name.clone());
            Ok(LoginStarted {
                profile: format!("openai:{name}"),
                authorize_url: format!(
                    "http://127.0.0.1:9/oauth/authorize?client_id=app&state={STATE}"
                ),
                expires_in: Duration::from_secs(900),
            })
        })
    }
    fn pending_login(&self, requester: UserId) -> BoxFuture<'_, BackendResult<Option<String>>> {
        Box::pin(async move { Ok(self.pending.lock().unwrap().get(&requester).cloned()) })
    }
    fn login_finish(
        &self,
        name: Option<String>,
        requester: UserId,
        callback_url: Secret<String>,
    ) -> BoxFuture<'_, BackendResult<LoginDone>> {
        Box::pin(async move {
            self.finish_calls.fetch_add(1, Ordering::SeqCst);
            let pending = self.pending.lock().unwrap().remove(&requester);
            let name = name.or(pending.clone()).unwrap_or_default();
            if pending.as_deref() != Some(name.as_str())
                || !callback_url
                    .expose_secret()
                    .contains(&format!("state={STATE}"))
            {
                return Err(BackendError {
                    kind: FailureKind::InputRefused,
                    code: "state_mismatch",
                    message: "that login address does not belong to a login waiting for you".into(),
                });
            }
            Ok(LoginDone {
                profile: format!("openai:{name}"),
                email: Some(format!("{name}@example.com")),
                plan: Some("plus".into()),
                updated: false,
                requested: None,
                account: None,
            })
        })
    }
    fn device_start(
        &self,
        name: String,
        _requester: UserId,
    ) -> BoxFuture<'_, BackendResult<DeviceLogin>> {
        Box::pin(async move {
            let (tx, rx) = oneshot::channel();
            *self.device_done.lock().unwrap() = Some(tx);
            let done: BoxFuture<'static, BackendResult<LoginDone>> = Box::pin(async move {
                rx.await.unwrap_or_else(|_| {
                    Err(BackendError::runtime(
                        "cancelled",
                        "the device login was cancelled",
                    ))
                })
            });
            let _ = name;
            Ok(DeviceLogin {
                verification_url: "http://127.0.0.1:9/codex/device".into(),
                user_code: "ABCD-1234".into(),
                expires_in: Duration::from_secs(900),
                done,
            })
        })
    }
    fn retire(&self, id: ProfileId) -> BoxFuture<'_, BackendResult<ChangeDone>> {
        Box::pin(async move {
            self.retire_calls.fetch_add(1, Ordering::SeqCst);
            Ok(ChangeDone {
                profile: id.to_string(),
                layer: "state-db".into(),
                verified: true,
                backup: None,
            })
        })
    }
    fn delete(&self, id: ProfileId) -> BoxFuture<'_, BackendResult<ChangeDone>> {
        Box::pin(async move {
            self.delete_calls.fetch_add(1, Ordering::SeqCst);
            self.remove(id.as_str());
            Ok(ChangeDone {
                profile: id.to_string(),
                layer: "state-db".into(),
                verified: true,
                backup: None,
            })
        })
    }

    fn rotation(&self) -> BoxFuture<'_, BackendResult<Rotation>> {
        // The chat tests of rotation run over the real engine (`engine.rs`).
        Box::pin(async { Err(err("rotation is not scripted in this fake")) })
    }

    fn usage_history(
        &self,
        ids: Vec<ProfileId>,
        png: bool,
    ) -> BoxFuture<'_, BackendResult<HistoryChart>> {
        let names: Vec<String> = ids.iter().map(|i| i.name().to_owned()).collect();
        self.history_calls
            .lock()
            .unwrap()
            .push((ids.iter().map(|i| i.as_str().to_owned()).collect(), png));
        let scripted = self.history.lock().unwrap().clone();
        let result = scripted.unwrap_or_else(|| {
            Ok(HistoryChart {
                days: 7,
                has_data: true,
                series: names.len() * 2,
                png: None,
                sparklines: names
                    .iter()
                    .flat_map(|n| {
                        [
                            format!("{n} 5h   ▇▆▅▃ █▇ 58% left"),
                            format!("{n} week ██▇▇▇ 88% left"),
                        ]
                    })
                    .collect(),
                pool: Some("pool (2 usable profiles) · all usable quota runs out in ~3h".into()),
                profiles: names,
            })
        });
        // Like the engine: a PNG only when asked for and there is data.
        let result = result.map(|mut c| {
            c.png = (png && c.has_data).then(|| FAKE_PNG.to_vec());
            c
        });
        Box::pin(async move { result })
    }
}
