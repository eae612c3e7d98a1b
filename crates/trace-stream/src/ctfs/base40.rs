//! Internal file names of a CTFS container: at most 12 characters of `0-9 a-z . / -`, packed
//! base 40 into one `u64` (the first character in the lowest digit; digit 0 is padding).

const ALPHABET: &[u8; 40] = b"\x000123456789abcdefghijklmnopqrstuvwxyz./-";

/// The longest name a directory entry holds.
pub const MAX_NAME_LEN: usize = 12;

/// Packs `name`; `None` when it is empty, too long or has a character outside the alphabet.
pub fn encode(name: &str) -> Option<u64> {
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return None;
    }
    let mut packed = 0u64;
    for (i, c) in name.bytes().enumerate() {
        let digit = ALPHABET.iter().skip(1).position(|&a| a == c)? as u64 + 1;
        packed += digit * 40u64.pow(i as u32);
    }
    Some(packed)
}

/// Unpacks a name (stops at the first padding digit).
pub fn decode(mut packed: u64) -> String {
    let mut name = String::new();
    while packed > 0 {
        let digit = (packed % 40) as usize;
        if digit == 0 {
            break;
        }
        name.push(char::from(ALPHABET[digit]));
        packed /= 40;
    }
    name
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn names_round_trip_and_bad_names_are_refused() {
        for name in [
            "meta.dat",
            "steps.idx",
            "paths.off",
            "typeinfo.dat",
            "a",
            "-./9z",
        ] {
            assert_eq!(decode(encode(name).unwrap()), name);
        }
        // The value upstream writers give `paths.dat` (read from a fixture's directory).
        assert_eq!(encode("paths.dat").unwrap(), 0xb482_3c2b_a152);
        assert_eq!(encode(""), None);
        assert_eq!(encode("abcdefghijklm"), None);
        assert_eq!(encode("Meta.dat"), None);
        assert_eq!(encode("a_b"), None);
    }
}
