//! Short profile keys for callback data. A profile id does not fit in 64 bytes of callback
//! data, so buttons carry the first 12 hex digits of its SHA-256 instead. The key is a pure
//! function of the id: it stays valid across restarts, and it goes stale by itself when the
//! profile is gone (or when two current profiles would share it, which then refuses both).

use sha2::{Digest, Sha256};

use crate::engine::profile::ProfileId;

/// Hex digits kept from the hash: 48 bits, so collisions among a handful of profiles are
/// practically impossible (and refused rather than guessed when they happen).
pub const KEY_LEN: usize = 12;

/// A short, stable key naming one profile.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProfileKey(String);

/// The first [`KEY_LEN`] hex digits of the SHA-256 of `s`.
fn short_hash(s: &str) -> String {
    let mut hex = hex::encode(Sha256::digest(s.as_bytes()));
    hex.truncate(KEY_LEN);
    hex
}

/// Whether `s` is exactly [`KEY_LEN`] lowercase hex digits.
fn is_key(s: &str) -> bool {
    s.len() == KEY_LEN && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl ProfileKey {
    /// The key of a profile id.
    pub fn of(id: &ProfileId) -> ProfileKey {
        ProfileKey(short_hash(id.as_str()))
    }

    /// Parse a key from callback data: exactly [`KEY_LEN`] lowercase hex digits.
    pub fn parse(s: &str) -> Option<ProfileKey> {
        is_key(s).then(|| ProfileKey(s.to_owned()))
    }

    /// The key as sent in callback data.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The one current profile this key names; `None` when none or more than one does.
    pub fn resolve<'a>(&self, current: &'a [ProfileId]) -> Option<&'a ProfileId> {
        let mut hits = current.iter().filter(|id| ProfileKey::of(id) == *self);
        match (hits.next(), hits.next()) {
            (Some(one), None) => Some(one),
            _ => None,
        }
    }
}

/// A short, stable key naming one item of a list that is not a profile (a backup by its
/// file name, a doctor fix by what it changes): the same hash as [`ProfileKey`], so it goes
/// stale by itself when the item is gone or has changed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ItemKey(String);

impl ItemKey {
    /// The key of an item, by the text that identifies it.
    pub fn of(identity: &str) -> ItemKey {
        ItemKey(short_hash(identity))
    }

    /// Parse a key from callback data: exactly [`KEY_LEN`] lowercase hex digits.
    pub fn parse(s: &str) -> Option<ItemKey> {
        is_key(s).then(|| ItemKey(s.to_owned()))
    }

    /// The key as sent in callback data.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The one item of `current` whose identity has this key; `None` when none or several.
    pub fn find<'a, T>(&self, current: &'a [T], identity: impl Fn(&T) -> String) -> Option<&'a T> {
        let mut hits = current
            .iter()
            .filter(|t| ItemKey::of(&identity(t)) == *self);
        match (hits.next(), hits.next()) {
            (Some(one), None) => Some(one),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> ProfileId {
        ProfileId::parse(s).unwrap()
    }

    #[test]
    fn keys_are_stable_short_and_resolve() {
        let a = id("openai:alice@example.com");
        let b = id("openai:bob@example.com");
        let ka = ProfileKey::of(&a);
        assert_eq!(ka, ProfileKey::of(&a.clone()));
        assert_eq!(ka.as_str().len(), KEY_LEN);
        assert_ne!(ka, ProfileKey::of(&b));
        let current = vec![a.clone(), b.clone()];
        assert_eq!(ka.resolve(&current), Some(&a));
        // The profile went away: the key is stale.
        assert_eq!(ka.resolve(std::slice::from_ref(&b)), None);
        assert_eq!(ProfileKey::parse(ka.as_str()), Some(ka.clone()));
    }

    #[test]
    fn forged_keys_are_refused() {
        assert_eq!(ProfileKey::parse("zzzzzzzzzzzz"), None);
        assert_eq!(ProfileKey::parse("ABCDEF012345"), None);
        assert_eq!(ProfileKey::parse("abc"), None);
        let unknown = ProfileKey::parse("000000000000").unwrap();
        assert_eq!(unknown.resolve(&[id("openai:a")]), None);
    }

    #[test]
    fn item_keys_find_one_current_item_or_none() {
        let names = [
            "20261201T120000000Z-retire.json",
            "20261201T120001000Z-delete.json",
        ];
        let k = ItemKey::of(names[1]);
        assert_eq!(k.find(&names, |n| (*n).to_owned()), Some(&names[1]));
        assert_eq!(ItemKey::parse(k.as_str()), Some(k.clone()));
        assert_eq!(k.find(&names[..1], |n| (*n).to_owned()), None, "gone");
        assert_eq!(k.find(&[names[1], names[1]], |n| (*n).to_owned()), None);
        assert_eq!(ItemKey::parse("not-a-key!!!"), None);
    }

    #[test]
    fn a_shared_key_names_nobody() {
        let a = id("openai:a");
        let k = ProfileKey::of(&a);
        assert_eq!(k.resolve(&[a.clone(), a.clone()]), None);
    }
}
