//! Parsing of primitive policy values (booleans, bounded integers, paths) from strings.
//!
//! Shared by the CLI/API path ([`PolicyUpdate::set_field`](crate::PolicyUpdate::set_field)) and
//! the environment path ([`PolicyUpdate::from_env`](crate::PolicyUpdate::from_env)), so a value
//! means the same thing wherever it comes from. All parsers trim surrounding whitespace and
//! compare case-insensitively.

use crate::error::PolicyError;

/// What boolean values accept, for error messages and documentation.
pub const BOOL_ACCEPTED: &str =
    "1, true, yes, on (true) or 0, false, no, off (false), case-insensitive";

/// Spellings read as `true` (after trimming and lower-casing). `t` and `y` are kept for
/// compatibility with the 0.3.0 recorder.
const TRUE_WORDS: &[&str] = &["1", "true", "yes", "on", "t", "y"];
/// Spellings read as `false` (after trimming and lower-casing). `f` and `n` are kept for
/// compatibility with the 0.3.0 recorder.
const FALSE_WORDS: &[&str] = &["0", "false", "no", "off", "f", "n"];

/// Parses a boolean for policy field `field`: `1/true/yes/on` or `0/false/no/off`
/// (case-insensitive, surrounding whitespace ignored).
///
/// # Errors
/// [`PolicyError::InvalidValue`] naming `field`, the value and [`BOOL_ACCEPTED`].
pub fn parse_bool(field: &str, value: &str) -> Result<bool, PolicyError> {
    let normalized = value.trim().to_ascii_lowercase();
    if TRUE_WORDS.contains(&normalized.as_str()) {
        Ok(true)
    } else if FALSE_WORDS.contains(&normalized.as_str()) {
        Ok(false)
    } else {
        Err(PolicyError::invalid(field, value, BOOL_ACCEPTED))
    }
}

/// Parses a decimal integer in `min..=max` for policy field `field` (surrounding whitespace
/// ignored, a leading `+` allowed).
///
/// # Errors
/// [`PolicyError::InvalidValue`] when the value is not a decimal integer or is out of range; the
/// message states the range.
pub fn parse_bounded(
    field: &str,
    value: &str,
    min: usize,
    max: usize,
) -> Result<usize, PolicyError> {
    match value.trim().parse::<usize>() {
        Ok(n) => check_bounded(field, n, min, max),
        Err(_) => Err(PolicyError::invalid(field, value, &range_text(min, max))),
    }
}

/// Checks that `n` lies in `min..=max` for policy field `field`.
///
/// # Errors
/// [`PolicyError::InvalidValue`] stating the range when `n` is outside it.
pub fn check_bounded(field: &str, n: usize, min: usize, max: usize) -> Result<usize, PolicyError> {
    if (min..=max).contains(&n) {
        Ok(n)
    } else {
        Err(PolicyError::invalid(
            field,
            n.to_string(),
            &range_text(min, max),
        ))
    }
}

/// The "accepted" text for an integer range, e.g. `an integer from 1 to 32`.
pub fn range_text(min: usize, max: usize) -> String {
    format!("an integer from {min} to {max}")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn booleans_accept_every_documented_spelling_in_any_case_with_whitespace() {
        for v in ["1", "true", "TRUE", " Yes ", "on", "On\n", "t", "Y"] {
            assert!(parse_bool("f", v).unwrap(), "{v:?}");
        }
        for v in ["0", "false", "False", "\tno", "OFF", "f", "N"] {
            assert!(!parse_bool("f", v).unwrap(), "{v:?}");
        }
    }

    #[test]
    fn booleans_reject_anything_else() {
        for v in ["", " ", "2", "truthy", "enable", "-1", "yes please"] {
            let err = parse_bool("json_errors", v).unwrap_err();
            assert_eq!(err, PolicyError::invalid("json_errors", v, BOOL_ACCEPTED));
        }
    }

    #[test]
    fn bounded_integers_accept_the_range_ends_and_reject_outside() {
        assert_eq!(parse_bounded("d", " 1 ", 1, 32).unwrap(), 1);
        assert_eq!(parse_bounded("d", "+32", 1, 32).unwrap(), 32);
        for v in [
            "0",
            "33",
            "-1",
            "",
            "3.5",
            "three",
            "1e3",
            "99999999999999999999999",
        ] {
            let err = parse_bounded("d", v, 1, 32).unwrap_err();
            assert!(err.to_string().contains("an integer from 1 to 32"), "{err}");
        }
        assert!(check_bounded("d", 0, 1, 2).is_err());
    }
}
