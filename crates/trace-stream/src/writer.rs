//! [`TraceWriter`]: the id tables of one trace (paths, variable names, functions, types) and
//! the record emission in the order the format requires — every id declared before the
//! record that uses it — over a streaming [`TraceSink`].
//!
//! Hot records (`Step`, `Value`, `Call`, `Return`) are written from value bytes a
//! [`crate::ValueOut`] of the same format produced; the rest go through serde.

use std::collections::HashMap;
use std::path::Path;

use codetracer_trace_types::{
    CallRecord, EventLogKind, FullValueRecord, FunctionId, FunctionRecord, Line, PathId,
    RecordEvent, ReturnRecord, ThreadId, TraceLowLevelEvent, TypeId, TypeKind, TypeRecord,
    TypeSpecificInfo, ValueRecord, VariableId,
};

use crate::encoding::{Cbor, Encoding, Json};
use crate::error::Result;
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
        }
    };
}

/// The first line of a file. No record carries a line before it: CodeTracer's line
/// numbers start at 1 (an empty module's code reports line 0).
const FIRST_LINE: i64 = 1;

/// Id tables plus the sink they write to.
pub struct TraceWriter {
    sink: TraceSink,
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
        Ok(Self::new(TraceSink::create(path, format)?))
    }

    /// Creates the events file at `path` in `format` with file mode `mode` and starts
    /// streaming into it.
    pub fn create_with_mode(path: &Path, format: TraceFormat, mode: u32) -> Result<Self> {
        Ok(Self::new(TraceSink::create_with_mode(path, format, mode)?))
    }

    /// Wraps a fresh sink.
    pub fn new(sink: TraceSink) -> Self {
        Self {
            sink,
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
        self.sink.records()
    }

    /// Steps written so far.
    #[inline]
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// The format of the events file (value bytes must be encoded in it).
    pub fn format(&self) -> TraceFormat {
        self.sink.format()
    }

    /// Paths in `PathId` order (the content of `trace_paths.json`).
    pub fn path_list(&self) -> &[String] {
        &self.path_list
    }

    /// The id of `path`, emitting a `Path` record the first time.
    pub fn path_id(&mut self, path: &str) -> Result<PathId> {
        if let Some(id) = self.paths.get(path) {
            return Ok(*id);
        }
        let id = PathId(self.path_list.len());
        self.sink.emit(&TraceLowLevelEvent::Path(path.into()))?;
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
        self.sink
            .emit(&TraceLowLevelEvent::VariableName(name.to_owned()))?;
        self.variables.insert(name.to_owned(), id);
        Ok(id)
    }

    /// Declares a new function. Functions are never merged by name (two `helper`s in two
    /// modules are two functions): the caller keys them by its own identity.
    pub fn new_function(&mut self, name: &str, path_id: PathId, line: i64) -> Result<FunctionId> {
        let id = FunctionId(self.functions);
        self.sink
            .emit(&TraceLowLevelEvent::Function(FunctionRecord {
                path_id,
                line: Line(line.max(FIRST_LINE)),
                name: name.to_owned(),
            }))?;
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
        self.sink.emit(&TraceLowLevelEvent::Type(TypeRecord {
            kind,
            lang_type: lang_type.to_owned(),
            specific_info: info,
        }))?;
        self.types += 1;
        Ok(id)
    }

    /// A `Step` (a line before the first is written as the first line).
    #[inline]
    pub fn step(&mut self, path_id: PathId, line: i64) -> Result<()> {
        self.steps += 1;
        let line = line.max(FIRST_LINE);
        with_encoding!(self.sink.format(), E => self.sink.push::<E>(|out| {
            E::step_record(out, path_id.0, line);
            Ok(())
        }))
    }

    /// A `Value` of a variable at the current step, from value bytes.
    #[inline]
    pub fn value_bytes(&mut self, variable_id: VariableId, value: &[u8]) -> Result<()> {
        with_encoding!(self.sink.format(), E => self.sink.push::<E>(|out| {
            E::value_record(out, variable_id.0, value);
            Ok(())
        }))
    }

    /// A `Return`, from value bytes.
    pub fn ret_bytes(&mut self, value: &[u8]) -> Result<()> {
        with_encoding!(self.sink.format(), E => self.sink.push::<E>(|out| {
            E::return_record(out, value);
            Ok(())
        }))
    }

    /// A `Call` whose argument values are value bytes (the caller emits the callee's
    /// definition-line `Step` first).
    pub fn call_bytes(
        &mut self,
        function_id: FunctionId,
        args: &[(VariableId, &[u8])],
    ) -> Result<()> {
        with_encoding!(self.sink.format(), E => self.sink.push::<E>(|out| {
            E::call_record(out, function_id.0, args);
            Ok(())
        }))
    }

    /// A `Call`.
    pub fn call(&mut self, function_id: FunctionId, args: Vec<FullValueRecord>) -> Result<()> {
        self.sink
            .emit(&TraceLowLevelEvent::Call(CallRecord { function_id, args }))
    }

    /// A `Return`.
    pub fn ret(&mut self, return_value: ValueRecord) -> Result<()> {
        self.sink
            .emit(&TraceLowLevelEvent::Return(ReturnRecord { return_value }))
    }

    /// A `Value` of a variable at the current step.
    pub fn value(&mut self, variable_id: VariableId, value: ValueRecord) -> Result<()> {
        self.sink.emit(&TraceLowLevelEvent::Value(FullValueRecord {
            variable_id,
            value,
        }))
    }

    /// An `Event` (IO, error) attached to the current step.
    pub fn event(&mut self, kind: EventLogKind, metadata: String, content: String) -> Result<()> {
        self.sink.emit(&TraceLowLevelEvent::Event(RecordEvent {
            kind,
            metadata,
            content,
        }))
    }

    /// `ThreadStart`.
    pub fn thread_start(&mut self, id: u64) -> Result<()> {
        self.sink
            .emit(&TraceLowLevelEvent::ThreadStart(ThreadId(id)))
    }

    /// `ThreadSwitch`.
    pub fn thread_switch(&mut self, id: u64) -> Result<()> {
        self.sink
            .emit(&TraceLowLevelEvent::ThreadSwitch(ThreadId(id)))
    }

    /// `ThreadExit`.
    pub fn thread_exit(&mut self, id: u64) -> Result<()> {
        self.sink
            .emit(&TraceLowLevelEvent::ThreadExit(ThreadId(id)))
    }

    /// Pushes everything written so far into the file.
    pub fn flush(&mut self) -> Result<()> {
        self.sink.flush()
    }

    /// Ends the writer thread before a `fork()` (see [`TraceSink::park`]).
    pub fn park(&mut self) -> Result<()> {
        self.sink.park()
    }

    /// Restarts the writer thread after a `fork()`, in the parent.
    pub fn resume(&mut self) -> Result<()> {
        self.sink.resume()
    }

    /// Restarts the writer thread at the next record (see [`TraceSink::resume_at_next_record`]).
    pub fn resume_at_next_record(&self) {
        self.sink.resume_at_next_record();
    }

    /// Ends the events file.
    pub fn finish(self) -> Result<Finished> {
        let steps = self.steps;
        let (records, bytes) = self.sink.finish()?;
        Ok(Finished {
            records,
            steps,
            bytes,
            paths: self.path_list,
        })
    }
}
