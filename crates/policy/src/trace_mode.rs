//! [`TraceMode`]: the permission bits the trace files are created with (policy field
//! `trace_mode`, default `0600`).
//!
//! A trace holds the program's memory (argument values, file contents, tokens), so like a core
//! dump it is private by default: files `0600`, the directory the recorder creates `0700`.
//! The user may widen it (`--trace-mode 0644`) within what makes sense for a data file: read
//! and write bits only (no execute, setuid, setgid or sticky bit), and the owner can always
//! read and write it.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

use crate::error::PolicyError;

/// The file mode of the trace files: octal permission bits, `0600` by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceMode(u32);

impl TraceMode {
    /// Files readable and writable by their owner only (the default).
    pub const PRIVATE: TraceMode = TraceMode(0o600);

    /// Accepted spellings.
    pub const ACCEPTED: &'static str = "an octal file mode with read/write bits only that \
        lets the owner read and write (0600, 0640, 0644, 0660, 0664, 0666; a 0o prefix is \
        allowed)";

    /// The mode of `bits`, when it is one of the accepted modes.
    ///
    /// # Errors
    /// [`PolicyError::InvalidValue`] for execute or special bits, or a mode the owner could
    /// not read and write.
    pub fn new(bits: u32) -> Result<Self, PolicyError> {
        if bits & !0o666 == 0 && bits & 0o600 == 0o600 {
            Ok(Self(bits))
        } else {
            Err(PolicyError::invalid(
                "trace_mode",
                format!("0{bits:o}"),
                Self::ACCEPTED,
            ))
        }
    }

    /// The permission bits of the trace files (directories the recorder creates get the same
    /// bits plus search wherever reading is allowed).
    pub fn file_mode(self) -> u32 {
        self.0
    }
}

impl Default for TraceMode {
    fn default() -> Self {
        Self::PRIVATE
    }
}

impl FromStr for TraceMode {
    type Err = PolicyError;

    /// Octal digits (`0644`, `644`, `0o644`), surrounding whitespace ignored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        let digits = text
            .strip_prefix("0o")
            .or_else(|| text.strip_prefix("0O"))
            .unwrap_or(text);
        let invalid = || PolicyError::invalid("trace_mode", s, Self::ACCEPTED);
        if digits.is_empty() || !digits.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
            return Err(invalid());
        }
        let bits = u32::from_str_radix(digits, 8).map_err(|_| invalid())?;
        Self::new(bits).map_err(|_| invalid())
    }
}

impl fmt::Display for TraceMode {
    /// Four octal digits: `0600`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04o}", self.0)
    }
}

impl Serialize for TraceMode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_string())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn octal_spellings_parse_and_print_as_four_digits() {
        for (text, bits) in [
            ("0600", 0o600),
            ("644", 0o644),
            (" 0o640 ", 0o640),
            ("0666", 0o666),
        ] {
            let mode: TraceMode = text.parse().unwrap();
            assert_eq!(mode.file_mode(), bits, "{text}");
        }
        assert_eq!(TraceMode::default().to_string(), "0600");
        assert_eq!("0o644".parse::<TraceMode>().unwrap().to_string(), "0644");
    }

    #[test]
    fn execute_special_and_owner_unwritable_modes_are_rejected() {
        for text in [
            "0777", "0755", "0700", "0400", "0200", "1600", "4600", "", "abc", "-1", "0x1a4", "8",
        ] {
            let err = text.parse::<TraceMode>().unwrap_err();
            assert!(err.to_string().contains("trace_mode"), "{text}: {err}");
        }
        assert!(TraceMode::new(0o1600).is_err());
    }
}
