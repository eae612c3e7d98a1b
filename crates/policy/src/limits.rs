//! [`ValueLimits`]: how much of each runtime value the recorder captures (SPEC §5.4).
//!
//! | limit | default | bounds | why the bounds |
//! |---|---|---|---|
//! | `max_depth` | 3 | 1..=32 | the trace format's JSON readers fail beyond ~60 nested levels, and each level of a captured value costs a few of them |
//! | `max_elements` | 100 | 1..=1 000 000 | per container; at least one element so a container shows what it holds |
//! | `max_string_len` | 1000 | 16..=16 777 216 | in characters; at least 16 so a truncated string stays recognisable next to its marker; at most 16 Mi so one value cannot blow up the trace. Also bounds an `int`: one of more hexadecimal digits is recorded as its leading digits and a marker |
//! | `max_nodes` | 1000 | 16..=1 000 000 | values (scalars, containers, objects, dict entries) captured per recorded value, all levels together: one huge nested structure cannot cost more per step; at least 16 so a cut value still shows its outline |
//! | `allow_repr` | false | — | calling `repr()` runs user code, which can change the program's behaviour |

use serde::Serialize;

use crate::error::PolicyError;
use crate::parse::check_bounded;

/// Bounds for [`ValueLimits::max_depth`].
pub const MAX_DEPTH_RANGE: (usize, usize) = (1, 32);
/// Bounds for [`ValueLimits::max_elements`].
pub const MAX_ELEMENTS_RANGE: (usize, usize) = (1, 1_000_000);
/// Bounds for [`ValueLimits::max_string_len`].
pub const MAX_STRING_LEN_RANGE: (usize, usize) = (16, 16 * 1024 * 1024);
/// Bounds for [`ValueLimits::max_nodes`].
pub const MAX_NODES_RANGE: (usize, usize) = (16, 1_000_000);

/// Limits applied when encoding a Python value into the trace; whatever is beyond them is
/// elided with a marker.
///
/// Serialized with the same keys as the policy field names (`max_value_depth`,
/// `max_container_elements`, `max_string_length`, `max_value_nodes`, `allow_repr`), flattened into the policy
/// snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct ValueLimits {
    /// How many levels of nested containers/objects are captured (a scalar is depth 1).
    #[serde(rename = "max_value_depth")]
    pub max_depth: usize,
    /// How many elements of each container (list, tuple, set, dict, object attributes) are
    /// captured.
    #[serde(rename = "max_container_elements")]
    pub max_elements: usize,
    /// How many characters of a `str` (or bytes of a `bytes`, hexadecimal digits of an `int`)
    /// are captured.
    #[serde(rename = "max_string_length")]
    pub max_string_len: usize,
    /// How many nodes (scalars, containers, objects, dict entries; all levels together) of one
    /// recorded value are captured; the rest is elided with a marker.
    #[serde(rename = "max_value_nodes")]
    pub max_nodes: usize,
    /// Whether `repr()` may be called on objects the recorder cannot describe safely (runs user
    /// code; off by default).
    pub allow_repr: bool,
}

impl ValueLimits {
    /// Default [`max_depth`](Self::max_depth).
    pub const DEFAULT_MAX_DEPTH: usize = 3;
    /// Default [`max_elements`](Self::max_elements).
    pub const DEFAULT_MAX_ELEMENTS: usize = 100;
    /// Default [`max_string_len`](Self::max_string_len).
    pub const DEFAULT_MAX_STRING_LEN: usize = 1000;
    /// Default [`max_nodes`](Self::max_nodes).
    pub const DEFAULT_MAX_NODES: usize = 1000;

    /// Checks every limit against its bounds (see the module docs).
    ///
    /// # Errors
    /// [`PolicyError::InvalidValue`] naming the first out-of-range field and its range.
    pub fn validate(&self) -> Result<(), PolicyError> {
        check_max_depth(self.max_depth)?;
        check_max_elements(self.max_elements)?;
        check_max_string_len(self.max_string_len)?;
        check_max_nodes(self.max_nodes)?;
        Ok(())
    }
}

