//! [`Metadata`]: the content of `trace_metadata.json` — what CodeTracer reads (`workdir`,
//! `program`, `args`) plus the exit status, the format and the recorder that wrote the trace,
//! and any fields the recorder adds — written atomically.

use serde_json::{json, Map, Value};

use crate::dir::TraceDir;
use crate::error::Result;
use crate::format::TraceFormat;

/// How the recorded process ended: `{"code": int|null, "label": str|null}`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExitStatus {
    /// The exit code, when the process ended with one.
    pub code: Option<i64>,
    /// A word on how it ended when the code alone does not say (`"uncaught exception"`,
    /// `"signal SIGTERM"`, `"recording stopped"`), or `None`.
    pub label: Option<String>,
}

/// The recorder that wrote a trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecorderInfo {
    /// Its name (`codetracer-python-recorder`).
    pub name: String,
    /// Its version.
    pub version: String,
}

/// What `trace_metadata.json` says.
#[derive(Debug, Clone)]
pub struct Metadata {
    /// The working directory of the recorded process.
    pub workdir: String,
    /// The program recorded.
    pub program: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// How it ended; `None` while it runs.
    pub exit_status: Option<ExitStatus>,
    /// The events file's format.
    pub format: TraceFormat,
    /// Who wrote the trace.
    pub recorder: RecorderInfo,
    /// Further top-level fields (`trace_filter`, ...), written as given.
    pub extra: Map<String, Value>,
}

impl Metadata {
    /// The JSON document. Field order: the three CodeTracer reads first.
    pub fn to_json(&self) -> Value {
        let status = self
            .exit_status
            .as_ref()
            .map_or(Value::Null, |s| json!({"code": s.code, "label": s.label}));
        let mut doc = json!({
            "workdir": self.workdir,
            "program": self.program,
            "args": self.args,
            "process_exit_status": status,
            "format": self.format.name(),
            "recorder": {
                "name": self.recorder.name,
                "version": self.recorder.version,
                "target_script": self.program,
            },
        });
        if let Some(obj) = doc.as_object_mut() {
            for (k, v) in &self.extra {
                obj.insert(k.clone(), v.clone());
            }
        }
        doc
    }

    /// Writes `trace_metadata.json` of `dir` atomically, with the directory's file mode.
    pub fn write(&self, dir: &TraceDir) -> Result<()> {
        dir.write_file_json(&dir.metadata, &self.to_json())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn metadata_has_codetracers_fields_and_the_exit_status_object() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = TraceDir::new(tmp.path(), TraceFormat::Binary);
        let mut extra = Map::new();
        extra.insert("trace_filter".into(), json!({"filters": []}));
        let meta = Metadata {
            workdir: "/w".into(),
            program: "app.py".into(),
            args: vec!["-v".into()],
            exit_status: Some(ExitStatus {
                code: Some(3),
                label: None,
            }),
            format: TraceFormat::Binary,
            recorder: RecorderInfo {
                name: "rec".into(),
                version: "1".into(),
            },
            extra,
        };
        meta.write(&dir).unwrap();
        let back: Value = serde_json::from_slice(&std::fs::read(&dir.metadata).unwrap()).unwrap();
        let typed: codetracer_trace_types::TraceMetadata =
            serde_json::from_value(back.clone()).unwrap();
        assert_eq!(typed.program, "app.py");
        assert_eq!(
            back["process_exit_status"],
            json!({"code": 3, "label": null})
        );
        assert_eq!(back["format"], "binary");
        assert_eq!(back["trace_filter"], json!({"filters": []}));
    }
}
