//! [`RecorderPolicy`]: the recorder's policy, its defaults, validation, updates and the
//! precedence rule defaults < environment < explicit arguments.
//!
//! The policy serializes (serde) to the flat snapshot returned by Python's
//! `policy_snapshot()`; its keys are [`FIELDS`](crate::FIELDS) and enums are their canonical
//! strings:
//!
//! ```json
//! {"on_recorder_error": "abort", "require_trace": false, "keep_partial_trace": false,
//!  "log_level": "warn", "log_file": null, "json_errors": false, "io_capture": "proxies",
//!  "module_name_from_globals": true, "propagate_script_exit": false,
//!  "include_libraries": false, "follow_children": true,
//!  "max_value_depth": 3, "max_container_elements": 100, "max_string_length": 1000,
//!  "allow_repr": false, "trace_mode": "0600"}
//! ```

use std::path::PathBuf;

use serde::Serialize;

use crate::error::PolicyError;
use crate::limits::{
    check_max_depth, check_max_elements, check_max_nodes, check_max_string_len, ValueLimits,
};
use crate::options::{IoCapture, LogLevel, OnRecorderError};
use crate::trace_mode::TraceMode;
use crate::update::PolicyUpdate;

/// How a recorder behaves around the recording: errors, partial traces, logging, IO capture,
/// module naming, exit status and value-capture limits. See the crate README for the table of
/// fields, defaults, environment variables and CLI flags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecorderPolicy {
    /// What to do when the recorder fails (default [`OnRecorderError::Abort`]).
    pub on_recorder_error: OnRecorderError,
    /// Treat "no events recorded" as a failure (default `false`).
    pub require_trace: bool,
    /// Keep the partial trace files after a failure instead of removing them (default `false`).
    pub keep_partial_trace: bool,
    /// The most verbose level of the recorder's own logs (default [`LogLevel::Warn`]).
    pub log_level: LogLevel,
    /// Where the recorder's logs go; `None` = stderr (the default).
    pub log_file: Option<PathBuf>,
    /// Add a one-line JSON error trailer on stderr for machines (default `false`).
    pub json_errors: bool,
    /// How stdin/stdout/stderr are captured (default [`IoCapture::Proxies`]).
    pub io_capture: IoCapture,
    /// Name module-level code from the module's `__spec__`/`__name__` globals (default `true`).
    pub module_name_from_globals: bool,
    /// Exit with the script's status instead of 0 (default `false`).
    pub propagate_script_exit: bool,
    /// Record installed third-party packages too (default `false`: "just my code", code in
    /// site-packages / dist-packages is skipped like the standard library).
    pub include_libraries: bool,
    /// Record the program's child processes too — forked children, `multiprocessing`
    /// workers, Python programs it starts — each into a trace of its own under the parent's
    /// `children/` directory (default `true`).
    pub follow_children: bool,
    /// Limits of value capture; flattened into the snapshot.
    #[serde(flatten)]
    pub value_limits: ValueLimits,
    /// The mode of the trace files (default [`TraceMode::PRIVATE`], `0600`).
    pub trace_mode: TraceMode,
}

impl Default for RecorderPolicy {
    fn default() -> Self {
        Self {
            on_recorder_error: OnRecorderError::default(),
            require_trace: false,
            keep_partial_trace: false,
            log_level: LogLevel::default(),
            log_file: None,
            json_errors: false,
            io_capture: IoCapture::default(),
            module_name_from_globals: true,
            propagate_script_exit: false,
            include_libraries: false,
            follow_children: true,
            value_limits: ValueLimits::default(),
            trace_mode: TraceMode::default(),
        }
    }
}

impl RecorderPolicy {
    /// Checks the policy's invariants (today: the [`ValueLimits`] bounds).
    ///
    /// # Errors
    /// [`PolicyError::InvalidValue`] naming the first invalid field.
    pub fn validate(&self) -> Result<(), PolicyError> {
        self.value_limits.validate()
    }

