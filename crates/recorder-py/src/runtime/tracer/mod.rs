//! [`RuntimeTracer`]: turns sys.monitoring events into trace records.
//!
//! `mod.rs` holds the state and its lifecycle (begin, flush, finish); `events.rs` the
//! [`Tracer`](codetracer_monitoring::Tracer) implementation (one handler per event);
//! `recording.rs` the record-writing steps the handlers share; `io_events.rs` the IO events
//! of the captured standard streams; `value_stats.rs` the counters of the values written.

mod events;
mod io_events;
mod recording;
mod value_stats;

pub use io_events::{IoOrigin, IoStream};
pub use value_stats::ValueStats;

use std::path::PathBuf;
use std::time::Instant;

use codetracer_module_identity::ModuleIdentityResolver;
use codetracer_monitoring::{EventSet, MonitoringEvents, ToolId};
use codetracer_policy::ValueLimits;
use codetracer_trace_stream::types::{EventLogKind, FunctionId, TypeId, ValueRecord};
use pyo3::prelude::*;

use super::activation::Activation;
use super::code_info::CodeInfo;
use super::id_hash::IdHashMap;
use super::scope::{stricter, Scope};
use super::threads::ThreadStacks;
use super::types::{Fixed, TypeRegistry};
use super::value_encoder::FormatEncoder;
use crate::errors::RecorderFailure;
use codetracer_trace_stream::{RecordingInfo, TraceDir, TraceFormat, TraceWriter};

/// Everything a recording needs to know at start.
pub struct TracerConfig {
    /// The tool id the tracer is installed under (for local events).
    pub tool: ToolId,
    /// The trace files.
    pub paths: TraceDir,
    /// Events file format.
    pub format: TraceFormat,
    /// The program, its arguments, workdir and recorder (a `.ct` container's `meta.dat`).
    pub recording: RecordingInfo,
    /// The program recorded (its path, for the toplevel function).
    pub program: String,
    /// Recording starts when this file's code first runs (`None`: immediately).
    pub activation_path: Option<PathBuf>,
    /// Which code is recorded, and what happens to values (the compiled filters).
    pub scope: Scope,
    /// Value capture bounds.
    pub limits: ValueLimits,
    /// Whether module code is named from its globals (`__spec__.name` / `__name__`).
    pub module_name_from_globals: bool,
}

/// What a finished recording produced.
#[derive(Debug, Clone)]
pub struct FinishSummary {
    /// TraceWriter written.
    pub events: u64,
    /// Bytes of the events file.
    pub bytes: u64,
    /// Steps written.
    pub steps: u64,
    /// What the values written carried (nodes, bytes, reuse).
    pub values: ValueStats,
    /// Path table.
    pub paths: Vec<String>,
    /// The `trace_filter` metadata block (chain and counters).
    pub filter: serde_json::Value,
    /// Where the activation gate ended (`waiting`, `active`, `done`); `None` without an
    /// activation path.
    pub activation: Option<&'static str>,
    /// Whether the filters skip the activation file (the gate opened at skipped code).
    pub activation_skipped: bool,
}

/// The `trace_metadata.json` field of a finished recording's counters
/// ([`FinishSummary::counters_json`]).
pub const COUNTERS_FIELD: &str = "counters";

impl FinishSummary {
    /// `{"events", "steps", "values": {...}}`: the counters of the finish summary that
    /// `trace_metadata.json` keeps too (the benchmarks read them per step).
    pub fn counters_json(&self) -> serde_json::Value {
        serde_json::json!({
            "events": self.events,
            "steps": self.steps,
            "values": self.values.to_json(),
        })
    }
}

