//! The admin views behind the chat's `/codex_auth backups`, `layers` and `doctor`: the
//! backups listed newest first, a restore previewed and then run through the engine's restore
//! (backup of the current layer first, verify), the seven layers, the doctor's findings, and
//! a doctor fix (an order to store, a profile to retire) through the change pipeline. A
//! child of `engine.rs`, so it shares its store options, blocking pool and snapshot cache.

use chrono::{DateTime, Utc};

use super::{EngineBackend, blocking, fail, invalidating};
use crate::chat::backend::{BackendError, BackendResult, ChangeDone};
use crate::chat::render::{self, context};
use crate::chat::transport::BoxFuture;
use crate::engine::FailureKind;
use crate::engine::change::{self, ChangeError, ChangeReport, ExecuteOptions, backup, doctor};
use crate::engine::clock::Zone;
use crate::engine::profile::ProfileId;
use crate::engine::store::{Change, Store};
use crate::engine::usage::report::human_duration;

pub use crate::engine::change::doctor::{DoctorReport, Remedy};
pub use crate::engine::change::layers::LayersReport;
pub use crate::engine::change::restore::RestorePreview;

/// Code of a restore refused because its backup is of a layer the store no longer has.
pub const BACKUP_OF_OTHER_STORE: &str = "backup_of_other_store";
/// Code of a backup that is gone (or never was).
pub const NO_SUCH_BACKUP: &str = "no_such_backup";

/// One backup as a chat lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupView {
    /// Its file name (what a restore takes).
    pub name: String,
    /// The change it was taken before (`retire`, `order-set`, `login`...).
    pub action: String,
    /// The profile that change was about, when the backup records it.
    pub target: Option<String>,
    /// The layer it holds, in short words (`the shared state-db store`).
    pub layer: String,
    /// When it was taken, RFC 3339 (empty when unreadable).
    pub created_at: String,
    /// When it was taken, in the operator's zone (`Dec 1 18:10 IST`).
    pub at: String,
    /// How long ago (`5m`, `2h 13m`).
    pub ago: String,
}

/// What a doctor fix did, or what it needs first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FixOutcome {
    /// Applied (and verified, or not: see the report).
    Done(ChangeDone),
    /// A profile would leave service: ask before doing it.
    Confirm {
        /// The profiles the gateway would stop using.
        leaving: Vec<String>,
    },
}

/// A restore failure in chat words: a backup of another store is refused with the reason
/// (format migration or another agent), never with command-line flags.
fn restore_failed(e: ChangeError) -> BackendError {
    match &e {
        ChangeError::BackupOfOtherStore {
            layer,
            backup_format,
            store_format,
            ..
        } => {
            let short = layer.split(" (").next().unwrap_or(layer);
            BackendError {
                kind: FailureKind::InputRefused,
                code: BACKUP_OF_OTHER_STORE,
                message: render::render(
                    "restore_other_store",
                    context! {
                        migrated => backup_format != store_format,
                        backup_format, store_format, layer => short,
                    },
                ),
            }
        }
        ChangeError::NoSuchBackup(_) => BackendError {
            kind: FailureKind::NoMatch,
            code: NO_SUCH_BACKUP,
            message: render::text("stale_menu"),
        },
        _ => fail(e),
    }
}

fn view(b: backup::BackupEntry, now: DateTime<Utc>, zone: &Zone) -> BackupView {
    let at = DateTime::parse_from_rfc3339(&b.created_at)
        .ok()
        .map(|t| t.with_timezone(&Utc));
    BackupView {
        layer: b.layer.split(" (").next().unwrap_or(&b.layer).to_owned(),
        at: at.map_or_else(String::new, |t| {
            zone.at(t.timestamp_millis(), now.timestamp_millis())
        }),
        ago: at.map_or_else(String::new, |t| human_duration((now - t).num_seconds())),
        name: b.name,
        action: b.action,
        target: b.target,
        created_at: b.created_at,
    }
}

fn execute(
    store: &Store,
    change: Change,
    action: &'static str,
    via_gateway: bool,
    dry_run: bool,
) -> Result<ChangeReport, ChangeError> {
    let exec = ExecuteOptions {
        dry_run,
        action,
        via_gateway,
        queue_apply: false,
        before_apply: None,
    };
    change::execute(store, change, &exec)
}