    /// Applies `update` all-or-nothing: the updated policy is validated first and `self` is only
    /// changed when it is valid.
    ///
    /// # Errors
    /// [`PolicyError::InvalidValue`] naming the first invalid field; `self` is then unchanged.
    pub fn apply(&mut self, update: PolicyUpdate) -> Result<(), PolicyError> {
        let mut next = self.clone();
        next.apply_unchecked(update)?;
        next.validate()?;
        *self = next;
        Ok(())
    }

    /// The policy that results from the defaults, overridden by `env` (usually
    /// [`PolicyUpdate::from_env`]), overridden by `explicit` (CLI flags / API arguments).
    ///
    /// # Errors
    /// [`PolicyError::InvalidValue`] when the merged values are invalid.
    pub fn resolve(
        env: PolicyUpdate,
        explicit: PolicyUpdate,
    ) -> Result<RecorderPolicy, PolicyError> {
        let mut merged = env;
        merged.merge(explicit);
        let mut policy = RecorderPolicy::default();
        policy.apply(merged)?;
        Ok(policy)
    }

    /// The update that turns the default policy into this one, field by field (every field
    /// set). Useful to re-apply a snapshot.
    pub fn to_update(&self) -> PolicyUpdate {
        PolicyUpdate {
            on_recorder_error: Some(self.on_recorder_error),
            require_trace: Some(self.require_trace),
            keep_partial_trace: Some(self.keep_partial_trace),
            log_level: Some(self.log_level),
            log_file: Some(self.log_file.clone()),
            json_errors: Some(self.json_errors),
            io_capture: Some(self.io_capture),
            module_name_from_globals: Some(self.module_name_from_globals),
            propagate_script_exit: Some(self.propagate_script_exit),
            include_libraries: Some(self.include_libraries),
            follow_children: Some(self.follow_children),
            max_value_depth: Some(self.value_limits.max_depth),
            max_container_elements: Some(self.value_limits.max_elements),
            max_string_length: Some(self.value_limits.max_string_len),
            max_value_nodes: Some(self.value_limits.max_nodes),
            allow_repr: Some(self.value_limits.allow_repr),
            trace_mode: Some(self.trace_mode),
        }
    }

    /// Copies every set field of `update` into `self`, checking each numeric limit as it goes
    /// (so the error names the field even before [`validate`](Self::validate)).
    fn apply_unchecked(&mut self, update: PolicyUpdate) -> Result<(), PolicyError> {
        let PolicyUpdate {
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
            trace_mode,
        } = update;
        set(&mut self.on_recorder_error, on_recorder_error);
        set(&mut self.require_trace, require_trace);
        set(&mut self.keep_partial_trace, keep_partial_trace);
        set(&mut self.log_level, log_level);
        set(&mut self.log_file, log_file);
        set(&mut self.json_errors, json_errors);
        set(&mut self.io_capture, io_capture);
        set(&mut self.module_name_from_globals, module_name_from_globals);
        set(&mut self.propagate_script_exit, propagate_script_exit);
        set(&mut self.include_libraries, include_libraries);
        set(&mut self.follow_children, follow_children);
        let limits = &mut self.value_limits;
        set(
            &mut limits.max_depth,
            max_value_depth.map(check_max_depth).transpose()?,
        );
        set(
            &mut limits.max_elements,
            max_container_elements.map(check_max_elements).transpose()?,
        );
        set(
            &mut limits.max_string_len,
            max_string_length.map(check_max_string_len).transpose()?,
        );
        set(
            &mut limits.max_nodes,
            max_value_nodes.map(check_max_nodes).transpose()?,
        );
        set(&mut limits.allow_repr, allow_repr);
        set(&mut self.trace_mode, trace_mode);
        Ok(())
    }
}

/// Replaces `*slot` with the value of `new` when it is `Some`.
fn set<T>(slot: &mut T, new: Option<T>) {
    if let Some(value) = new {
        *slot = value;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn to_update_round_trips() {
        let mut p = RecorderPolicy::default();
        p.apply(
            PolicyUpdate::from_fields([("io_capture", "fd"), ("max_value_depth", "7")]).unwrap(),
        )
        .unwrap();
        let mut q = RecorderPolicy::default();
        q.apply(p.to_update()).unwrap();
        assert_eq!(p, q);
    }
}