/// The recorder's sys.monitoring tracer.
pub struct RuntimeTracer {
    tool: ToolId,
    local_events: EventSet,
    /// PY_RETURN alone: the local events of the gate code (see [`Activation`]).
    local_events_only_return: EventSet,
    paths: TraceDir,
    scope: Scope,
    activation: Activation,
    codes: IdHashMap<usize, CodeInfo>,
    /// The codes whose ids are declared in the current trace (forgotten by [`Self::begin_next`]).
    declared: Vec<usize>,
    rec: Option<TraceWriter>,
    types: TypeRegistry,
    encoder: FormatEncoder,
    /// Counters of the values written in this recording.
    value_stats: ValueStats,
    threads: ThreadStacks,
    modules: ModuleIdentityResolver,
    module_name_from_globals: bool,
    failure: Option<RecorderFailure>,
    uncaught: Option<String>,
    /// Whether steps carry columns (`trace.ct`): code objects cache their line columns.
    columns: bool,
    steps_at_last_flush_check: u64,
    last_flush: Instant,
    /// Entries of the path table already in `trace_paths.json`.
    paths_written: usize,
    /// The last line step (or IO event) position, for attributing IO events.
    io_anchor: Option<io_events::Anchor>,
    /// The IO event being gathered (written before the next record).
    io_pending: Option<io_events::PendingIo>,
    /// Lines and metadata of the call sites IO events came from.
    io_sites: io_events::SiteCache,
}

/// A new trace's writer with its opening records written, and its type registry.
struct OpenedTrace {
    rec: TraceWriter,
    types: TypeRegistry,
    /// Entries of the path table already in `trace_paths.json`.
    paths_written: usize,
}

/// Creates the events file of `config` and writes the trace's opening records
/// (`Path`, `Function <toplevel>`, `Call`, `Type None`).
fn open_trace(config: &TracerConfig) -> Result<OpenedTrace, RecorderFailure> {
    // A short-lived (not durable) trace starts its writer thread only if it grows.
    let create = if config.paths.durable {
        TraceWriter::create_with
    } else {
        TraceWriter::create_deferred
    };
    let mut rec = create(
        &config.paths.events,
        config.format,
        config.paths.mode,
        &config.recording,
    )?;
    let mut types = TypeRegistry::new();
    let program_path = rec.path_id(&config.program)?;
    let toplevel = rec.new_function("<toplevel>", program_path, 1)?;
    debug_assert_eq!(toplevel, FunctionId(0));
    rec.call(toplevel, Vec::new())?;
    let none = types.declare_none(&mut rec)?;
    if none != TypeId(0) {
        return Err(RecorderFailure::internal("the None type must be type 0"));
    }
    // A short-lived (not durable) trace writes its path table only at the end.
    let paths_written = if config.paths.durable {
        config.paths.write_paths(rec.path_list())?;
        rec.path_list().len()
    } else {
        0
    };
    Ok(OpenedTrace {
        rec,
        types,
        paths_written,
    })
}

/// How often (in steps) the tracer looks at the clock for a periodic flush.
const FLUSH_CHECK_STEPS: u64 = 1 << 14;
/// Seconds between periodic flushes (a killed process loses at most this much).
const FLUSH_SECONDS: u64 = 1;

impl RuntimeTracer {
    /// Creates the events file and writes the trace's opening records
    /// (`Path`, `Function <toplevel>`, `Call`, `Type None`).
    pub fn begin(py: Python<'_>, config: TracerConfig) -> Result<Self, RecorderFailure> {
        let events = MonitoringEvents::load(py).map_err(|e| {
            RecorderFailure::internal(format!("sys.monitoring is unavailable: {e}"))
        })?;
        let opened = open_trace(&config)?;
        Ok(Self {
            tool: config.tool,
            local_events: events.line | events.py_return | events.py_yield,
            local_events_only_return: events.py_return,
            paths: config.paths,
            scope: config.scope,
            activation: Activation::new(config.activation_path.as_deref()),
            codes: IdHashMap::default(),
            declared: Vec::new(),
            rec: Some(opened.rec),
            types: opened.types,
            encoder: FormatEncoder::new(config.format, config.limits),
            value_stats: ValueStats::default(),
            threads: ThreadStacks::new(super::frame::thread_key(), super::frame::thread_ident()),
            modules: ModuleIdentityResolver::from_sys_path(py)
                .map_err(|e| RecorderFailure::internal(format!("cannot read sys.path: {e}")))?,
            module_name_from_globals: config.module_name_from_globals,
            failure: None,
            uncaught: None,
            columns: config.format == TraceFormat::Ctfs,
            steps_at_last_flush_check: 0,
            last_flush: Instant::now(),
            paths_written: opened.paths_written,
            io_anchor: None,
            io_pending: None,
            io_sites: io_events::SiteCache::default(),
        })
    }

