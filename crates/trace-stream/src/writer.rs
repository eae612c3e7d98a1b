//! [`TraceWriter`]: the id tables of one trace (paths, variable names, functions, types) and
//! the record emission in the order the format requires — every id declared before the
//! record that uses it — over a streaming [`TraceSink`] (`trace.bin`, `trace.json`) or a
//! [`CtfsWriter`] (`trace.ct`).
//!
//! Hot records (`Step`, `Value`, `Call`, `Return`) are written from value bytes a
//! [`crate::ValueOut`] of the same format produced (CBOR for `trace.bin` and `trace.ct`);
//! the rest go through serde.

use std::collections::HashMap;
use std::path::Path;

use codetracer_trace_types::{
    CallRecord, EventLogKind, FullValueRecord, FunctionId, FunctionRecord, Line, PathId,
    RecordEvent, ReturnRecord, ThreadId, TraceLowLevelEvent, TypeId, TypeKind, TypeRecord,
    TypeSpecificInfo, ValueRecord, VariableId,
};

use crate::create::PRIVATE_FILE_MODE;
use crate::ctfs::writer::{CtfsWriter, RecordingInfo};
use crate::encoding::{Cbor, Encoding, Json};
use crate::error::{ErrorKind, Result, TraceStreamError};
use crate::format::TraceFormat;
use crate::sink::TraceSink;

/// Runs `$body` with `$E` bound to the [`Encoding`] of `$format`.
macro_rules! with_encoding {
    ($format:expr, $E:ident => $body:expr) => {
        match $format {
            TraceFormat::Binary => {
                type $E = Cbor;
                $body
            }
            TraceFormat::Json => {
                type $E = Json;
                $body
            }
            // A sink never has this format (its records go to a `CtfsWriter`).
            TraceFormat::Ctfs => {
                type $E = Cbor;
                $body
            }
        }
    };
}

/// The first line of a file. No record carries a line before it: CodeTracer's line
/// numbers start at 1 (an empty module's code reports line 0).
const FIRST_LINE: i64 = 1;

/// Where the records go.
enum Backend {
    /// `trace.bin` / `trace.json`.
    Sink(TraceSink),
    /// `trace.ct`.
    Ctfs(Box<CtfsWriter>),
}

/// Id tables plus the sink they write to.
pub struct TraceWriter {
    backend: Backend,
    paths: HashMap<String, PathId>,
    path_list: Vec<String>,
    variables: HashMap<String, VariableId>,
    functions: usize,
    types: usize,
    steps: u64,
}

/// What a finished events file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    /// Records written.
    pub records: u64,
    /// Steps among them.
    pub steps: u64,
    /// Bytes of the events file.
    pub bytes: u64,
    /// The path table (index = `PathId`; the content of `trace_paths.json`).
    pub paths: Vec<String>,
}

impl TraceWriter {
    /// Creates the events file at `path` in `format` (a private file) and starts streaming
    /// into it.
    pub fn create(path: &Path, format: TraceFormat) -> Result<Self> {
        Self::create_with_mode(path, format, PRIVATE_FILE_MODE)
    }

    /// Creates the events file at `path` in `format` with file mode `mode` and starts
    /// streaming into it.
    pub fn create_with_mode(path: &Path, format: TraceFormat, mode: u32) -> Result<Self> {
        Self::create_with(path, format, mode, &RecordingInfo::default())
    }

    /// As [`Self::create_with_mode`], with what a CTFS container's `meta.dat` says about the
    /// recording (the other formats keep it in `trace_metadata.json`).
    pub fn create_with(
        path: &Path,
        format: TraceFormat,
        mode: u32,
        info: &RecordingInfo,
    ) -> Result<Self> {
        let backend = match format {
            TraceFormat::Ctfs => Backend::Ctfs(Box::new(CtfsWriter::create(path, mode, info)?)),
            _ => Backend::Sink(TraceSink::create_with_mode(path, format, mode)?),
        };
        Ok(Self::with_backend(backend))
    }

