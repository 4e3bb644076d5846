//! When each profile of a round is checked: spread evenly over the interval, each in its own
//! slot with a bounded jitter, never all at once (the endpoint sees one request at a time
//! from a watcher, not a burst every ten minutes).

use std::time::Duration;

/// The share of a slot the jitter may take: a check lands in the first half of its slot.
const JITTER_SHARE: u32 = 2;

/// The offsets from the round's start at which `n` profiles are checked: profile `i` in
/// `[i·slot, i·slot + slot/2)` with `slot = interval / n`, its place in that range drawn from
/// `seed`. Offsets are strictly increasing (so distinct) and inside the interval.
pub fn offsets(n: usize, interval: Duration, seed: u64) -> Vec<Duration> {
    let Ok(count) = u32::try_from(n) else {
        return vec![Duration::ZERO; n];
    };
    if count == 0 {
        return Vec::new();
    }
    let slot = interval / count;
    let jitter_span = (slot / JITTER_SHARE).as_nanos() as u64;
    (0..count)
        .map(|i| {
            let jitter = match jitter_span {
                0 => 0,
                span => splitmix(seed.wrapping_add(u64::from(i))) % span,
            };
            slot * i + Duration::from_nanos(jitter)
        })
        .collect()
}

/// A fresh seed for a round (from the OS; the time if that fails).
pub fn seed() -> u64 {
    let mut b = [0u8; 8];
    match getrandom::fill(&mut b) {
        Ok(()) => u64::from_le_bytes(b),
        Err(_) => chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default() as u64,
    }
}

/// SplitMix64: a well-mixed 64-bit value from a counter.
fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_distinct_inside_the_interval_with_bounded_jitter() {
        let interval = Duration::from_secs(600);
        for n in [1usize, 2, 7, 20, 1000] {
            for seed in [0u64, 1, 42, u64::MAX] {
                let o = offsets(n, interval, seed);
                assert_eq!(o.len(), n);
                let slot = interval / n as u32;
                for (i, off) in o.iter().enumerate() {
                    let start = slot * i as u32;
                    assert!(
                        *off >= start && *off < start + slot / 2,
                        "{n} {seed} {i} {off:?}"
                    );
                    assert!(*off < interval);
                }
                assert!(
                    o.windows(2).all(|w| w[0] < w[1]),
                    "{n} {seed}: not increasing"
                );
            }
        }
        // The jitter depends on the seed: two rounds do not land on the same instants.
        assert_ne!(offsets(20, interval, 1), offsets(20, interval, 2));
        assert!(offsets(0, interval, 1).is_empty());
        assert_eq!(offsets(3, Duration::ZERO, 9), vec![Duration::ZERO; 3]);
    }
}
