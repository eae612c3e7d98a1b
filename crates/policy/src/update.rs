//! [`PolicyUpdate`]: a partial change to a [`RecorderPolicy`](crate::RecorderPolicy), and its
//! construction from string-typed `(field, value)` pairs.
//!
//! Every field is optional; `None` means "leave as is". Field names are the snake_case keys of
//! the policy snapshot ([`FIELDS`]), so `configure_policy(**policy_snapshot())` round-trips.

use std::path::PathBuf;

use crate::error::PolicyError;
use crate::limits::{MAX_DEPTH_RANGE, MAX_ELEMENTS_RANGE, MAX_NODES_RANGE, MAX_STRING_LEN_RANGE};
use crate::options::{IoCapture, LogLevel, OnRecorderError};
use crate::parse::{parse_bool, parse_bounded};
use crate::trace_mode::TraceMode;

/// The names of all policy fields, as accepted by [`PolicyUpdate::set_field`] and used as keys
/// of the policy snapshot.
pub const FIELDS: &[&str] = &[
    "on_recorder_error",
    "require_trace",
    "keep_partial_trace",
    "log_level",
    "log_file",
    "json_errors",
    "io_capture",
    "module_name_from_globals",
    "propagate_script_exit",
    "include_libraries",
    "follow_children",
    "max_value_depth",
    "max_container_elements",
    "max_string_length",
    "max_value_nodes",
    "allow_repr",
    "trace_mode",
];

/// A partial update of the recorder policy: each `Some` field replaces the current value.
///
/// Apply it with [`RecorderPolicy::apply`](crate::RecorderPolicy::apply), which validates the
/// whole result before changing anything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyUpdate {
    /// New [`RecorderPolicy::on_recorder_error`](crate::RecorderPolicy::on_recorder_error).
    pub on_recorder_error: Option<OnRecorderError>,
    /// New [`RecorderPolicy::require_trace`](crate::RecorderPolicy::require_trace).
    pub require_trace: Option<bool>,
    /// New [`RecorderPolicy::keep_partial_trace`](crate::RecorderPolicy::keep_partial_trace).
    pub keep_partial_trace: Option<bool>,
    /// New [`RecorderPolicy::log_level`](crate::RecorderPolicy::log_level).
    pub log_level: Option<LogLevel>,
    /// New [`RecorderPolicy::log_file`](crate::RecorderPolicy::log_file): `Some(None)` switches
    /// back to stderr, `Some(Some(path))` logs to `path`.
    pub log_file: Option<Option<PathBuf>>,
    /// New [`RecorderPolicy::json_errors`](crate::RecorderPolicy::json_errors).
    pub json_errors: Option<bool>,
    /// New [`RecorderPolicy::io_capture`](crate::RecorderPolicy::io_capture).
    pub io_capture: Option<IoCapture>,
    /// New [`RecorderPolicy::module_name_from_globals`](crate::RecorderPolicy::module_name_from_globals).
    pub module_name_from_globals: Option<bool>,
    /// New [`RecorderPolicy::propagate_script_exit`](crate::RecorderPolicy::propagate_script_exit).
    pub propagate_script_exit: Option<bool>,
    /// New [`RecorderPolicy::include_libraries`](crate::RecorderPolicy::include_libraries).
    pub include_libraries: Option<bool>,
    /// New [`RecorderPolicy::follow_children`](crate::RecorderPolicy::follow_children).
    pub follow_children: Option<bool>,
    /// New [`ValueLimits::max_depth`](crate::ValueLimits::max_depth).
    pub max_value_depth: Option<usize>,
    /// New [`ValueLimits::max_elements`](crate::ValueLimits::max_elements).
    pub max_container_elements: Option<usize>,
    /// New [`ValueLimits::max_string_len`](crate::ValueLimits::max_string_len).
    pub max_string_length: Option<usize>,
    /// New [`ValueLimits::max_nodes`](crate::ValueLimits::max_nodes).
    pub max_value_nodes: Option<usize>,
    /// New [`ValueLimits::allow_repr`](crate::ValueLimits::allow_repr).
    pub allow_repr: Option<bool>,
    /// New [`RecorderPolicy::trace_mode`](crate::RecorderPolicy::trace_mode).
    pub trace_mode: Option<TraceMode>,
}

