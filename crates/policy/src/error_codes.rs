//! The stable error codes of CodeTracer recorders.
//!
//! Every user-facing recorder error carries one of these codes (in messages, in the Python
//! exception's `code` attribute and in the `--json-errors` trailer). They are part of the public
//! contract: scripts match on them, so a code is never renamed or reused for another meaning.
//! The crate README explains, for each one, when it happens and what to do.

/// The trace directory exists and is not a directory, or holds files of another trace format.
pub const ERR_TRACE_DIR_CONFLICT: &str = "ERR_TRACE_DIR_CONFLICT";
/// The trace directory (or one of its parents) could not be created.
pub const ERR_TRACE_DIR_CREATE_FAILED: &str = "ERR_TRACE_DIR_CREATE_FAILED";
/// The requested trace format is not one of `binary` / `json`.
pub const ERR_UNSUPPORTED_FORMAT: &str = "ERR_UNSUPPORTED_FORMAT";
/// A policy value (CLI flag, API argument or `CODETRACER_*` variable) is invalid.
pub const ERR_INVALID_POLICY_VALUE: &str = "ERR_INVALID_POLICY_VALUE";
/// A trace filter file could not be read or is not a valid filter.
pub const ERR_INVALID_FILTER: &str = "ERR_INVALID_FILTER";
/// Reading or writing a trace/metadata file failed (disk full, permissions, ...).
pub const ERR_IO: &str = "ERR_IO";
/// `require_trace` is on and no trace events were recorded.
pub const ERR_TRACE_MISSING: &str = "ERR_TRACE_MISSING";
/// The trace could not be finished (the recording was interrupted by a recorder failure).
pub const ERR_TRACE_INCOMPLETE: &str = "ERR_TRACE_INCOMPLETE";
/// A recording session is already active in this interpreter.
pub const ERR_ALREADY_TRACING: &str = "ERR_ALREADY_TRACING";
/// The `sys.monitoring` tool id the recorder needs is held by another tool (e.g. a debugger).
pub const ERR_TOOL_ID_IN_USE: &str = "ERR_TOOL_ID_IN_USE";
/// A bug in the recorder (an invariant was broken or a panic was caught).
pub const ERR_INTERNAL: &str = "ERR_INTERNAL";
/// The command line is wrong: an unknown flag, a missing or nonexistent script or module.
pub const ERR_USAGE: &str = "ERR_USAGE";

/// Every stable error code, in documentation order.
pub const ALL: &[&str] = &[
    ERR_TRACE_DIR_CONFLICT,
    ERR_TRACE_DIR_CREATE_FAILED,
    ERR_UNSUPPORTED_FORMAT,
    ERR_INVALID_POLICY_VALUE,
    ERR_INVALID_FILTER,
    ERR_IO,
    ERR_TRACE_MISSING,
    ERR_TRACE_INCOMPLETE,
    ERR_ALREADY_TRACING,
    ERR_TOOL_ID_IN_USE,
    ERR_INTERNAL,
    ERR_USAGE,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_equal_to_their_names() {
        let mut seen = std::collections::BTreeSet::new();
        for code in ALL {
            assert!(code.starts_with("ERR_"), "{code}");
            assert!(seen.insert(*code), "duplicate code {code}");
            assert!(code.chars().all(|c| c.is_ascii_uppercase() || c == '_'));
        }
        assert_eq!(ALL.len(), 12);
    }
}
