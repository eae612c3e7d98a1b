//! [`TraceFormat`]: the event-file formats, their names and aliases (the one table of them),
//! and the events file each writes.

use crate::dir::{EVENTS_BINARY, EVENTS_JSON};
use crate::error::{ErrorKind, Result, TraceStreamError};

/// The event file formats this crate writes and reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TraceFormat {
    /// `trace.bin`: CodeTracer's Binary v1 (CBOR records in a seekable zstd stream).
    Binary,
    /// `trace.json`: a JSON array, one record per line.
    Json,
}

/// Every accepted spelling of a format name (lower case), with its format. The first
/// spelling of each format is its canonical name.
pub const FORMAT_NAMES: &[(&str, TraceFormat)] = &[
    ("binary", TraceFormat::Binary),
    ("bin", TraceFormat::Binary),
    ("cbor", TraceFormat::Binary),
    ("json", TraceFormat::Json),
];

impl TraceFormat {
    /// Every format, in the order a reader looks for their files.
    pub const ALL: [TraceFormat; 2] = [TraceFormat::Json, TraceFormat::Binary];

    /// Parses a user-supplied format name (case and surrounding spaces ignored).
    pub fn parse(name: &str) -> Result<Self> {
        let wanted = name.trim().to_ascii_lowercase();
        FORMAT_NAMES
            .iter()
            .find(|(n, _)| *n == wanted)
            .map(|(_, f)| *f)
            .ok_or_else(|| {
                TraceStreamError::new(
                    ErrorKind::UnsupportedFormat,
                    format!(
                        "unsupported trace format '{wanted}': use 'binary' ({EVENTS_BINARY}) or 'json' ({EVENTS_JSON})"
                    ),
                )
            })
    }

    /// The canonical name (`binary` / `json`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Binary => "binary",
            Self::Json => "json",
        }
    }

    /// The events file name inside the trace directory.
    pub fn events_file_name(self) -> &'static str {
        match self {
            Self::Binary => EVENTS_BINARY,
            Self::Json => EVENTS_JSON,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_alias_parses_and_canonical_names_round_trip() {
        for (name, format) in FORMAT_NAMES {
            assert_eq!(TraceFormat::parse(&name.to_uppercase()).unwrap(), *format);
        }
        for format in TraceFormat::ALL {
            assert_eq!(TraceFormat::parse(format.name()).unwrap(), format);
        }
        let err = TraceFormat::parse(" capnp ").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnsupportedFormat);
        assert!(err.message().contains("'capnp'"));
    }
}
