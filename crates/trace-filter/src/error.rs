//! [`FilterError`]: every way loading a filter chain can fail, with the file, line, column,
//! key and what is allowed, plus the stable code for the recorder (`ERR_INVALID_FILTER`).

use std::fmt;
use std::path::PathBuf;

/// Where in a filter source something went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file path, or `<inline:NAME>` for builtin and inline filters.
    pub origin: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column (in characters).
    pub column: u32,
}

impl Location {
    /// Computes line and column of byte offset `offset` in `text`.
    pub fn at(origin: &str, text: &str, offset: usize) -> Self {
        let offset = offset.min(text.len());
        let before = text.get(..offset).unwrap_or(text);
        let line = before.matches('\n').count().saturating_add(1);
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
        Location {
            origin: origin.to_string(),
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: u32::try_from(column).unwrap_or(u32::MAX),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.origin, self.line, self.column)
    }
}

/// Why a filter (or a chain of filters) could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum FilterError {
    /// The text is not valid TOML.
    #[error("{at}: invalid TOML: {message}; fix the syntax of this trace filter file")]
    Toml {
        /// Where.
        at: Location,
        /// The TOML parser's message.
        message: String,
    },
    /// A key that the format does not define.
    #[error("{at}: unknown key `{key}` in {table}; allowed keys: {allowed}")]
    UnknownKey {
        /// Where the key is.
        at: Location,
        /// The offending key.
        key: String,
        /// The table holding it (`[meta]`, `[scope]`, `[[scope.rules]] #2`, ...).
        table: String,
        /// The keys allowed there.
        allowed: &'static str,
    },
    /// A required key is absent.
    #[error("{at}: missing required key `{key}` in {table}")]
    MissingKey {
        /// Where the table is.
        at: Location,
        /// The missing key.
        key: &'static str,
        /// The table that should hold it.
        table: String,
    },
    /// A key has a value of the wrong type or outside the allowed set.
    #[error("{at}: invalid value {value} for `{key}`; allowed: {allowed}")]
    InvalidValue {
        /// Where the value is.
        at: Location,
        /// The key (dotted, e.g. `scope.rules[1].exec`).
        key: String,
        /// The value as written (quoted for strings).
        value: String,
        /// What is allowed.
        allowed: String,
    },
    /// A selector that does not parse or compile.
    #[error("{at}: invalid selector `{selector}` in `{key}`: {reason}; allowed: {allowed}")]
    InvalidSelector {
        /// Where the selector is.
        at: Location,
        /// The key holding it.
        key: String,
        /// The selector as written.
        selector: String,
        /// What is wrong.
        reason: String,
        /// The grammar and kinds allowed here.
        allowed: &'static str,
    },
    /// `builtin-NAME` that does not exist.
    #[error("unknown builtin filter `{name}`; allowed: {allowed}")]
    UnknownBuiltin {
        /// The name asked for.
        name: String,
        /// The builtin names.
        allowed: String,
    },
    /// A filter file cannot be read (missing, a directory, unreadable, not UTF-8).
    #[error("cannot read trace filter file {}: {source}; pass the path of a readable .toml file", path.display())]
    Io {
        /// The path given.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl FilterError {
    /// The stable error code: always `ERR_INVALID_FILTER`. A filter file that cannot be read
    /// (missing, a directory) is the user's input like a malformed one, so both are the same
    /// kind of error and a CLI exits alike for both.
    pub fn code(&self) -> &'static str {
        "ERR_INVALID_FILTER"
    }

    /// The location in the source, when the error has one.
    pub fn location(&self) -> Option<&Location> {
        match self {
            FilterError::Toml { at, .. }
            | FilterError::UnknownKey { at, .. }
            | FilterError::MissingKey { at, .. }
            | FilterError::InvalidValue { at, .. }
            | FilterError::InvalidSelector { at, .. } => Some(at),
            FilterError::UnknownBuiltin { .. } | FilterError::Io { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn location_counts_lines_and_columns() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(Location::at("f", text, 0).to_string(), "f:1:1");
        assert_eq!(Location::at("f", text, 6).to_string(), "f:2:1");
        // byte 10 is after "bé " (4 bytes)
        assert_eq!(Location::at("f", text, 10).to_string(), "f:2:4");
        assert_eq!(Location::at("f", text, 999).line, 3);
    }
}
