//! The recording session: at most one per process. Start prepares the trace directory, builds
//! the [`RuntimeTracer`] and installs it under a sys.monitoring tool id; stop finishes the
//! trace, uninstalls, releases the id and writes the metadata (with the list of the traces of
//! child processes, [`children`]). Failures follow the policy (`on_recorder_error`,
//! `keep_partial_trace`, `require_trace`). Across `fork()`: [`fork`]; on `SIGTERM`:
//! [`terminate`].

pub mod children;
pub mod fork;
pub mod io;
pub mod metadata;
pub mod series;
pub mod terminate;

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use codetracer_monitoring::{
    self as monitoring, MonitoringError, ToolId, DEFAULT_TOOL_PREFERENCE, TOOL_NAME,
};
use codetracer_policy::{OnRecorderError, RecorderPolicy};
use pyo3::prelude::*;

use codetracer_trace_stream::{clear_children, create_child_dir, TraceDir, TraceFormat};

use crate::errors::{codes, RecorderFailure, RecorderResult};
use crate::failure_injection::{self, Point};
use crate::runtime::scope::{Scope, ScopeRequest};
use crate::runtime::scope_cache::EngineKey;
use crate::runtime::tracer::{
    FinishSummary, RuntimeTracer, TracerConfig, ValueStats, COUNTERS_FIELD,
};
use children::{children_list, lock_listing, process_block, refresh_parent_listing, Parent};
use metadata::{recording_info, write_metadata, write_metadata_with, Ending, ProgramInfo};

/// What `start` needs.
#[derive(Debug, Clone)]
pub struct StartRequest {
    /// Trace directory.
    pub dir: PathBuf,
    /// Events format.
    pub format: TraceFormat,
    /// Activation path (`None`: record from now on).
    pub activation_path: Option<PathBuf>,
    /// The program (for metadata and the toplevel function).
    pub program: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// The effective policy.
    pub policy: RecorderPolicy,
    /// Explicit filter specs (`--trace-filter` / `trace_filter=`).
    pub trace_filter: Vec<String>,
    /// `CODETRACER_TRACE_FILTER`, when the environment applies.
    pub env_filter: Option<String>,
    /// Where the project filter is looked for (`None`: the activation path's directory, else
    /// the current directory); a child gets its parent's.
    pub filter_dir: Option<PathBuf>,
    /// The recording this one is a child of.
    pub parent: Option<Parent>,
    /// The test framework whose builtin filter joins the chain (`--pytest` / `--unittest`).
    pub test_framework: Option<codetracer_trace_filter::TestFramework>,
    /// Sync the trace's small files as they are written and write the metadata and path
    /// table at the start too (so a process killed mid-recording leaves a readable prefix).
    /// `false`: many short recordings in one process (one per test): no syncs, those two
    /// files written only when the recording stops; made durable afterwards when they matter
    /// (`TraceDir::sync_files`).
    pub durable: bool,
    /// One of a series of recordings (one per test): at the stop the tracer stays installed,
    /// idle, and the next recording with the same settings starts on it ([`series`]).
    pub series: bool,
}

pub(crate) struct ActiveSession {
    pub(crate) tool: ToolId,
    paths: TraceDir,
    /// The request as started (absolute directory, resolved filter directory): what a
    /// child's recording is made from.
    pub(crate) request: StartRequest,
    /// The `process` block of the metadata.
    process: serde_json::Value,
    /// The process that started the recording (in a forked child: the parent).
    pub(crate) pid: u32,
    started: Instant,
    /// The key of the recording's filter engine (what a series' next recording must match).
    engine_key: EngineKey,
}

/// The outcome of `stop`.
pub struct StopReport {
    /// The trace directory.
    pub dir: PathBuf,
    /// Events format.
    pub format: TraceFormat,
    /// Records, bytes, steps, paths (zeroes when the trace was discarded).
    pub summary: FinishSummary,
    /// Seconds the session lasted.
    pub seconds: f64,
    /// A failure tolerated by `on_recorder_error=disable` (the trace is partial or removed).
    pub disabled_by: Option<RecorderFailure>,
    /// Files left in the trace directory.
    pub files: Vec<PathBuf>,
}