impl Default for ValueLimits {
    fn default() -> Self {
        Self {
            max_depth: Self::DEFAULT_MAX_DEPTH,
            max_elements: Self::DEFAULT_MAX_ELEMENTS,
            max_string_len: Self::DEFAULT_MAX_STRING_LEN,
            max_nodes: Self::DEFAULT_MAX_NODES,
            allow_repr: false,
        }
    }
}

/// Checks a value for `max_value_depth` against [`MAX_DEPTH_RANGE`].
///
/// # Errors
/// [`PolicyError::InvalidValue`] for field `max_value_depth` when out of range.
pub fn check_max_depth(n: usize) -> Result<usize, PolicyError> {
    check_bounded("max_value_depth", n, MAX_DEPTH_RANGE.0, MAX_DEPTH_RANGE.1)
}

/// Checks a value for `max_container_elements` against [`MAX_ELEMENTS_RANGE`].
///
/// # Errors
/// [`PolicyError::InvalidValue`] for field `max_container_elements` when out of range.
pub fn check_max_elements(n: usize) -> Result<usize, PolicyError> {
    check_bounded(
        "max_container_elements",
        n,
        MAX_ELEMENTS_RANGE.0,
        MAX_ELEMENTS_RANGE.1,
    )
}

/// Checks a value for `max_string_length` against [`MAX_STRING_LEN_RANGE`].
///
/// # Errors
/// [`PolicyError::InvalidValue`] for field `max_string_length` when out of range.
pub fn check_max_string_len(n: usize) -> Result<usize, PolicyError> {
    check_bounded(
        "max_string_length",
        n,
        MAX_STRING_LEN_RANGE.0,
        MAX_STRING_LEN_RANGE.1,
    )
}

/// Checks a value for `max_value_nodes` against [`MAX_NODES_RANGE`].
///
/// # Errors
/// [`PolicyError::InvalidValue`] for field `max_value_nodes` when out of range.
pub fn check_max_nodes(n: usize) -> Result<usize, PolicyError> {
    check_bounded("max_value_nodes", n, MAX_NODES_RANGE.0, MAX_NODES_RANGE.1)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn defaults_are_the_documented_ones_and_valid() {
        let limits = ValueLimits::default();
        assert_eq!(limits.max_depth, 3);
        assert_eq!(limits.max_elements, 100);
        assert_eq!(limits.max_string_len, 1000);
        assert_eq!(limits.max_nodes, 1000);
        assert!(!limits.allow_repr);
        limits.validate().unwrap();
    }

    #[test]
    fn bounds_are_inclusive_and_enforced() {
        let ok = |f: fn(&mut ValueLimits), valid: bool| {
            let mut l = ValueLimits::default();
            f(&mut l);
            assert_eq!(l.validate().is_ok(), valid, "{l:?}");
        };
        ok(|l| l.max_depth = 1, true);
        ok(|l| l.max_depth = 32, true);
        ok(|l| l.max_depth = 0, false);
        ok(|l| l.max_depth = 33, false);
        ok(|l| l.max_elements = 1, true);
        ok(|l| l.max_elements = 1_000_000, true);
        ok(|l| l.max_elements = 0, false);
        ok(|l| l.max_elements = 1_000_001, false);
        ok(|l| l.max_string_len = 16, true);
        ok(|l| l.max_string_len = 16 * 1024 * 1024, true);
        ok(|l| l.max_string_len = 15, false);
        ok(|l| l.max_string_len = 16 * 1024 * 1024 + 1, false);
        ok(|l| l.max_nodes = 16, true);
        ok(|l| l.max_nodes = 1_000_000, true);
        ok(|l| l.max_nodes = 15, false);
        ok(|l| l.max_nodes = 1_000_001, false);
    }

    #[test]
    fn validation_names_the_field_and_range() {
        let err = ValueLimits {
            max_depth: 64,
            ..ValueLimits::default()
        }
        .validate()
        .unwrap_err();
        assert_eq!(
            err,
            PolicyError::invalid("max_value_depth", "64", "an integer from 1 to 32")
        );
    }
}
