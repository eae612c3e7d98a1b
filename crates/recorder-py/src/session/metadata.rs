//! The recorder's `trace_metadata.json`: the program, its arguments, how it ended, the
//! filters in use (the arguments with secret-named options' values redacted), the process
//! (pid, command line, parent), its children's traces and where the trace went
//! (`trace_dir`: `{"path", "symlink"}`, the symlink it was given as resolved once) — turned
//! into the trace-stream crate's [`Metadata`] and written atomically.

use codetracer_trace_stream::{ExitStatus, Metadata, RecorderInfo, TraceDir, TraceFormat};

use crate::errors::RecorderFailure;

/// The recorder's name in the metadata (`recorder.name`).
pub const RECORDER_NAME: &str = "codetracer-python-recorder";

/// How the program ended, as far as the session knows.
pub struct Ending<'a> {
    /// Its exit code, once known.
    pub code: Option<i64>,
    /// The uncaught exception's text, if it ended with one.
    pub error: Option<&'a str>,
    /// How it ended when the code does not say (`"signal SIGTERM"`); else `"uncaught
    /// exception"` when there is an error.
    pub label: Option<&'a str>,
}

/// What the session says about its program.
pub struct ProgramInfo<'a> {
    /// The program recorded.
    pub program: &'a str,
    /// Its arguments.
    pub args: &'a [String],
    /// Events file format.
    pub format: TraceFormat,
    /// The `process` block (see [`super::children::process_block`]).
    pub process: &'a serde_json::Value,
}

/// Writes `trace_metadata.json`; `ending` is `None` while the program runs, `children` the
/// list of child traces (written once the recording ended).
pub fn write_metadata(
    dir: &TraceDir,
    info: &ProgramInfo<'_>,
    ending: Option<Ending<'_>>,
    trace_filter: Option<serde_json::Value>,
    children: Option<serde_json::Value>,
) -> Result<(), RecorderFailure> {
    write_metadata_with(
        dir,
        info,
        ending,
        trace_filter,
        children,
        serde_json::Map::new(),
    )
}

/// [`write_metadata`] with the caller's own top-level fields added (the pytest plugin's
/// `pytest` block); the recorder's fields win over a caller field of the same name.
pub fn write_metadata_with(
    dir: &TraceDir,
    info: &ProgramInfo<'_>,
    ending: Option<Ending<'_>>,
    trace_filter: Option<serde_json::Value>,
    children: Option<serde_json::Value>,
    caller: serde_json::Map<String, serde_json::Value>,
) -> Result<(), RecorderFailure> {
    let workdir = std::env::current_dir()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let mut extra = caller;
    let where_to = std::path::absolute(&dir.dir).unwrap_or_else(|_| dir.dir.clone());
    extra.insert(
        "trace_dir".into(),
        serde_json::json!({
            "path": where_to.display().to_string(),
            "symlink": dir.symlink.as_ref().map(|p| p.display().to_string()),
        }),
    );
    if let Some(filter) = trace_filter {
        extra.insert("trace_filter".into(), filter);
    }
    extra.insert("process".into(), info.process.clone());
    if let Some(children) = children {
        extra.insert("children".into(), children);
    }
    let meta = Metadata {
        workdir,
        program: info.program.to_owned(),
        // Secret-named options keep their flag, their value becomes `<redacted>`.
        args: codetracer_trace_filter::redact_argv(info.args),
        exit_status: ending.map(|e| ExitStatus {
            code: e.code,
            label: e
                .label
                .or(e.error.map(|_| "uncaught exception"))
                .map(str::to_owned),
        }),
        format: info.format,
        recorder: RecorderInfo {
            name: RECORDER_NAME.to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        },
        extra,
    };
    Ok(meta.write(dir)?)
}