    /// As [`Self::create_with`] for a short trace, one of many in a process (one per test):
    /// the `trace.bin`/`trace.json` writer thread starts only when needed
    /// ([`TraceSink::create_deferred`]); `trace.ct` is written as by `create_with`.
    pub fn create_deferred(
        path: &Path,
        format: TraceFormat,
        mode: u32,
        info: &RecordingInfo,
    ) -> Result<Self> {
        match format {
            TraceFormat::Ctfs => Self::create_with(path, format, mode, info),
            _ => Ok(Self::new(TraceSink::create_deferred(path, format, mode)?)),
        }
    }

    /// Wraps a fresh sink.
    pub fn new(sink: TraceSink) -> Self {
        Self::with_backend(Backend::Sink(sink))
    }

    fn with_backend(backend: Backend) -> Self {
        Self {
            backend,
            paths: HashMap::new(),
            path_list: Vec::new(),
            variables: HashMap::new(),
            functions: 0,
            types: 0,
            steps: 0,
        }
    }

    /// Records written so far.
    pub fn records(&self) -> u64 {
        match &self.backend {
            Backend::Sink(s) => s.records(),
            Backend::Ctfs(w) => w.records(),
        }
    }

    /// Steps written so far.
    #[inline]
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// The format of the events file (value bytes must be encoded in it: CBOR, as
    /// [`Cbor`] writes it, for `trace.bin` and `trace.ct`).
    pub fn format(&self) -> TraceFormat {
        match &self.backend {
            Backend::Sink(s) => s.format(),
            Backend::Ctfs(_) => TraceFormat::Ctfs,
        }
    }

    /// Paths in `PathId` order (the content of `trace_paths.json`).
    pub fn path_list(&self) -> &[String] {
        &self.path_list
    }

    /// The id of `path`, emitting a `Path` record the first time.
    pub fn path_id(&mut self, path: &str) -> Result<PathId> {
        self.path_id_hinted(path, 0)
    }

    /// As [`Self::path_id`]; `max_line` (the last line the caller knows the file has) sizes
    /// a CTFS line table when the file's text cannot be read.
    pub fn path_id_hinted(&mut self, path: &str, max_line: u32) -> Result<PathId> {
        if let Some(id) = self.paths.get(path) {
            return Ok(*id);
        }
        let id = PathId(self.path_list.len());
        match &mut self.backend {
            Backend::Sink(s) => s.emit(&TraceLowLevelEvent::Path(path.into()))?,
            Backend::Ctfs(w) => w.path(path, max_line)?,
        }
        self.paths.insert(path.to_owned(), id);
        self.path_list.push(path.to_owned());
        Ok(id)
    }

    /// The id of a variable name, emitting a `VariableName` record the first time.
    pub fn variable_id(&mut self, name: &str) -> Result<VariableId> {
        if let Some(id) = self.variables.get(name) {
            return Ok(*id);
        }
        let id = VariableId(self.variables.len());
        match &mut self.backend {
            Backend::Sink(s) => s.emit(&TraceLowLevelEvent::VariableName(name.to_owned()))?,
            Backend::Ctfs(w) => w.variable(name)?,
        }
        self.variables.insert(name.to_owned(), id);
        Ok(id)
    }

    /// Declares a new function. Functions are never merged by name (two `helper`s in two
    /// modules are two functions): the caller keys them by its own identity.
    pub fn new_function(&mut self, name: &str, path_id: PathId, line: i64) -> Result<FunctionId> {
        let id = FunctionId(self.functions);
        let line = line.max(FIRST_LINE);
        match &mut self.backend {
            Backend::Sink(s) => s.emit(&TraceLowLevelEvent::Function(FunctionRecord {
                path_id,
                line: Line(line),
                name: name.to_owned(),
            }))?,
            Backend::Ctfs(w) => w.function(name, path_id.0, line)?,
        }
        self.functions += 1;
        Ok(id)
    }