    /// Starts the next recording of a series on this finished tracer, still installed (see
    /// `session::series`): a new trace in `config.paths`, with its own ids, types, threads and
    /// value caches, while the code cache keeps every code object's scope decision, variable
    /// actions and local events. `config` must have the settings of the recording this tracer
    /// began with (the caller compares them); its `scope` is dropped for the tracer's own,
    /// whose decisions it would repeat. Each code's path, function and variable ids are
    /// declared anew in the new trace on first use.
    pub fn begin_next(&mut self, config: TracerConfig) -> Result<(), RecorderFailure> {
        if self.rec.is_some() {
            return Err(RecorderFailure::internal(
                "the previous recording of the series was not finished",
            ));
        }
        let opened = open_trace(&config)?;
        for key in self.declared.drain(..) {
            if let Some(info) = self.codes.get_mut(&key) {
                info.forget_trace_ids();
            }
        }
        self.scope.reset_counters();
        self.paths = config.paths;
        self.activation = Activation::new(config.activation_path.as_deref());
        self.rec = Some(opened.rec);
        self.types = opened.types;
        self.encoder = FormatEncoder::new(config.format, config.limits);
        self.value_stats = ValueStats::default();
        self.threads = ThreadStacks::new(super::frame::thread_key(), super::frame::thread_ident());
        self.failure = None;
        self.uncaught = None;
        self.steps_at_last_flush_check = 0;
        self.last_flush = Instant::now();
        self.paths_written = opened.paths_written;
        self.io_anchor = None;
        self.io_pending = None;
        self.io_sites = io_events::SiteCache::default();
        Ok(())
    }

    /// The first failure met while recording, if any (recording stopped at that point).
    pub fn failure(&self) -> Option<&RecorderFailure> {
        self.failure.as_ref()
    }

    /// Marks the recording failed (the first failure wins; later events are ignored). Used
    /// for failures the tracer could not record itself, such as a caught panic.
    pub fn fail(&mut self, failure: RecorderFailure) {
        self.failure.get_or_insert(failure);
    }

    /// Steps written so far.
    pub fn steps_written(&self) -> u64 {
        self.rec.as_ref().map_or(0, TraceWriter::steps)
    }

    /// Pushes everything recorded so far to the files.
    pub fn flush_files(&mut self) -> Result<(), RecorderFailure> {
        self.emit_pending_io()?;
        if let Some(rec) = self.rec.as_mut() {
            rec.flush()?;
            // The table only grows: rewrite (and fsync) the file only when it did.
            if rec.path_list().len() != self.paths_written {
                self.paths.write_paths(rec.path_list())?;
                self.paths_written = rec.path_list().len();
            }
        }
        self.last_flush = Instant::now();
        Ok(())
    }

    fn maybe_periodic_flush(&mut self) -> Result<(), RecorderFailure> {
        let steps = self.steps_written();
        if steps - self.steps_at_last_flush_check < FLUSH_CHECK_STEPS {
            return Ok(());
        }
        self.steps_at_last_flush_check = steps;
        if self.last_flush.elapsed().as_secs() >= FLUSH_SECONDS {
            self.flush_files()?;
        }
        Ok(())
    }