fn bad_id(id: &str) -> BackendError {
    BackendError::runtime(
        "bad_profile_id",
        format!(
            "{} is not a profile id",
            id.chars().take(80).collect::<String>()
        ),
    )
}

impl EngineBackend {
    pub(super) fn backups_list(&self) -> BoxFuture<'_, BackendResult<Vec<BackupView>>> {
        let (state_dir, zone) = (self.store.state_dir.clone(), self.zone);
        Box::pin(blocking(move || {
            let now = Utc::now();
            let all = backup::list(&state_dir).map_err(fail)?;
            Ok(all.into_iter().map(|b| view(b, now, &zone)).collect())
        }))
    }

    pub(super) fn restore_plan(
        &self,
        name: String,
    ) -> BoxFuture<'_, BackendResult<RestorePreview>> {
        let opts = self.store.clone();
        Box::pin(blocking(move || {
            let store = Store::open(opts).map_err(fail)?;
            change::restore::preview(&store, &name).map_err(restore_failed)
        }))
    }

    pub(super) fn restore_run(&self, name: String) -> BoxFuture<'_, BackendResult<ChangeDone>> {
        let opts = self.store.clone();
        Box::pin(invalidating(
            self.snapshots.clone(),
            blocking(move || {
                let store = Store::open(opts).map_err(fail)?;
                let exec = ExecuteOptions {
                    dry_run: false,
                    action: "restore",
                    // Restore always writes directly: the gateway has no command for it.
                    via_gateway: false,
                    queue_apply: false,
                    before_apply: None,
                };
                let r = change::restore(&store, &name, true, &exec).map_err(restore_failed)?;
                Ok(ChangeDone::from_report(name, &r))
            }),
        ))
    }

    pub(super) fn layers_view(&self) -> BoxFuture<'_, BackendResult<LayersReport>> {
        let opts = self.store.clone();
        Box::pin(blocking(move || {
            let store = Store::open(opts).map_err(fail)?;
            let home = change::layers::default_codex_home();
            change::layers::layers(&store, None, home.as_deref()).map_err(fail)
        }))
    }

    pub(super) fn doctor_view(&self) -> BoxFuture<'_, BackendResult<DoctorReport>> {
        let opts = self.store.clone();
        Box::pin(blocking(move || Ok(doctor::run(&opts))))
    }

    pub(super) fn apply_fix(
        &self,
        remedy: Remedy,
        confirmed: bool,
    ) -> BoxFuture<'_, BackendResult<FixOutcome>> {
        let (opts, via_gateway) = (self.store.clone(), self.via_gateway);
        Box::pin(invalidating(
            self.snapshots.clone(),
            blocking(move || {
                let store = Store::open(opts).map_err(fail)?;
                let (change, action, profile) = match remedy {
                    Remedy::SetOrder { provider, ids } => {
                        let parsed = ids
                            .iter()
                            .map(|i| ProfileId::parse(i).map_err(|_| bad_id(i)))
                            .collect::<Result<Vec<_>, _>>()?;
                        let change = Change::SetOrder {
                            provider,
                            ids: parsed,
                        };
                        (change, "order-set", ids.join(", "))
                    }
                    Remedy::Retire { profile } => {
                        if !confirmed {
                            return Ok(FixOutcome::Confirm {
                                leaving: vec![profile],
                            });
                        }
                        let id = ProfileId::parse(&profile).map_err(|_| bad_id(&profile))?;
                        (Change::Retire { id }, "retire", profile)
                    }
                    Remedy::Login { .. } | Remedy::Unblock { .. } => {
                        return Err(BackendError::runtime(
                            "not_a_change",
                            "this fix is not a change the chat makes by itself",
                        ));
                    }
                };
                if !confirmed {
                    let plan =
                        execute(&store, change.clone(), action, via_gateway, true).map_err(fail)?;
                    if !plan.leaving_service.is_empty() {
                        return Ok(FixOutcome::Confirm {
                            leaving: plan.leaving_service,
                        });
                    }
                }
                let r = execute(&store, change, action, via_gateway, false).map_err(fail)?;
                Ok(FixOutcome::Done(ChangeDone::from_report(profile, &r)))
            }),
        ))
    }
}
