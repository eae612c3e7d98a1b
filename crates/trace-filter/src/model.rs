//! Filter files as plain data: metadata, scope defaults, rules, value patterns, actions.
//!
//! Nothing here matches or loads anything; [`crate::loader`] builds these values from TOML
//! and [`crate::engine`] compiles them into matchers.

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

use crate::selector::Selector;

/// Whether a scope (a code object) is traced. The result of a scope decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Exec {
    /// Record the code: calls, lines, values.
    Trace,
    /// Do not record the code; the caller should disable its events.
    Skip,
}

/// The `exec` / `default_exec` directive as written in a file (`inherit` included).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExecDirective {
    /// `"trace"`.
    Trace,
    /// `"skip"`.
    Skip,
    /// `"inherit"`: keep what earlier filters/rules decided.
    Inherit,
}

impl ExecDirective {
    /// The spellings accepted in filter files.
    pub const ALLOWED: &'static str = "\"trace\", \"skip\", \"inherit\"";

    /// Parses `trace` / `skip` / `inherit` (exact, lowercase).
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "trace" => Some(Self::Trace),
            "skip" => Some(Self::Skip),
            "inherit" => Some(Self::Inherit),
            _ => None,
        }
    }

    /// The concrete value, or `None` for `inherit`.
    pub fn resolve(self) -> Option<Exec> {
        match self {
            Self::Trace => Some(Exec::Trace),
            Self::Skip => Some(Exec::Skip),
            Self::Inherit => None,
        }
    }
}

/// The text recorded in place of a redacted value.
pub const REDACTED_MARKER: &str = "<redacted>";
/// The text recorded in place of a dropped value that must keep its place (a return value, a
/// dict entry's value).
pub const DROPPED_MARKER: &str = "<dropped>";

/// What happens to a value (a variable, argument, return value or attribute).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ValueAction {
    /// Record the value as is.
    Allow,
    /// Record the name with a redaction marker instead of the value.
    Redact,
    /// Do not record the name nor the value.
    Drop,
}

/// The `action` / `value_default` / `default_value_action` directive (`inherit` included).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueDirective {
    /// `"allow"`.
    Allow,
    /// `"redact"`.
    Redact,
    /// `"drop"`.
    Drop,
    /// `"inherit"`: keep what earlier filters/rules decided.
    Inherit,
}

impl ValueDirective {
    /// The spellings accepted for defaults (`inherit` included).
    pub const ALLOWED: &'static str = "\"allow\", \"redact\", \"drop\", \"inherit\"";
    /// The spellings accepted for a value pattern's `action` (no `inherit`).
    pub const ALLOWED_ACTIONS: &'static str = "\"allow\", \"redact\", \"drop\"";

    /// Parses `allow` / `redact` / `drop` / `inherit` (exact, lowercase).
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "allow" => Some(Self::Allow),
            "redact" => Some(Self::Redact),
            "drop" => Some(Self::Drop),
            "inherit" => Some(Self::Inherit),
            _ => None,
        }
    }

    /// The concrete action, or `None` for `inherit`.
    pub fn resolve(self) -> Option<ValueAction> {
        match self {
            Self::Allow => Some(ValueAction::Allow),
            Self::Redact => Some(ValueAction::Redact),
            Self::Drop => Some(ValueAction::Drop),
            Self::Inherit => None,
        }
    }
}

/// The kind of a value whose fate [`crate::engine::FilterEngine::decide_value`] decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ValueKind {
    /// A local (including cell/free) variable: selector kind `local`.
    Local,
    /// A module global used by the code: selector kind `global`.
    Global,
    /// A call argument: selector kind `arg`.
    Arg,
    /// A return (or yielded) value, named by the function: selector kind `ret`.
    Return,
    /// An attribute of a recorded object: selector kind `attr`.
    Attr,
}

impl ValueKind {
    /// Every kind, in counter order.
    pub const ALL: [ValueKind; 5] = [
        ValueKind::Local,
        ValueKind::Global,
        ValueKind::Arg,
        ValueKind::Return,
        ValueKind::Attr,
    ];

    /// Dense index `0..5`, in the order of [`ValueKind::ALL`].
    pub fn index(self) -> usize {
        match self {
            ValueKind::Local => 0,
            ValueKind::Global => 1,
            ValueKind::Arg => 2,
            ValueKind::Return => 3,
            ValueKind::Attr => 4,
        }
    }

    /// The selector kind spelling (`local`, `global`, `arg`, `ret`, `attr`).
    pub fn as_str(self) -> &'static str {
        match self {
            ValueKind::Local => "local",
            ValueKind::Global => "global",
            ValueKind::Arg => "arg",
            ValueKind::Return => "ret",
            ValueKind::Attr => "attr",
        }
    }
}

impl fmt::Display for ValueKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a filter came from; also how errors and the summary name it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FilterOrigin {
    /// A builtin filter (`builtin-default`, ...).
    Builtin(String),
    /// A file on disk.
    File(PathBuf),
    /// TOML text given directly by the caller.
    Inline(String),
}

impl fmt::Display for FilterOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FilterOrigin::Builtin(name) | FilterOrigin::Inline(name) => {
                write!(f, "<inline:{name}>")
            }
            FilterOrigin::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// `[meta]` of a filter file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterMeta {
    /// `name` (required, non-empty).
    pub name: String,
    /// `version` (required, >= 1).
    pub version: u32,
    /// `description` (optional).
    pub description: Option<String>,
}

/// One `[[scope.rules.value_patterns]]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValuePattern {
    /// A value selector (`local`, `global`, `arg`, `ret`, `attr`).
    pub selector: Selector,
    /// What to do with matching values.
    pub action: ValueAction,
}

/// One `[[scope.rules]]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeRule {
    /// A scope selector (`pkg`, `file`, `obj`, or a builtin-only kind).
    pub selector: Selector,
    /// `exec`; `None` when absent (same as `inherit`: the rule does not change it).
    pub exec: Option<ExecDirective>,
    /// `value_default`; `None` when absent.
    pub value_default: Option<ValueDirective>,
    /// `reason` (free text, for humans and logs).
    pub reason: Option<String>,
    /// Value patterns, in file order.
    pub value_patterns: Vec<ValuePattern>,
}

/// A whole filter file, parsed and validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterFile {
    /// Where it came from.
    pub origin: FilterOrigin,
    /// `[meta]`.
    pub meta: FilterMeta,
    /// `[scope].default_exec` (`inherit` when absent).
    pub default_exec: ExecDirective,
    /// `[scope].default_value_action` (`inherit` when absent).
    pub default_value_action: ValueDirective,
    /// `[[scope.rules]]`, in file order.
    pub rules: Vec<ScopeRule>,
    /// Lowercase hex SHA-256 of the source text.
    pub sha256: String,
}