static SESSION: Mutex<Option<ActiveSession>> = Mutex::new(None);

pub(crate) fn session() -> MutexGuard<'static, Option<ActiveSession>> {
    SESSION.lock().unwrap_or_else(PoisonError::into_inner)
}

fn monitoring_failure(err: MonitoringError) -> RecorderFailure {
    match err {
        MonitoringError::ToolIdInUse { .. } => RecorderFailure::environment(
            codes::TOOL_ID_IN_USE,
            format!("{err}; stop the other tool (debugger, profiler, coverage) or run without it"),
        ),
        other => RecorderFailure::internal(format!("sys.monitoring: {other}")),
    }
}

/// The command line of this process (`sys.orig_argv`).
fn orig_argv(py: Python<'_>) -> Vec<String> {
    py.import("sys")
        .and_then(|sys| sys.getattr("orig_argv"))
        .and_then(|argv| argv.extract())
        .unwrap_or_default()
}

/// Starts recording.
pub fn start(py: Python<'_>, mut request: StartRequest) -> RecorderResult<()> {
    let mut guard = session();
    if guard.is_some() {
        return Err(RecorderFailure::usage(
            codes::ALREADY_TRACING,
            "a recording is already running in this process; stop it first (codetracer_python_recorder.stop())",
        ));
    }
    crate::logging::apply_level(request.policy.log_level);
    failure_injection::arm_from_env();
    // Before any file is written: a SIGTERM during the start (a pool terminating a worker it
    // has just spawned) is noted, and acted on once recording runs, or at once if the start
    // fails — never left to kill the process halfway through writing the trace's files.
    let sigterm = terminate::StartGuard::arm(request.durable);
    // Filters first: a bad filter stops the start before anything is written.
    let start_dir = request.filter_dir.clone().or_else(|| {
        request
            .activation_path
            .as_deref()
            .and_then(|p| p.parent().map(std::path::Path::to_path_buf))
            .or_else(|| std::env::current_dir().ok())
    });
    request.filter_dir.clone_from(&start_dir);
    if let Ok(absolute) = std::path::absolute(&request.dir) {
        request.dir = absolute; // children may run elsewhere
    }
    let scope = Scope::load(
        py,
        &ScopeRequest {
            start_dir: start_dir.as_deref(),
            env_spec: request.env_filter.as_deref(),
            explicit: &request.trace_filter,
            include_libraries: request.policy.include_libraries,
            test_framework: request.test_framework,
        },
    )?;
    let mut paths = TraceDir::prepare_with_mode(
        &request.dir,
        request.format,
        request.policy.trace_mode.file_mode(),
    )?;
    paths.durable = request.durable;
    clear_children(&request.dir)?;
    let engine_key = scope.key().clone();
    // A series' idle tracer goes on when this recording continues its series (else it is
    // released here, before a tool id is acquired).
    let reused = series::take_for(py, &request, &engine_key);
    let tool = match reused {
        Some(tool) => tool,
        None => monitoring::acquire_tool_id(py, TOOL_NAME, DEFAULT_TOOL_PREFERENCE)
            .map_err(monitoring_failure)?,
    };
    let process = process_block(&orig_argv(py), request.parent.as_ref());
    let started = crate::errors::catch_panic("start", || -> RecorderResult<()> {
        let program = ProgramInfo {
            program: &request.program,
            args: &request.args,
            format: request.format,
            process: &process,
        };
        if paths.durable {
            write_metadata(&paths, &program, None, Some(scope.summary_json()), None)?;
        }
        let adopt = request.activation_path.is_none();
        let config = TracerConfig {
            tool,
            paths: paths.clone(),
            format: request.format,
            recording: recording_info(&program),
            program: request.program.clone(),
            activation_path: request.activation_path.clone(),
            scope,
            limits: request.policy.value_limits,
            module_name_from_globals: request.policy.module_name_from_globals,
        };
        if reused.is_some() {
            // The tracer is installed and its events are on: only the trace is new.
            return monitoring::with_tracer(py, tool, |py, t: &mut RuntimeTracer| {
                t.begin_next(config)?;
                t.adopt_running_frames(py)
            })
            .unwrap_or_else(|| {
                Err(RecorderFailure::internal(
                    "the series' idle tracer was not found",
                ))
            })
            .and_then(|()| failure_injection::check(Point::Start));
        }
        let mut tracer = RuntimeTracer::begin(py, config)?;
        monitoring::restart_events(py).map_err(monitoring_failure)?;
        if adopt {
            tracer.adopt_running_frames(py)?;
        }
        let hook: monitoring::ErrorHook = Box::new(move |py, err| {
            log::error!("codetracer: recording failed: {err}; the program continues untraced");
            // A panic (or any error the tracer did not record itself) still fails the session.
            let failure = RecorderFailure::internal(format!("recording failed: {err}"));
            monitoring::with_tracer(py, tool, |_, t: &mut RuntimeTracer| t.fail(failure));
            None
        });
        monitoring::install(py, tool, Box::new(tracer), hook).map_err(monitoring_failure)?;
        failure_injection::check(Point::Start)
    });
    if let Err(e) = started {
        let _ = monitoring::uninstall(py, tool);
        let _ = monitoring::release_tool_id(py, tool);
        paths.remove_files();
        return Err(e);
    }
    *guard = Some(ActiveSession {
        tool,
        paths,
        request,
        process,
        pid: std::process::id(),
        started: Instant::now(),
        engine_key,
    });
    sigterm.keep();
    Ok(())
}

