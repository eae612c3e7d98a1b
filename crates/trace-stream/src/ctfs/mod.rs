//! # CTFS: the `.ct` container the CodeTracer debugger prefers
//!
//! The third encoding of this crate ([`crate::TraceFormat::Ctfs`]): one container file
//! (`trace.ct`) of 4096-byte blocks holding internal files, read by the debugger on demand.
//! What it holds, and who reads what:
//!
//! | internal file | content | read by |
//! |---|---|---|
//! | `meta.dat` | version 3: recording id (UUIDv7), program, args, workdir, recorder id, paths, flags ([`meta`]); republished at every tick | debugger |
//! | `paths`, `funcs`, `types`, `varnames` `.dat` + `.off` | the interning tables: bare records + N+1 u64 offsets; a path's record carries its line lengths ([`lines`]) | debugger, this crate |
//! | `steps`, `values`, `calls`, `events` `.dat` + `.idx` | the streams, zstd chunks of a fixed number of records ([`records`]) | debugger |
//! | `journal.dat` + `.idx` | declarations, calls and returns in record order ([`journal`]) | this crate |
//! | `tail.dat` | the unsealed chunks at the last writer tick ([`tail`]; only while recording) | this crate |
//!
//! Writing ([`writer::CtfsWriter`], behind [`crate::TraceWriter`]): the recording thread
//! encodes records into raw chunks; full chunks, table entries and (every
//! [`crate::background::TICK`]) the partial chunks go to a writer thread ([`output`]) that
//! compresses them and writes them into the container, publishing the directory after
//! each tick. `calls.dat` needs every call's exit and children, so the writer thread builds
//! it from the journal chunks as they arrive ([`calls`]) and republishes it at every tick
//! from block-aligned pieces, the chunks of calls still open encoded as if they ended at the
//! last sealed step ([`calls_layout`]), so a killed process's container opens in the
//! debugger with its call tree. Reading ([`reader::CtfsEvents`],
//! behind [`crate::TraceEvents`]) merges the journal with `steps.dat`/`values.dat` back
//! into the records of the binary format.

pub mod base40;
pub mod calls;
pub mod calls_layout;
pub mod chunks;
pub mod container;
pub mod container_read;
pub mod journal;
pub mod lines;
pub mod meta;
pub mod output;
pub mod pio;
pub mod reader;
pub mod records;
pub mod stacks;
pub mod tail;
pub mod uuid;
pub mod varint;
pub mod writer;

/// The metadata file.
pub const META: &str = "meta.dat";
/// The calls stream (republished at every tick, completed at the end).
pub const CALLS: (&str, &str) = ("calls.dat", "calls.idx");
/// Records per `calls.dat` chunk.
pub const CALLS_CHUNK: u32 = 1024;
/// The partial chunks at the last tick.
pub const TAIL: &str = "tail.dat";
/// zstd level of every chunk (the writer thread's time is the bottleneck on value-heavy
/// code, as for `trace.bin`).
pub const LEVEL: i32 = 1;
/// Raw bytes of sealed chunks the recording thread collects before handing them over in
/// one batch (fewer, larger hand-overs; the tick hands over whatever is there).
pub const BATCH_BYTES: usize = 256 * 1024;
/// Raw journal bytes that seal a journal chunk between ticks.
pub const JOURNAL_CHUNK_BYTES: usize = 256 * 1024;
/// The first values chunk is sealed at this many records or [`VALUES_TARGET_BYTES`],
/// whichever comes first, and fixes the records of every values chunk: small values make
/// chunks of many steps (they compress better), large ones chunks of few (memory and the
/// tail's copy stay bounded).
pub const VALUES_MAX_RECORDS: u32 = 4096;
/// See [`VALUES_MAX_RECORDS`].
pub const VALUES_TARGET_BYTES: usize = 1 << 20;

/// The interning tables, in directory order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// `paths.dat` / `paths.off` (Layout A records: path + line lengths).
    Paths,
    /// `funcs.dat` / `funcs.off` (function names).
    Funcs,
    /// `types.dat` / `types.off` (type names).
    Types,
    /// `varnames.dat` / `varnames.off` (variable names).
    Varnames,
}

impl Table {
    /// Every table.
    pub const ALL: [Table; 4] = [Table::Paths, Table::Funcs, Table::Types, Table::Varnames];

    /// `(records, offsets)` file names.
    pub fn files(self) -> (&'static str, &'static str) {
        match self {
            Table::Paths => ("paths.dat", "paths.off"),
            Table::Funcs => ("funcs.dat", "funcs.off"),
            Table::Types => ("types.dat", "types.off"),
            Table::Varnames => ("varnames.dat", "varnames.off"),
        }
    }
}

/// The chunked streams written while recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// `steps.dat` / `steps.idx`.
    Steps,
    /// `values.dat` / `values.idx` (record N ↔ step N).
    Values,
    /// `events.dat` / `events.idx`.
    Events,
    /// `journal.dat` / `journal.idx` (this crate's; chunks of any length).
    Journal,
}

impl Stream {
    /// Every stream.
    pub const ALL: [Stream; 4] = [
        Stream::Steps,
        Stream::Values,
        Stream::Events,
        Stream::Journal,
    ];

    /// `(chunks, index)` file names.
    pub fn files(self) -> (&'static str, &'static str) {
        match self {
            Stream::Steps => ("steps.dat", "steps.idx"),
            Stream::Values => ("values.dat", "values.idx"),
            Stream::Events => ("events.dat", "events.idx"),
            Stream::Journal => ("journal.dat", "journal.idx"),
        }
    }

    /// Records per chunk, when fixed in advance (`values`: by its first chunk, see
    /// [`VALUES_MAX_RECORDS`]; the journal's chunks hold any number: its index says
    /// `u32::MAX`).
    pub fn chunk_records(self) -> Option<u32> {
        match self {
            Stream::Steps => Some(4096),
            Stream::Values => None,
            Stream::Events => Some(64),
            Stream::Journal => Some(u32::MAX),
        }
    }

    /// Position in [`Self::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}
