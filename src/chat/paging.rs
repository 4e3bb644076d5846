//! Paged selectors: a list of more than [`PAGE_SIZE`] entries is shown a page at a time with
//! ◀ ▶ buttons ("page k of n"). A page button carries the page and a [`ListKey`] of the
//! whole list it was drawn from, so a tap on a page of a list that has changed since (a
//! profile added, removed, or the order moved) is refused as out of date instead of showing
//! a page of something else. Every menu with a profile list (usage, auth, order) pages
//! through here.

use std::ops::Range;

use sha2::{Digest, Sha256};

use crate::chat::callback::{CallbackData, PageTap};
use crate::chat::render::{self, context, label};

/// The most entries one page shows.
pub const PAGE_SIZE: usize = 8;

/// Hex digits of a [`ListKey`]: 32 bits, enough to tell one list from the next version of
/// it (a collision only lets a stale page through, which shows current data anyway).
pub const LIST_KEY_LEN: usize = 8;

/// A short fingerprint of a list of ids, in order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ListKey(String);

impl ListKey {
    /// The key of `items` (order matters), under a `kind` that keeps two lists of the same
    /// ids apart (an effective order and the same ids stored).
    pub fn of<S: AsRef<str>>(kind: &str, items: &[S]) -> ListKey {
        let mut h = Sha256::new();
        h.update(kind.as_bytes());
        for i in items {
            h.update([0u8]);
            h.update(i.as_ref().as_bytes());
        }
        let mut hex = hex::encode(h.finalize());
        hex.truncate(LIST_KEY_LEN);
        ListKey(hex)
    }

    /// Parse from callback data: exactly [`LIST_KEY_LEN`] lowercase hex digits.
    pub fn parse(s: &str) -> Option<ListKey> {
        let ok =
            s.len() == LIST_KEY_LEN && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        ok.then(|| ListKey(s.to_owned()))
    }

    /// The key as sent in callback data.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Which menu a page belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Menu {
    /// The `/codex_usage` selector.
    Usage,
    /// The `/codex_auth` selector.
    Auth,
    /// The `/codex_auth order` view.
    Order,
}

impl Menu {
    /// One letter in callback data.
    pub fn letter(self) -> char {
        match self {
            Menu::Usage => 'u',
            Menu::Auth => 'a',
            Menu::Order => 'o',
        }
    }

    /// The menu of a letter.
    pub fn from_letter(c: char) -> Option<Menu> {
        Some(match c {
            'u' => Menu::Usage,
            'a' => Menu::Auth,
            'o' => Menu::Order,
            _ => return None,
        })
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// Zero-based page number.
    pub index: usize,
    /// How many pages the list has (at least 1).
    pub count: usize,
    /// The entries this page shows.
    pub range: Range<usize>,
}

impl Page {
    /// Page `index` of a list of `total` entries; `None` when there is no such page (a tap
    /// on a page of a list that has since shrunk).
    pub fn of(total: usize, index: usize) -> Option<Page> {
        let count = total.div_ceil(PAGE_SIZE).max(1);
        (index < count).then(|| Page {
            index,
            count,
            range: index * PAGE_SIZE..total.min((index + 1) * PAGE_SIZE),
        })
    }

    /// Whether the list needs page buttons at all.
    pub fn paged(&self) -> bool {
        self.count > 1
    }

    /// The page before this one, if any.
    pub fn previous(&self) -> Option<usize> {
        self.index.checked_sub(1)
    }

    /// The page after this one, if any.
    pub fn next(&self) -> Option<usize> {
        (self.index + 1 < self.count).then_some(self.index + 1)
    }
}

/// The page to draw of a list whose key is now `now` and that has `total` entries: the first
/// page of a fresh menu (`tap: None`), else the tapped page while the list is the one it was
/// drawn from. `None` refuses the tap as out of date.
pub fn choose(total: usize, now: &ListKey, tap: Option<&PageTap>) -> Option<Page> {
    match tap {
        None => Page::of(total, 0),
        Some(t) if t.list == *now => Page::of(total, usize::from(t.page)),
        Some(_) => None,
    }
}

/// The ◀ ▶ row of a paged menu (empty when it fits on one page): (button label, reply word,
/// data). The reply words `back` and `next` serve the text fallback.
pub fn nav(menu: Menu, page: &Page, list: &ListKey) -> Vec<(String, &'static str, CallbackData)> {
    let to = |i: usize| {
        let i = u16::try_from(i).unwrap_or(u16::MAX);
        CallbackData::Page(PageTap::new(menu, i, list.clone()))
    };
    let mut row = Vec::new();
    if let Some(i) = page.previous() {
        row.push((label("page_previous"), "back", to(i)));
    }
    if let Some(i) = page.next() {
        row.push((label("page_next"), "next", to(i)));
    }
    row
}

/// `text` with "page k of n" under it, when the list is paged.
pub fn titled(text: &str, page: &Page) -> String {
    if !page.paged() {
        return text.to_owned();
    }
    let line = render::render(
        "page_of",
        context! { page => page.index + 1, pages => page.count },
    );
    format!("{text}\n{line}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_cover_the_list_once() {
        assert_eq!(Page::of(0, 0).map(|p| p.count), Some(1));
        assert!(!Page::of(8, 0).is_some_and(|p| p.paged()));
        let mut seen = Vec::new();
        let first = Page::of(30, 0).unwrap();
        assert_eq!(first.count, 4);
        let mut at = Some(0);
        while let Some(i) = at {
            let p = Page::of(30, i).unwrap();
            seen.extend(p.range.clone());
            at = p.next();
        }
        assert_eq!(seen, (0..30).collect::<Vec<_>>());
        assert_eq!(Page::of(30, 3).unwrap().range, 24..30);
        assert_eq!(Page::of(30, 3).unwrap().previous(), Some(2));
        assert_eq!(Page::of(30, 4), None);
    }

    #[test]
    fn list_keys_follow_content_order_and_kind() {
        let a = ListKey::of("s", &["x", "y"]);
        assert_eq!(a, ListKey::of("s", &["x".to_owned(), "y".to_owned()]));
        assert_ne!(a, ListKey::of("s", &["y", "x"]));
        assert_ne!(a, ListKey::of("e", &["x", "y"]));
        assert_ne!(ListKey::of("s", &["xy"]), ListKey::of("s", &["x", "y"]));
        assert_eq!(ListKey::parse(a.as_str()), Some(a));
        assert_eq!(ListKey::parse("ABCDEF01"), None);
        assert_eq!(ListKey::parse("abc"), None);
    }
}
