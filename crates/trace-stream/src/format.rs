//! [`TraceFormat`]: the event-file formats (`trace.bin`, `trace.json`, `trace.ct`), their names and aliases (the one table of them),
//! and the events file each writes.

use crate::dir::{EVENTS_BINARY, EVENTS_CTFS, EVENTS_JSON};
use crate::error::{ErrorKind, Result, TraceStreamError};

/// The event file formats this crate writes and reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TraceFormat {
    /// `trace.bin`: CodeTracer's Binary v1 (CBOR records in a seekable zstd stream).
    Binary,
    /// `trace.json`: a JSON array, one record per line.
    Json,
    /// `trace.ct`: a CTFS container (the format the 2026 CodeTracer opens first).
    Ctfs,
}

/// Every accepted spelling of a format name (lower case), with its format. The first
/// spelling of each format is its canonical name.
pub const FORMAT_NAMES: &[(&str, TraceFormat)] = &[
    ("binary", TraceFormat::Binary),
    ("bin", TraceFormat::Binary),
    ("cbor", TraceFormat::Binary),
    ("json", TraceFormat::Json),
    ("ctfs", TraceFormat::Ctfs),
    ("ct", TraceFormat::Ctfs),
];

impl TraceFormat {
    /// Every format, in the order CodeTracer looks for their files (`*.ct`, `trace.json`,
    /// `trace.bin`).
    pub const ALL: [TraceFormat; 3] = [TraceFormat::Ctfs, TraceFormat::Json, TraceFormat::Binary];

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
                        "unsupported trace format '{wanted}': use 'binary' ({EVENTS_BINARY}), 'json' ({EVENTS_JSON}) or 'ctfs' ({EVENTS_CTFS})"
                    ),
                )
            })
    }

    /// The canonical name (`binary` / `json` / `ctfs`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Binary => "binary",
            Self::Json => "json",
            Self::Ctfs => "ctfs",
        }
    }

    /// The events file name inside the trace directory.
    pub fn events_file_name(self) -> &'static str {
        match self {
            Self::Binary => EVENTS_BINARY,
            Self::Json => EVENTS_JSON,
            Self::Ctfs => EVENTS_CTFS,
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