impl PolicyUpdate {
    /// An update that changes nothing (same as `PolicyUpdate::default()`).
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether this update changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Sets field `name` from its string form `value` (for string-typed inputs such as the
    /// Python `configure_policy(**fields)` bridge or CLI flags).
    ///
    /// `name` is matched case-insensitively and `-` may stand for `_` (`max-value-depth`).
    /// Values are parsed like the environment variables: booleans as `1/true/yes/on` or
    /// `0/false/no/off`, enums with their synonyms, integers within their bounds, all trimmed and
    /// case-insensitive. For `log_file` an empty (or all-blank) value means "log to stderr";
    /// other values are taken as the path, verbatim.
    ///
    /// # Errors
    /// [`PolicyError::UnknownField`] listing [`FIELDS`] for an unknown name;
    /// [`PolicyError::InvalidValue`] naming the field, the value and what is accepted. On error
    /// the update is unchanged.
    pub fn set_field(&mut self, name: &str, value: &str) -> Result<(), PolicyError> {
        let key = name.trim().to_ascii_lowercase().replace('-', "_");
        match key.as_str() {
            "on_recorder_error" => self.on_recorder_error = Some(value.parse()?),
            "require_trace" => self.require_trace = Some(parse_bool(&key, value)?),
            "keep_partial_trace" => self.keep_partial_trace = Some(parse_bool(&key, value)?),
            "log_level" => self.log_level = Some(value.parse()?),
            "log_file" => {
                self.log_file = Some(if value.trim().is_empty() {
                    None
                } else {
                    Some(PathBuf::from(value))
                });
            }
            "json_errors" => self.json_errors = Some(parse_bool(&key, value)?),
            "io_capture" => self.io_capture = Some(value.parse()?),
            "module_name_from_globals" => {
                self.module_name_from_globals = Some(parse_bool(&key, value)?);
            }
            "propagate_script_exit" => self.propagate_script_exit = Some(parse_bool(&key, value)?),
            "include_libraries" => self.include_libraries = Some(parse_bool(&key, value)?),
            "follow_children" => self.follow_children = Some(parse_bool(&key, value)?),
            "max_value_depth" => {
                let (min, max) = MAX_DEPTH_RANGE;
                self.max_value_depth = Some(parse_bounded(&key, value, min, max)?);
            }
            "max_container_elements" => {
                let (min, max) = MAX_ELEMENTS_RANGE;
                self.max_container_elements = Some(parse_bounded(&key, value, min, max)?);
            }
            "max_string_length" => {
                let (min, max) = MAX_STRING_LEN_RANGE;
                self.max_string_length = Some(parse_bounded(&key, value, min, max)?);
            }
            "max_value_nodes" => {
                let (min, max) = MAX_NODES_RANGE;
                self.max_value_nodes = Some(parse_bounded(&key, value, min, max)?);
            }
            "allow_repr" => self.allow_repr = Some(parse_bool(&key, value)?),
            "trace_mode" => self.trace_mode = Some(value.parse()?),
            _ => {
                return Err(PolicyError::UnknownField {
                    name: name.to_owned(),
                    known: FIELDS.join(", "),
                })
            }
        }
        Ok(())
    }

    /// Builds an update from string-typed `(field, value)` pairs, in order (a later pair for the
    /// same field wins).
    ///
    /// # Errors
    /// The first error of [`set_field`](Self::set_field).
    pub fn from_fields<I, K, V>(fields: I) -> Result<Self, PolicyError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut update = Self::default();
        for (name, value) in fields {
            update.set_field(name.as_ref(), value.as_ref())?;
        }
        Ok(update)
    }

    /// Overlays `later` on this update: every field set in `later` replaces this one's, the
    /// others are kept. Used to stack sources in precedence order.
    pub fn merge(&mut self, later: PolicyUpdate) {
        macro_rules! overlay {
            ($($field:ident),*) => {
                $(if later.$field.is_some() { self.$field = later.$field; })*
            };
        }
        overlay!(
            on_recorder_error,
            require_trace,
            keep_partial_trace,
            log_level,
            log_file,
            json_errors,
            io_capture,
            module_name_from_globals,
            propagate_script_exit,
            include_libraries,
            follow_children,
            max_value_depth,
            max_container_elements,
            max_string_length,
            max_value_nodes,
            allow_repr,
            trace_mode
        );
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn field_names_are_normalized() {
        let mut u = PolicyUpdate::new();
        u.set_field("Max-Value-Depth", "5").unwrap();
        u.set_field(" ALLOW_REPR ", "yes").unwrap();
        assert_eq!(u.max_value_depth, Some(5));
        assert_eq!(u.allow_repr, Some(true));
    }

    #[test]
    fn failed_set_field_leaves_the_update_unchanged() {
        let mut u = PolicyUpdate::new();
        u.set_field("log_level", "info").unwrap();
        let before = u.clone();
        assert!(u.set_field("log_level", "chatty").is_err());
        assert!(u.set_field("nope", "1").is_err());
        assert_eq!(u, before);
    }

    #[test]
    fn merge_overlays_only_set_fields() {
        let mut a =
            PolicyUpdate::from_fields([("log_level", "info"), ("json_errors", "1")]).unwrap();
        let b = PolicyUpdate::from_fields([("log_level", "debug"), ("log_file", "")]).unwrap();
        a.merge(b);
        assert_eq!(a.log_level, Some(LogLevel::Debug));
        assert_eq!(a.json_errors, Some(true));
        assert_eq!(a.log_file, Some(None));
        assert!(!a.is_empty());
        assert!(PolicyUpdate::new().is_empty());
    }
}