    /// Marks the frames already running when recording starts (mid-stack start): their code
    /// gets line events so the rest of their bodies is recorded, but no `Call` (and so no
    /// `Return`) is written for them.
    pub fn adopt_running_frames(&mut self, py: Python<'_>) -> Result<(), RecorderFailure> {
        let mut frame = super::frame::current_frame(py);
        while let Some(f) = frame {
            if let Ok(code) = f.getattr("f_code") {
                if let Ok(code) = code.cast_into::<pyo3::types::PyCode>() {
                    let key = code.as_ptr() as usize;
                    let traced = self.ensure_info(py, &code).is_ok_and(|i| i.traced);
                    if traced {
                        self.enable_local_events(py, key)?;
                    }
                }
            }
            frame = f.getattr("f_back").ok().filter(|b| !b.is_none());
        }
        Ok(())
    }

    /// Ends the recording: closes every open call of every thread, writes the error event of
    /// an uncaught exception, the toplevel return with the exit status, and the files.
    pub fn finish(
        &mut self,
        exit_code: Option<i64>,
        error: Option<String>,
    ) -> Result<FinishSummary, RecorderFailure> {
        self.emit_pending_io()?;
        let Some(mut rec) = self.rec.take() else {
            return Err(RecorderFailure::internal(
                "the recording was already finished",
            ));
        };
        let unfinished = self.types.fixed(Fixed::Elided, &mut rec)?;
        self.threads.close_all(&mut rec, |rec| {
            Ok(rec.ret(ValueRecord::Raw {
                r: "<recording stopped>".into(),
                type_id: unfinished,
            })?)
        })?;
        if let Some(text) = error.or_else(|| self.uncaught.take()) {
            rec.event(EventLogKind::Error, String::new(), text)?;
        }
        let status = match exit_code {
            Some(code) => ValueRecord::Int {
                i: code,
                type_id: self.types.fixed(Fixed::Int, &mut rec)?,
            },
            None => ValueRecord::None { type_id: TypeId(0) },
        };
        rec.ret(status)?;
        let done = rec.finish()?;
        self.paths.write_paths(&done.paths)?;
        self.value_stats.cache_copies = self.encoder.reused_values();
        Ok(FinishSummary {
            events: done.records,
            bytes: done.bytes,
            steps: done.steps,
            values: self.value_stats,
            paths: done.paths,
            filter: self.scope.summary_json(),
            activation: self
                .activation
                .has_path()
                .then(|| self.activation.phase_name()),
            activation_skipped: self.activation.opened_at_skipped_code(),
        })
    }

    /// Before `fork()`: ends the writer thread (keeping its state), so the process forks with
    /// no recorder thread. A failure stops the recording like any other.
    pub fn park_writer(&mut self) {
        if let Some(rec) = self.rec.as_mut() {
            if let Err(e) = rec.park() {
                self.fail(e.into());
            }
        }
    }

    /// Lets the next record restart the writer thread (see `session::fork`).
    pub fn resume_writer_at_next_record(&self) {
        if let Some(rec) = self.rec.as_ref() {
            rec.resume_at_next_record();
        }
    }

    /// After `fork()`, in the parent: restarts the writer thread; the stream goes on.
    pub fn resume_writer(&mut self) {
        if let Some(rec) = self.rec.as_mut() {
            if let Err(e) = rec.resume() {
                self.fail(e.into());
            }
        }
    }

    /// Abandons the recording after a failure: stops the writer thread without more records.
    pub fn abandon(&mut self) {
        if let Some(rec) = self.rec.take() {
            let _ = rec.finish();
        }
    }

    /// The cached facts of `code`, inspecting it (and deciding its scope) the first time.
    fn ensure_info(
        &mut self,
        py: Python<'_>,
        code: &Bound<'_, pyo3::types::PyCode>,
    ) -> PyResult<&mut CodeInfo> {
        let key = code.as_ptr() as usize;
        if !self.codes.contains_key(&key) {
            let info = self.inspect(py, code)?;
            self.codes.insert(key, info);
        }
        self.codes
            .get_mut(&key)
            .ok_or_else(|| pyo3::exceptions::PyRuntimeError::new_err("code cache lost an entry"))
    }

