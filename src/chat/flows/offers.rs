//! The buttons of the admin views, from tap to act: a restore button names a backup by the
//! short key of its file name, a fix button a doctor remedy by the key of what it changes.
//! Both are looked up again at tap time, so a backup that is gone or a finding that changed
//! is "out of date". A confirmation tap only counts when the confirmation was shown to that
//! user (within five minutes), and is used up.

use std::time::{Duration, Instant};

use crate::chat::backend::Remedy;
use crate::chat::callback::CallbackData;
use crate::chat::conversation::Conversation;
use crate::chat::flows::Act;
use crate::chat::keys::ItemKey;
use crate::chat::transport::UserId;

/// How long a restore or fix confirmation stays usable.
const OFFER_TTL: Duration = Duration::from_secs(5 * 60);

/// What identifies a remedy: its kind and everything it would write.
pub(crate) fn identity(r: &Remedy) -> String {
    serde_json::to_string(r).unwrap_or_default()
}

/// The key of a backup's restore buttons.
pub(super) fn backup_key(name: &str) -> ItemKey {
    ItemKey::of(name)
}

/// The key of a remedy's fix buttons.
pub(super) fn remedy_key(r: &Remedy) -> ItemKey {
    ItemKey::of(&identity(r))
}

/// Remember that `user` was shown the confirmation `what`.
pub(super) fn offer(conv: &Conversation, user: UserId, what: String) {
    let now = Instant::now();
    conv.offers
        .retain(|_, at| now.saturating_duration_since(*at) < OFFER_TTL);
    conv.offers.insert((user, what), now);
}

/// Whether `user` was shown the confirmation `what` recently; uses it up.
fn take(conv: &Conversation, user: UserId, what: &str) -> bool {
    let now = Instant::now();
    conv.offers
        .retain(|_, at| now.saturating_duration_since(*at) < OFFER_TTL);
    conv.offers.remove(&(user, what.to_owned())).is_some()
}

async fn backup_named(conv: &Conversation, key: &ItemKey) -> Result<String, ()> {
    let all = conv.backend.backups().await.map_err(|_| ())?;
    key.find(&all, |b| b.name.clone())
        .map(|b| b.name.clone())
        .ok_or(())
}

async fn remedy_keyed(conv: &Conversation, key: &ItemKey) -> Result<Remedy, ()> {
    let report = conv.backend.doctor().await.map_err(|_| ())?;
    let all: Vec<Remedy> = report
        .findings
        .into_iter()
        .flat_map(|f| f.remedies)
        .filter(|r| matches!(r, Remedy::SetOrder { .. } | Remedy::Retire { .. }))
        .collect();
    key.find(&all, identity).cloned().ok_or(())
}

/// The act of a restore or fix button; `Err` when it is out of date (the backup is gone,
/// the finding changed) or a confirmation tap was never offered.
pub(crate) async fn admin_data(
    conv: &Conversation,
    data: &CallbackData,
    user: UserId,
) -> Result<Act, ()> {
    Ok(match data {
        CallbackData::Restore(k) => Act::AskRestore(backup_named(conv, k).await?),
        CallbackData::ConfirmRestore(k) => {
            let name = backup_named(conv, k).await?;
            if !take(conv, user, &format!("restore:{name}")) {
                return Err(());
            }
            Act::Restore(name)
        }
        CallbackData::Fix(k) => Act::Fix {
            remedy: remedy_keyed(conv, k).await?,
            confirmed: false,
        },
        CallbackData::ConfirmFix(k) => {
            let remedy = remedy_keyed(conv, k).await?;
            if !take(conv, user, &format!("fix:{}", identity(&remedy))) {
                return Err(());
            }
            Act::Fix {
                remedy,
                confirmed: true,
            }
        }
        _ => return Err(()),
    })
}