/// Starts the recording of a child process into a new `children/<pid>-<n>/` directory of
/// `parent`'s trace; returns that directory.
pub fn start_child(
    py: Python<'_>,
    mut request: StartRequest,
    parent: Parent,
) -> RecorderResult<PathBuf> {
    request.dir = create_child_dir(&parent.dir, std::process::id())?;
    request.activation_path = None;
    request.parent = Some(parent.clone());
    request.series = false; // a child's one recording ends with its process
    let dir = request.dir.clone();
    if let Err(e) = start(py, request) {
        let _ = std::fs::remove_dir(&dir); // empty unless the start got far
        return Err(e);
    }
    refresh_parent_listing(&parent); // a parent that ended (or exec'd) first lists this child
    Ok(dir)
}

/// The trace directory of the active recording.
pub fn active_dir() -> Option<PathBuf> {
    session().as_ref().map(|active| active.paths.dir.clone())
}

/// The `CODETRACER_CHILD_SESSION` value for the children of the active recording.
pub fn child_session_value() -> Option<String> {
    session()
        .as_ref()
        .map(|active| children::child_session_value(&active.request))
}

/// Whether a session is recording (false after a failure under `disable`).
pub fn is_tracing(py: Python<'_>) -> bool {
    let guard = session();
    let Some(active) = guard.as_ref() else {
        return false;
    };
    monitoring::with_tracer(py, active.tool, |_, t: &mut RuntimeTracer| {
        t.failure().is_none()
    })
    .unwrap_or(true)
}

/// Pushes what was recorded so far to the trace files.
pub fn flush(py: Python<'_>) -> RecorderResult<()> {
    let guard = session();
    let Some(active) = guard.as_ref() else {
        return Ok(());
    };
    monitoring::flush(py, active.tool)
        .map_err(|e| RecorderFailure::io("cannot flush", &active.paths.events, e))
}

/// Stops recording; `None` when no session was running. `extra` holds the caller's own
/// top-level metadata fields (written with the final metadata).
pub fn stop(
    py: Python<'_>,
    exit_code: Option<i64>,
    error: Option<String>,
    extra: serde_json::Map<String, serde_json::Value>,
) -> RecorderResult<Option<StopReport>> {
    stop_ending(py, exit_code, error, None, extra)
}