    /// Declares a new type and returns its id.
    pub fn new_type(
        &mut self,
        kind: TypeKind,
        lang_type: &str,
        info: TypeSpecificInfo,
    ) -> Result<TypeId> {
        let id = TypeId(self.types);
        let record = TypeRecord {
            kind,
            lang_type: lang_type.to_owned(),
            specific_info: info,
        };
        match &mut self.backend {
            Backend::Sink(s) => s.emit(&TraceLowLevelEvent::Type(record))?,
            Backend::Ctfs(w) => w.type_record(&record)?,
        }
        self.types += 1;
        Ok(id)
    }

    /// A `Step` (a line before the first is written as the first line).
    #[inline]
    pub fn step(&mut self, path_id: PathId, line: i64) -> Result<()> {
        self.step_at(path_id, line, 0)
    }

    /// A `Step` at `column` (0-based UTF-8 byte offset into the line); only `trace.ct` keeps
    /// the column.
    #[inline]
    pub fn step_at(&mut self, path_id: PathId, line: i64, column: u32) -> Result<()> {
        self.steps += 1;
        let line = line.max(FIRST_LINE);
        match &mut self.backend {
            Backend::Sink(sink) => with_encoding!(sink.format(), E => sink.push::<E>(|out| {
                E::step_record(out, path_id.0, line);
                Ok(())
            })),
            Backend::Ctfs(w) => w.step(path_id.0, line, column),
        }
    }

    /// A `Value` of a variable at the current step, from value bytes.
    #[inline]
    pub fn value_bytes(&mut self, variable_id: VariableId, value: &[u8]) -> Result<()> {
        match &mut self.backend {
            Backend::Sink(sink) => with_encoding!(sink.format(), E => sink.push::<E>(|out| {
                E::value_record(out, variable_id.0, value);
                Ok(())
            })),
            Backend::Ctfs(w) => w.value(variable_id.0, value),
        }
    }

    /// A `Return`, from value bytes.
    pub fn ret_bytes(&mut self, value: &[u8]) -> Result<()> {
        match &mut self.backend {
            Backend::Sink(sink) => with_encoding!(sink.format(), E => sink.push::<E>(|out| {
                E::return_record(out, value);
                Ok(())
            })),
            Backend::Ctfs(w) => w.ret(value, false),
        }
    }

    /// A `Return` of a call left by an exception (`value` is the exception); `trace.ct`
    /// keeps it as the call's exception, the other formats as its return value.
    pub fn unwind_bytes(&mut self, value: &[u8]) -> Result<()> {
        match &mut self.backend {
            Backend::Ctfs(w) => w.ret(value, true),
            Backend::Sink(_) => self.ret_bytes(value),
        }
    }

    /// A `Call` whose argument values are value bytes (the caller emits the callee's
    /// definition-line `Step` first).
    pub fn call_bytes(
        &mut self,
        function_id: FunctionId,
        args: &[(VariableId, &[u8])],
    ) -> Result<()> {
        match &mut self.backend {
            Backend::Sink(sink) => with_encoding!(sink.format(), E => sink.push::<E>(|out| {
                E::call_record(out, function_id.0, args);
                Ok(())
            })),
            Backend::Ctfs(w) => w.call(function_id.0, args),
        }
    }

    /// A `Call`.
    pub fn call(&mut self, function_id: FunctionId, args: Vec<FullValueRecord>) -> Result<()> {
        match &mut self.backend {
            Backend::Sink(s) => s.emit(&TraceLowLevelEvent::Call(CallRecord { function_id, args })),
            Backend::Ctfs(w) => {
                let encoded = args
                    .iter()
                    .map(|a| Ok((a.variable_id, cbor(&a.value)?)))
                    .collect::<Result<Vec<_>>>()?;
                let refs: Vec<(VariableId, &[u8])> =
                    encoded.iter().map(|(id, v)| (*id, v.as_slice())).collect();
                w.call(function_id.0, &refs)
            }
        }
    }

