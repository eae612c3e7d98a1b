//! [`Records`]: the id tables of one trace (paths, variable names, functions, types) and the
//! helpers that emit records in the order the format requires (every id declared before use).

use std::collections::HashMap;

use runtime_tracing::{
    CallRecord, EventLogKind, FullValueRecord, FunctionId, FunctionRecord, Line, PathId,
    RecordEvent, ReturnRecord, ThreadId, TraceLowLevelEvent, TypeId, TypeKind, TypeRecord,
    TypeSpecificInfo, ValueRecord, VariableId,
};

use super::sink::{TraceFormat, TraceSink};
use super::value_out::{
    write_call_record, write_return_record, write_step_record, write_value_record,
};
use crate::errors::RecorderFailure;

/// Id tables plus the sink they write to.
pub struct Records {
    sink: TraceSink,
    paths: HashMap<String, PathId>,
    path_list: Vec<String>,
    variables: HashMap<String, VariableId>,
    functions: usize,
    types: usize,
    steps: u64,
}

impl Records {
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
    pub fn events(&self) -> u64 {
        self.sink.events()
    }

    /// Steps written so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Paths in `PathId` order (the content of `trace_paths.json`).
    pub fn path_list(&self) -> &[String] {
        &self.path_list
    }

    /// The id of `path`, emitting a `Path` record the first time.
    pub fn path_id(&mut self, path: &str) -> Result<PathId, RecorderFailure> {
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
    pub fn variable_id(&mut self, name: &str) -> Result<VariableId, RecorderFailure> {
        if let Some(id) = self.variables.get(name) {
            return Ok(*id);
        }
        let id = VariableId(self.variables.len());
        self.sink
            .emit(&TraceLowLevelEvent::VariableName(name.to_owned()))?;
        self.variables.insert(name.to_owned(), id);
        Ok(id)
    }

    /// Declares a new function (never merged by name: the caller keys functions by code object).
    pub fn new_function(
        &mut self,
        name: &str,
        path_id: PathId,
        line: i64,
    ) -> Result<FunctionId, RecorderFailure> {
        let id = FunctionId(self.functions);
        self.sink
            .emit(&TraceLowLevelEvent::Function(FunctionRecord {
                path_id,
                line: Line(line),
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
    ) -> Result<TypeId, RecorderFailure> {
        let id = TypeId(self.types);
        self.sink.emit(&TraceLowLevelEvent::Type(TypeRecord {
            kind,
            lang_type: lang_type.to_owned(),
            specific_info: info,
        }))?;
        self.types += 1;
        Ok(id)
    }

    /// A `Step`.
    #[inline]
    pub fn step(&mut self, path_id: PathId, line: i64) -> Result<(), RecorderFailure> {
        self.steps += 1;
        self.sink
            .emit_with(|out, format| write_step_record(out, format, path_id.0, line))
    }

    /// The format of the events file (values must be encoded in it).
    pub fn format(&self) -> TraceFormat {
        self.sink.format()
    }

    /// A `Value` whose value bytes were written by a [`super::value_out::ValueOut`].
    #[inline]
    pub fn value_bytes(
        &mut self,
        variable_id: VariableId,
        value: &[u8],
    ) -> Result<(), RecorderFailure> {
        self.sink
            .emit_with(|out, format| write_value_record(out, format, variable_id, value))
    }

    /// A `Return` whose value bytes were written by a [`super::value_out::ValueOut`].
    pub fn ret_bytes(&mut self, value: &[u8]) -> Result<(), RecorderFailure> {
        self.sink
            .emit_with(|out, format| write_return_record(out, format, value))
    }

    /// A `Call` whose argument values were written by a [`super::value_out::ValueOut`].
    pub fn call_bytes(
        &mut self,
        function_id: FunctionId,
        args: &[(VariableId, &[u8])],
    ) -> Result<(), RecorderFailure> {
        self.sink
            .emit_with(|out, format| write_call_record(out, format, function_id.0, args))
    }

    /// A `Call` (the caller emits the callee's definition-line `Step` first).
    pub fn call(
        &mut self,
        function_id: FunctionId,
        args: Vec<FullValueRecord>,
    ) -> Result<(), RecorderFailure> {
        self.sink
            .emit(&TraceLowLevelEvent::Call(CallRecord { function_id, args }))
    }

    /// A `Return`.
    pub fn ret(&mut self, return_value: ValueRecord) -> Result<(), RecorderFailure> {
        self.sink
            .emit(&TraceLowLevelEvent::Return(ReturnRecord { return_value }))
    }

    /// A `Value` of a variable at the current step.
    #[inline]
    pub fn value(
        &mut self,
        variable_id: VariableId,
        value: ValueRecord,
    ) -> Result<(), RecorderFailure> {
        self.sink.emit(&TraceLowLevelEvent::Value(FullValueRecord {
            variable_id,
            value,
        }))
    }

    /// An `Event` (IO, error) attached to the current step.
    pub fn event(
        &mut self,
        kind: EventLogKind,
        metadata: String,
        content: String,
    ) -> Result<(), RecorderFailure> {
        self.sink.emit(&TraceLowLevelEvent::Event(RecordEvent {
            kind,
            metadata,
            content,
        }))
    }

    /// `ThreadStart`.
    pub fn thread_start(&mut self, id: u64) -> Result<(), RecorderFailure> {
        self.sink
            .emit(&TraceLowLevelEvent::ThreadStart(ThreadId(id)))
    }

    /// `ThreadSwitch`.
    pub fn thread_switch(&mut self, id: u64) -> Result<(), RecorderFailure> {
        self.sink
            .emit(&TraceLowLevelEvent::ThreadSwitch(ThreadId(id)))
    }

    /// `ThreadExit`.
    pub fn thread_exit(&mut self, id: u64) -> Result<(), RecorderFailure> {
        self.sink
            .emit(&TraceLowLevelEvent::ThreadExit(ThreadId(id)))
    }

    /// Pushes everything written so far to the file.
    pub fn flush(&mut self) -> Result<(), RecorderFailure> {
        self.sink.flush()
    }

    /// Ends the events file: (records, bytes, paths).
    pub fn finish(self) -> Result<(u64, u64, Vec<String>), RecorderFailure> {
        let (events, bytes) = self.sink.finish()?;
        Ok((events, bytes, self.path_list))
    }
}