/// [`stop`], with a label for how the program ended (`"signal SIGTERM"`).
pub fn stop_ending(
    py: Python<'_>,
    exit_code: Option<i64>,
    error: Option<String>,
    label: Option<&str>,
    extra: serde_json::Map<String, serde_json::Value>,
) -> RecorderResult<Option<StopReport>> {
    let Some(active) = session().take() else {
        return Ok(None);
    };
    let parent = active.request.parent.clone();
    let stopped = finish_session(py, active, exit_code, error, label, extra);
    terminate::disarm_acting();
    if let Some(parent) = parent {
        refresh_parent_listing(&parent); // a parent that ended first lists this exit status
    }
    stopped
}

fn finish_session(
    py: Python<'_>,
    active: ActiveSession,
    exit_code: Option<i64>,
    error: Option<String>,
    label: Option<&str>,
    extra: serde_json::Map<String, serde_json::Value>,
) -> RecorderResult<Option<StopReport>> {
    let error_text = error.clone();
    let outcome = crate::errors::catch_panic("stop", || {
        monitoring::with_tracer(py, active.tool, |_, t: &mut RuntimeTracer| {
            if let Some(f) = t.failure().cloned() {
                t.abandon();
                Err(f)
            } else if let Err(f) = failure_injection::check(Point::Finish) {
                t.abandon();
                Err(f)
            } else {
                t.finish(exit_code, error)
            }
        })
        .unwrap_or_else(|| {
            Err(RecorderFailure::internal(
                "the recorder's tracer was not found at stop",
            ))
        })
    });
    if active.request.series && outcome.is_ok() {
        series::park(
            py,
            active.tool,
            active.request.clone(),
            active.engine_key.clone(),
        );
    } else {
        let _ = monitoring::uninstall(py, active.tool);
        let _ = monitoring::release_tool_id(py, active.tool);
    }
    let seconds = active.started.elapsed().as_secs_f64();
    let empty = FinishSummary {
        events: 0,
        bytes: 0,
        steps: 0,
        values: ValueStats::default(),
        paths: Vec::new(),
        filter: serde_json::Value::Null,
        activation: None,
        activation_skipped: false,
    };
    let request = &active.request;
    let info = ProgramInfo {
        program: &request.program,
        args: &request.args,
        format: request.format,
        process: &active.process,
    };
    let children = || Some(children_list(&active.paths.dir));
    let ending = || Ending {
        code: exit_code,
        error: error_text.as_deref(),
        label,
    };
    let (summary, disabled_by) = match outcome {
        Ok(summary) => {
            if request.policy.require_trace && summary.steps == 0 {
                active.paths.remove_files();
                return Err(RecorderFailure::environment(
                    codes::TRACE_MISSING,
                    "require_trace is set but nothing was recorded: check the activation path and the filters",
                )
                .with("trace_dir", active.paths.dir.display().to_string()));
            }
            let _lock = lock_listing(&active.paths.dir);
            let mut extra = extra;
            extra.insert(COUNTERS_FIELD.into(), summary.counters_json());
            write_metadata_with(
                &active.paths,
                &info,
                Some(ending()),
                Some(summary.filter.clone()),
                children(),
                extra,
            )?;
            (summary, None)
        }
        Err(failure) => {
            if request.policy.keep_partial_trace {
                let _lock = lock_listing(&active.paths.dir);
                let _ = write_metadata(&active.paths, &info, Some(ending()), None, children());
            } else {
                active.paths.remove_files();
            }
            if request.policy.on_recorder_error == OnRecorderError::Abort {
                return Err(failure);
            }
            (empty, Some(failure))
        }
    };
    let files = active.paths.existing_files();
    Ok(Some(StopReport {
        dir: active.paths.dir.clone(),
        format: request.format,
        summary,
        seconds,
        disabled_by,
        files,
    }))
}
