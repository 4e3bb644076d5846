//! "Did you mean …": for a selector that names nothing, up to three profiles whose name, email
//! (or its local part) or id is within a small edit distance of what was typed. Each
//! suggestion is the shortest text that selects exactly that profile (its name, else its
//! email, else its full id), so it works when typed back. Deterministic: ties go by text.

use super::{Matcher, norm};

/// At most this many suggestions.
pub const MAX_SUGGESTIONS: usize = 3;

/// The closest names to `given` (see the module header).
pub(super) fn closest(given: &str, m: &Matcher<'_, '_>) -> Vec<String> {
    let g = norm(given);
    let limit = (g.chars().count() / 3).max(2);
    let mut scored: Vec<(usize, String)> = (0..m.parts.len())
        .filter_map(|i| {
            let d = keys(m, i).iter().map(|k| distance(&g, k)).min()?;
            (d <= limit).then(|| handle(m, i).map(|h| (d, h)))?
        })
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.1 == b.1);
    scored
        .into_iter()
        .take(MAX_SUGGESTIONS)
        .map(|(_, h)| h)
        .collect()
}

/// What `given` is compared with: the id, its name, the email, and the parts before `@`.
fn keys(m: &Matcher<'_, '_>, i: usize) -> Vec<String> {
    let p = &m.parts[i];
    let mut keys = vec![norm(p.id), norm(p.name())];
    keys.extend(p.email.map(norm));
    let locals: Vec<String> = keys
        .iter()
        .filter_map(|k| k.split_once('@').map(|(l, _)| l.to_owned()))
        .collect();
    keys.extend(locals);
    keys
}

/// The shortest text that selects exactly profile `i`.
fn handle(m: &Matcher<'_, '_>, i: usize) -> Option<String> {
    let p = &m.parts[i];
    [Some(p.name()), p.email, Some(p.id)]
        .into_iter()
        .flatten()
        .find(|t| m.hits(t) == [i])
        .map(str::to_owned)
}

/// Levenshtein distance over characters.
pub(super) fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = Vec::with_capacity(b.len() + 1);
        cur.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance() {
        assert_eq!(distance("", ""), 0);
        assert_eq!(distance("laptp", "laptop"), 1);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("é", "e"), 1);
    }
}