    /// A `Return`.
    pub fn ret(&mut self, return_value: ValueRecord) -> Result<()> {
        match &mut self.backend {
            Backend::Sink(s) => s.emit(&TraceLowLevelEvent::Return(ReturnRecord { return_value })),
            Backend::Ctfs(w) => w.ret(&cbor(&return_value)?, false),
        }
    }

    /// A `Value` of a variable at the current step.
    pub fn value(&mut self, variable_id: VariableId, value: ValueRecord) -> Result<()> {
        match &mut self.backend {
            Backend::Sink(s) => s.emit(&TraceLowLevelEvent::Value(FullValueRecord {
                variable_id,
                value,
            })),
            Backend::Ctfs(w) => w.value(variable_id.0, &cbor(&value)?),
        }
    }

    /// An `Event` (IO, error) attached to the current step.
    pub fn event(&mut self, kind: EventLogKind, metadata: String, content: String) -> Result<()> {
        match &mut self.backend {
            Backend::Sink(s) => s.emit(&TraceLowLevelEvent::Event(RecordEvent {
                kind,
                metadata,
                content,
            })),
            Backend::Ctfs(w) => w.event(kind as u8, &metadata, &content),
        }
    }

    /// `ThreadStart`.
    pub fn thread_start(&mut self, id: u64) -> Result<()> {
        match &mut self.backend {
            Backend::Sink(s) => s.emit(&TraceLowLevelEvent::ThreadStart(ThreadId(id))),
            Backend::Ctfs(w) => w.thread_start(id),
        }
    }

    /// `ThreadSwitch`.
    pub fn thread_switch(&mut self, id: u64) -> Result<()> {
        match &mut self.backend {
            Backend::Sink(s) => s.emit(&TraceLowLevelEvent::ThreadSwitch(ThreadId(id))),
            Backend::Ctfs(w) => w.thread_switch(id),
        }
    }

    /// `ThreadExit`.
    pub fn thread_exit(&mut self, id: u64) -> Result<()> {
        match &mut self.backend {
            Backend::Sink(s) => s.emit(&TraceLowLevelEvent::ThreadExit(ThreadId(id))),
            Backend::Ctfs(w) => w.thread_exit(id),
        }
    }

    /// Pushes everything written so far into the file.
    pub fn flush(&mut self) -> Result<()> {
        match &mut self.backend {
            Backend::Sink(s) => s.flush(),
            Backend::Ctfs(w) => w.flush(),
        }
    }

    /// Ends the writer thread before a `fork()` (see [`TraceSink::park`]).
    pub fn park(&mut self) -> Result<()> {
        match &mut self.backend {
            Backend::Sink(s) => s.park(),
            Backend::Ctfs(w) => w.park(),
        }
    }

    /// Restarts the writer thread after a `fork()`, in the parent.
    pub fn resume(&mut self) -> Result<()> {
        match &mut self.backend {
            Backend::Sink(s) => s.resume(),
            Backend::Ctfs(w) => w.resume(),
        }
    }

    /// Restarts the writer thread at the next record (see [`TraceSink::resume_at_next_record`]).
    pub fn resume_at_next_record(&self) {
        match &self.backend {
            Backend::Sink(s) => s.resume_at_next_record(),
            Backend::Ctfs(w) => w.resume_at_next_record(),
        }
    }

    /// Ends the events file.
    pub fn finish(self) -> Result<Finished> {
        let steps = self.steps;
        let (records, bytes) = match self.backend {
            Backend::Sink(s) => s.finish()?,
            Backend::Ctfs(w) => {
                let (records, _, bytes, _) = w.finish()?;
                (records, bytes)
            }
        };
        Ok(Finished {
            records,
            steps,
            bytes,
            paths: self.path_list,
        })
    }
}

/// The CBOR bytes of a value (the shape `ValueOut<Cbor>` writes).
fn cbor(value: &ValueRecord) -> Result<Vec<u8>> {
    cbor4ii::serde::to_vec(Vec::new(), value).map_err(|e| {
        TraceStreamError::new(ErrorKind::Encode, format!("cannot encode a value: {e}"))
    })
}
