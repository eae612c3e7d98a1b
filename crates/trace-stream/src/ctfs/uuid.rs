//! UUIDv7 recording ids (RFC 9562): 48 bits of Unix milliseconds, then random bits, written
//! in the canonical lowercase `8-4-4-4-12` form the `meta.dat` reader requires.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::{SystemTime, UNIX_EPOCH};

/// 64 random bits from the standard library's per-process random hash keys, mixed with the
/// clock, the process id and `salt`.
fn random_u64(salt: u64) -> u64 {
    let mut h = RandomState::new().build_hasher();
    h.write_u64(salt);
    h.write_u32(std::process::id());
    h.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish()
}

/// A new UUIDv7 in canonical form.
pub fn new_v7() -> String {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let (a, b) = (random_u64(1), random_u64(2));
    let mut bytes = [0u8; 16];
    bytes[..6].copy_from_slice(&millis.to_be_bytes()[2..]);
    bytes[6..8].copy_from_slice(&a.to_be_bytes()[..2]);
    bytes[8..].copy_from_slice(&b.to_be_bytes());
    bytes[6] = (bytes[6] & 0x0f) | 0x70; // version 7
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // variant 10
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::new_v7;

    #[test]
    fn ids_are_canonical_v7_and_differ() {
        let (a, b) = (new_v7(), new_v7());
        assert_ne!(a, b);
        for id in [a, b] {
            assert_eq!(id.len(), 36);
            let bytes = id.as_bytes();
            for i in [8, 13, 18, 23] {
                assert_eq!(bytes[i], b'-', "{id}");
            }
            assert_eq!(bytes[14], b'7', "{id}");
            assert!(b"89ab".contains(&bytes[19]), "{id}");
            assert!(id
                .bytes()
                .all(|c| c == b'-' || c.is_ascii_digit() || (b'a'..=b'f').contains(&c)));
        }
    }
}
