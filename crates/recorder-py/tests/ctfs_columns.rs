//! `trace.ct` steps carry the column of the statement each LINE event starts (from the code
//! object's `co_positions`, cached per code object): a real recording in an embedded
//! interpreter, read back with the trace-stream reader's column of each step.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use codetracer_policy::RecorderPolicy;
use codetracer_recorder_py::session::{self, StartRequest};
use codetracer_trace_stream::ctfs::reader::CtfsEvents;
use codetracer_trace_stream::types::TraceLowLevelEvent;
use codetracer_trace_stream::TraceFormat;
use pyo3::prelude::*;

const PROGRAM: &str = "\
def f(a, b):
    x = a + b
    y = [i for i in range(2)]
    if x: return x * 2
    return 0

total = f(1, 2)
";

#[test]
fn ctfs_steps_carry_the_statement_column() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("prog.py");
    std::fs::write(&script, PROGRAM).unwrap();
    let trace = dir.path().join("trace");
    Python::attach(|py| {
        session::start(
            py,
            StartRequest {
                dir: trace.clone(),
                format: TraceFormat::Ctfs,
                activation_path: None,
                program: script.display().to_string(),
                args: Vec::new(),
                policy: RecorderPolicy::default(),
                trace_filter: Vec::new(),
                env_filter: None,
                filter_dir: None,
                parent: None,
                test_framework: None,
                durable: true,
                series: false,
            },
        )
        .map_err(|e| e.to_string())
        .unwrap();
        let code = format!(
            "exec(compile(open({path:?}).read(), {path:?}, 'exec'), {{'__name__': 'prog'}})",
            path = script.display().to_string()
        );
        py.run(&std::ffi::CString::new(code).unwrap(), None, None)
            .unwrap();
        session::stop(py, Some(0), None, serde_json::Map::new())
            .map_err(|e| e.to_string())
            .unwrap();
    });
    let mut events = CtfsEvents::open(&trace.join("trace.ct")).unwrap();
    let mut steps = Vec::new();
    while let Some(e) = events.next() {
        if let TraceLowLevelEvent::Step(s) = e {
            steps.push((s.line.0, events.last_column().unwrap()));
        }
    }
    // Module: `def` (line 1) and `total = ...` (line 7) start at column 1. In f: the entry
    // step at its definition line, then each statement at its start (`x` at column 5, not
    // the `a` of its first instruction); an `if` at its condition (no instruction starts at
    // the keyword).
    let in_prog: Vec<(i64, u32)> = steps.into_iter().filter(|(l, _)| *l <= 7).collect();
    assert!(in_prog.contains(&(2, 5)), "{in_prog:?}");
    assert!(in_prog.contains(&(3, 5)), "{in_prog:?}");
    assert!(in_prog.contains(&(4, 8)), "{in_prog:?}");
    assert!(in_prog.contains(&(7, 1)), "{in_prog:?}");
    assert!(
        !in_prog.contains(&(2, 9)),
        "the first operand's column: {in_prog:?}"
    );
}