    /// First sighting of a code object: its module (module-identity), the filters' decision
    /// and the action for each of its variables.
    fn inspect(
        &mut self,
        py: Python<'_>,
        code: &Bound<'_, pyo3::types::PyCode>,
    ) -> PyResult<CodeInfo> {
        let key = code.as_ptr() as usize;
        let mut info = CodeInfo::inspect(code)?;
        let hint = if self.module_name_from_globals {
            super::frame::current_frame(py)
                .filter(|f| super::frame::frame_runs(f, code.as_ptr()))
                .and_then(|f| super::frame::frame_globals(py, &f))
                .and_then(|g| codetracer_module_identity::globals_name_hint(py, &g))
        } else {
            None
        };
        info.module = self
            .modules
            .resolve_for_code(py, code, hint.as_deref(), None);
        info.traced = self.scope.decide(
            key as u64,
            info.module.as_deref(),
            &info.filename,
            &info.qualname,
        );
        // Looked at while waiting only (it touches the filesystem), and for skipped code too:
        // a skipped activation file still opens the gate.
        if self.activation.phase() == super::activation::Phase::Waiting {
            info.is_activation_file = self.activation.is_activation_file(&info.file_path);
        }
        if !info.traced {
            return Ok(info);
        }
        if self.columns {
            info.read_positions(code);
        }
        info.read_variables(py)?;
        use codetracer_trace_filter::ValueKind;
        let params = info.params.clone();
        for (i, slot) in info.locals.iter_mut().enumerate() {
            let local = self
                .scope
                .value_action(key as u64, ValueKind::Local, &slot.text);
            slot.action = if params.contains(&i) {
                stricter(
                    local,
                    self.scope
                        .value_action(key as u64, ValueKind::Arg, &slot.text),
                )
            } else {
                local
            };
        }
        for slot in &mut info.globals {
            slot.action = self
                .scope
                .value_action(key as u64, ValueKind::Global, &slot.text);
        }
        info.return_action = self
            .scope
            .value_action(key as u64, ValueKind::Return, &info.qualname);
        info.note_hidden();
        info.attrs_token = self.scope.attr_fingerprint(key as u64);
        Ok(info)
    }

    /// The gate code (a skipped activation code object) gets PY_RETURN as its only local
    /// event, so the recorder sees its frames return (PY_UNWIND is global).
    fn watch_gate_returns(&mut self, py: Python<'_>, key: usize) -> Result<(), RecorderFailure> {
        let Some(info) = self.codes.get(&key) else {
            return Ok(());
        };
        let returns = self.local_events_only_return;
        codetracer_monitoring::set_local_events(py, self.tool, info.code.bind(py), returns).map_err(
            |e| {
                RecorderFailure::internal(format!(
                    "cannot watch the returns of the activation code {}: {e}",
                    info.qualname
                ))
            },
        )
    }

    /// A frame of the gate code exited: the outermost one closes the gate, and an uncaught
    /// exception leaving it is the program's (as for a recorded activation frame).
    fn gate_exit(&mut self, value: &Bound<'_, PyAny>, unwinding: bool) {
        if self.activation.gate_exited()
            && unwinding
            && !value.is_instance_of::<pyo3::exceptions::PySystemExit>()
        {
            // SAFETY: `value` is a live exception instance and the GIL is held.
            self.uncaught = Some(unsafe { super::value_encoder::exception_text(value.as_ptr()) });
        }
    }

    fn enable_local_events(&mut self, py: Python<'_>, key: usize) -> Result<(), RecorderFailure> {
        let Some(info) = self.codes.get_mut(&key) else {
            return Ok(());
        };
        if info.local_events_on {
            return Ok(());
        }
        info.local_events_on = true;
        codetracer_monitoring::set_local_events(
            py,
            self.tool,
            info.code.bind(py),
            self.local_events,
        )
        .map_err(|e| {
            RecorderFailure::internal(format!(
                "cannot enable line events for {}: {e}",
                info.qualname
            ))
        })
    }
}
