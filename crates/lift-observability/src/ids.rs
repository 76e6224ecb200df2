//! Random identifiers (X-Ray segment ids, sampling decisions) from a per-thread generator.

use std::cell::Cell;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

thread_local! {
    static STATE: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
    // RandomState is seeded from the OS once per thread; mixing in a thread-local address
    // keeps threads apart even if the OS seed were reused.
    let mut h = RandomState::new().build_hasher();
    h.write_usize(&h as *const _ as usize);
    h.finish() | 1
}

/// A random `u64` (splitmix64 over a per-thread state): fast, never zero-seeded, not cryptographic.
pub(crate) fn next_u64() -> u64 {
    STATE.with(|s| {
        let x = s.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
        s.set(x);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    })
}

/// A uniformly distributed float in `[0, 1)`.
pub(crate) fn next_f64() -> f64 {
    (next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// A non-zero random 64-bit id (X-Ray segment and subsegment ids).
pub(crate) fn new_span_id() -> u64 {
    loop {
        let v = next_u64();
        if v != 0 {
            return v;
        }
    }
}

/// Appends `id` as 16 lower-case hex characters.
pub(crate) fn write_hex16(out: &mut String, id: u64) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = id.to_be_bytes();
    let mut buf = [0u8; 16];
    for (pair, b) in buf.chunks_exact_mut(2).zip(bytes) {
        pair[0] = HEX[usize::from(b >> 4)];
        pair[1] = HEX[usize::from(b & 0xf)];
    }
    // Only ASCII hex digits were written.
    out.push_str(std::str::from_utf8(&buf).unwrap_or("0000000000000000"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_ids_are_16_chars() {
        let mut s = String::new();
        write_hex16(&mut s, 0x53995c3f42cd8ad8);
        assert_eq!(s, "53995c3f42cd8ad8");
        s.clear();
        write_hex16(&mut s, 1);
        assert_eq!(s, "0000000000000001");
    }

    #[test]
    fn random_values_differ_and_fall_in_range() {
        let a = new_span_id();
        let b = new_span_id();
        assert_ne!(a, b);
        for _ in 0..1000 {
            let f = next_f64();
            assert!((0.0..1.0).contains(&f));
        }
    }
}
