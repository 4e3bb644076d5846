//! The RFC 3339 times inside a text, each shown in the operator's zone: the engine writes
//! every time as RFC 3339 UTC (the form JSON keeps, SPEC), and a text for people is
//! localised on its way out, by the CLI for every text report and by the chat for the
//! engine's sentences and facts (layers, doctor, order notes), so a time the engine adds
//! later is local too.

use super::Zone;

/// Every RFC 3339 time in `text` (`2026-12-01T14:25:00Z`, with or without fraction or
/// offset) as [`Zone::at_relative`] in `zone`; the rest of the text as it is.
pub fn localise(text: &str, zone: &Zone, now_ms: i64) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let (mut i, mut copied) = (0, 0);
    while i < b.len() {
        if let Some(len) = rfc3339_at(b, i) {
            if let Ok(t) = chrono::DateTime::parse_from_rfc3339(&text[i..i + len]) {
                out.push_str(&text[copied..i]);
                out.push_str(&zone.at_relative(t.timestamp_millis(), now_ms));
                i += len;
                copied = i;
                continue;
            }
        }
        i += 1;
    }
    out.push_str(&text[copied..]);
    out
}

/// The length of an RFC 3339 time starting at `i`: `dddd-dd-ddTdd:dd:dd[.d+](Z|±dd:dd)`.
fn rfc3339_at(b: &[u8], i: usize) -> Option<usize> {
    const SHAPE: &[u8] = b"dddd-dd-ddTdd:dd:dd";
    if i > 0 && b[i - 1].is_ascii_alphanumeric() {
        return None;
    }
    let fits = |at: usize, shape: &[u8]| {
        shape
            .iter()
            .enumerate()
            .all(|(k, c)| match (b.get(at + k), c) {
                (Some(x), b'd') => x.is_ascii_digit(),
                (Some(x), c) => x == c,
                (None, _) => false,
            })
    };
    if !fits(i, SHAPE) {
        return None;
    }
    let mut j = i + SHAPE.len();
    if b.get(j) == Some(&b'.') {
        j += 1;
        while b.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
    }
    match b.get(j) {
        Some(b'Z') => Some(j + 1 - i),
        Some(b'+' | b'-') if fits(j + 1, b"dd:dd") => Some(j + 6 - i),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_times_are_shown_in_the_zone() {
        // 2026-12-01T12:00:00Z.
        let now = 1_796_126_400_000;
        let ist = Zone::named("Asia/Kolkata").unwrap();
        let text = "expires 2026-12-01T14:25:00Z · until 2026-12-03T00:00:00.250+00:00.";
        assert_eq!(
            localise(text, &ist, now),
            "expires 19:55 IST, in 2h 25m · until Dec 3 05:30 IST, in 1d 12h."
        );
        let utc = Zone::utc();
        assert_eq!(
            localise("at 2026-12-01T11:00:00Z", &utc, now),
            "at 11:00 UTC, 1h 0m ago"
        );
        // Not a time: left alone.
        for plain in [
            "20261201T120000123Z-retire.json",
            "x2026-12-01T14:25:00Z",
            "2026-12-01",
        ] {
            assert_eq!(localise(plain, &ist, now), plain);
        }
    }
}
