//! Column-aware step positions. Every source file of the trace gets a table of its line
//! lengths (in bytes, newline included), stored with its path in `paths.dat` ("Layout A":
//! varint path length, path bytes, varint line count, the first length zigzag-encoded and
//! then the zigzag deltas between consecutive lengths). The files' positions are laid end to
//! end in one space — file `f` starts where file `f - 1` ends — and a step is the position
//! `file base + start of its line + column offset`, which the CodeTracer readers turn back
//! into `(file, line, column)` with two binary searches ([`PositionSpace::locate`]).
//!
//! A file that cannot be read (code from `exec`, a file deleted since) gets a conventional
//! table sized from a line-count hint. Lines past a file's table and columns past a line's
//! length are clamped to the last addressable position (a file edited while it runs).

use std::path::Path;

use super::varint::{self, Cursor};

/// Length of every line of a conventional table (a file whose text is not readable).
pub const CONVENTIONAL_LINE: u32 = 1024;
/// Lines a conventional table has beyond the hinted count.
pub const CONVENTIONAL_SLACK: u32 = 1000;

/// The line lengths of one source file (each at least 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineTable {
    lengths: Vec<u32>,
}

impl LineTable {
    /// The table of the file at `path`, or `None` when it cannot be read.
    pub fn read_source(path: &Path) -> Option<Self> {
        let text = std::fs::read(path).ok()?;
        Some(Self::of_text(&text))
    }

    /// The table of `text` (split after each `\n`).
    pub fn of_text(text: &[u8]) -> Self {
        let mut lengths: Vec<u32> = text
            .split_inclusive(|&b| b == b'\n')
            .map(|line| u32::try_from(line.len()).unwrap_or(u32::MAX).max(1))
            .collect();
        if lengths.is_empty() {
            lengths.push(1);
        }
        Self { lengths }
    }

    /// A table for a file whose text is unknown, covering at least `lines` lines.
    pub fn conventional(lines: u32) -> Self {
        let n = lines.saturating_add(CONVENTIONAL_SLACK) as usize;
        Self {
            lengths: vec![CONVENTIONAL_LINE; n],
        }
    }

    /// The lengths, line 1 first.
    pub fn lengths(&self) -> &[u32] {
        &self.lengths
    }

    /// The `paths.dat` record of `path` with this table.
    pub fn record(&self, path: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(path.len() + self.lengths.len() + 8);
        varint::put_bytes(&mut out, path.as_bytes());
        varint::put(&mut out, self.lengths.len() as u64);
        let mut previous = 0i64;
        for &len in &self.lengths {
            varint::put_signed(&mut out, i64::from(len) - previous);
            previous = i64::from(len);
        }
        out
    }

    /// Parses a `paths.dat` record: the path and its table (`None` when it is not Layout A).
    pub fn parse_record(bytes: &[u8]) -> Option<(String, Self)> {
        let mut c = Cursor::new(bytes);
        let path = String::from_utf8_lossy(c.bytes()?).into_owned();
        let n = c.varint()?;
        let mut lengths = Vec::with_capacity((n as usize).min(bytes.len()));
        let mut previous = 0i64;
        for _ in 0..n {
            previous += c.signed()?;
            lengths.push(u32::try_from(previous).ok()?);
        }
        c.is_empty().then_some((path, Self { lengths }))
    }
}

/// One file's place in the position space.
#[derive(Debug, Clone)]
struct FileSpan {
    base: u64,
    /// Offset of each line's start within the file, then the file's size.
    starts: Vec<u64>,
}

impl FileSpan {
    fn size(&self) -> u64 {
        self.starts.last().copied().unwrap_or(0)
    }
}

/// The positions of every file of a trace, in path-id order.
#[derive(Debug, Clone, Default)]
pub struct PositionSpace {
    files: Vec<FileSpan>,
}

impl PositionSpace {
    /// An empty space.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends the next file (path id = the number of files before it).
    pub fn push(&mut self, table: &LineTable) {
        let base = self.files.last().map_or(0, |f| f.base + f.size());
        let mut starts = Vec::with_capacity(table.lengths.len() + 1);
        let mut at = 0u64;
        starts.push(0);
        for &len in &table.lengths {
            at += u64::from(len);
            starts.push(at);
        }
        self.files.push(FileSpan { base, starts });
    }

    /// Files in the space.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether no file was added.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The position of `column` (0-based byte offset) on `line` (1-based) of file `path`,
    /// clamped into the file's table; `None` for an unknown file.
    #[inline]
    pub fn position(&self, path: usize, line: i64, column: u32) -> Option<u64> {
        let f = self.files.get(path)?;
        let lines = f.starts.len() - 1;
        let index = usize::try_from(line.max(1) - 1).unwrap_or(0).min(lines - 1);
        let start = f.starts[index];
        let len = f.starts[index + 1] - start;
        Some(f.base + start + u64::from(column).min(len - 1))
    }

    /// `(path id, line, column)` of a position — line and column 1-based — or `None` past the
    /// last file.
    pub fn locate(&self, position: u64) -> Option<(usize, i64, u32)> {
        let path = self
            .files
            .partition_point(|f| f.base <= position)
            .checked_sub(1)?;
        let f = &self.files[path];
        let within = position - f.base;
        if within >= f.size() {
            return None;
        }
        let line = f.starts.partition_point(|&s| s <= within) - 1;
        let column = within - f.starts[line] + 1;
        Some((
            path,
            line as i64 + 1,
            u32::try_from(column).unwrap_or(u32::MAX),
        ))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn tables_of_text_and_their_records_round_trip() {
        let t = LineTable::of_text(b"def f():\n    return 1\n\nx = f()");
        assert_eq!(t.lengths(), [9, 13, 1, 7]);
        let (path, back) = LineTable::parse_record(&t.record("/a/é.py")).unwrap();
        assert_eq!((path.as_str(), &back), ("/a/é.py", &t));
        assert_eq!(LineTable::of_text(b"").lengths(), [1]);
        assert_eq!(LineTable::conventional(5).lengths().len(), 1005);
        assert!(LineTable::parse_record(b"\x01a").is_none());
    }

    #[test]
    fn positions_locate_back_to_line_and_column_with_clamping() {
        let mut space = PositionSpace::new();
        space.push(&LineTable::of_text(b"ab\ncde\n"));
        space.push(&LineTable::of_text(b"x\n"));
        assert_eq!(space.position(0, 1, 0), Some(0));
        assert_eq!(space.position(0, 2, 2), Some(5));
        assert_eq!(space.position(1, 1, 0), Some(7));
        assert_eq!(space.locate(5), Some((0, 2, 3)));
        assert_eq!(space.locate(7), Some((1, 1, 1)));
        assert_eq!(space.locate(9), None);
        // clamped: a line past the table, a column past the line, line 0
        assert_eq!(space.position(0, 9, 0), space.position(0, 2, 0));
        assert_eq!(space.position(0, 1, 99), Some(2));
        assert_eq!(space.position(0, 0, 0), Some(0));
        assert_eq!(space.position(2, 1, 0), None);
    }
}
