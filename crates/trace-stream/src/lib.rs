//! # codetracer-trace-stream
//!
//! Writes and reads CodeTracer trace directories — the legacy formats the CodeTracer
//! time-travel debugger of 2026 loads through `codetracer_trace_reader` 0.17 — with no Python
//! (or any other runtime) dependency, so any tracer can reuse it:
//!
//! - `trace.bin`: Binary v1 (header `C0 DE 72 AC E2 01 00 00`, CBOR records in a seekable
//!   zstd stream), and `trace.json` (a JSON array, one record per line);
//! - records and values in the shapes of `codetracer_trace_types` 0.16 (`Float.f` as a
//!   string), written straight into bytes on the hot path ([`ValueOut`], [`TraceWriter`]);
//! - id tables (paths, functions, types, variable names), chunked streaming through a
//!   background writer thread with bounded memory, and data made durable against a kill
//!   every [`background::TICK`];
//! - the trace directory ([`TraceDir`]: file names, preparation, atomic JSON, cleanup),
//!   `trace_metadata.json` ([`Metadata`]) and the traces of child processes under
//!   `children/<pid>-<n>/` ([`children`]); every file created without following a planted
//!   symlink, private (`0600`, directories `0700`) unless another mode is asked
//!   ([`create`]);
//! - a streaming reader ([`TraceEvents`]) that also recovers the readable prefix of a file
//!   cut short.
//!
//! ```
//! use codetracer_trace_stream::{Cbor, TraceDir, TraceEvents, TraceFormat, TraceWriter, ValueOut};
//! use codetracer_trace_stream::types::{TypeId, TypeKind, TypeSpecificInfo, ValueRecord};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let tmp = tempfile::tempdir()?;
//! let dir = TraceDir::prepare(tmp.path(), TraceFormat::Binary)?;
//! let mut w = TraceWriter::create(&dir.events, TraceFormat::Binary)?;
//! let path = w.path_id("app.py")?;
//! let main = w.new_function("<toplevel>", path, 1)?;
//! w.call(main, Vec::new())?;
//! let int = w.new_type(TypeKind::Int, "int", TypeSpecificInfo::None)?;
//! w.step(path, 1)?;
//! let x = w.variable_id("x")?;
//! let mut value = ValueOut::<Cbor>::new();
//! value.int(42, int);
//! w.value_bytes(x, value.bytes())?;
//! w.ret(ValueRecord::None { type_id: TypeId(0) })?;
//! let done = w.finish()?;
//! dir.write_paths(&done.paths)?;
//!
//! let events: Vec<_> = TraceEvents::open(tmp.path())?.collect();
//! assert_eq!(events.len() as u64, done.records);
//! # Ok(())
//! # }
//! ```

pub mod background;
pub mod children;
pub mod create;
pub mod ctfs;
pub mod dir;
pub mod encoding;
pub mod error;
pub mod format;
pub mod metadata;
pub mod reader;
pub mod signals;
pub mod sink;
pub mod spawn;
pub mod value;
pub mod writer;
pub mod writer_thread;

/// The record types of the format (`codetracer_trace_types`), re-exported so users of this
/// crate name the same version.
pub use codetracer_trace_types as types;

pub use children::{child_dirs, clear_children, create_child_dir, ChildDir, CHILDREN};
pub use create::{dir_mode, PRIVATE_FILE_MODE};
pub use ctfs::writer::RecordingInfo;
pub use dir::{write_json, write_json_atomic, TraceDir};
pub use encoding::{Cbor, Encoding, Json};
pub use error::{ErrorKind, Result, TraceStreamError};
pub use format::TraceFormat;
pub use metadata::{ExitStatus, Metadata, RecorderInfo};
pub use reader::{events_file, read_events, ReadMode, TraceEvents};
pub use sink::TraceSink;
pub use value::{Shape, ValueOut};
pub use writer::{Finished, TraceWriter};
