//! A third-party tracer built on `codetracer-monitoring`: counts LINE events per file.
//!
//! Run with `cargo run -p codetracer-monitoring --example line_counter`.
use std::collections::HashMap;

use codetracer_monitoring::*;
use pyo3::prelude::*;
use pyo3::types::PyCode;

#[derive(Default)]
struct LineCounter {
    per_file: HashMap<String, u64>,
}

impl Tracer for LineCounter {
    fn interest(&self, events: &MonitoringEvents) -> EventSet {
        events.line
    }

    fn on_line(&mut self, _py: Python<'_>, code: &Bound<'_, PyCode>, _line: u32) -> CallbackResult {
        let file: String = code.getattr("co_filename")?.extract()?;
        *self.per_file.entry(file).or_default() += 1;
        Ok(CallbackOutcome::Continue)
    }
}

fn main() -> Result<(), MonitoringError> {
    Python::attach(|py| {
        let tool = acquire_tool_id(py, "line-counter", DEFAULT_TOOL_PREFERENCE)?;
        let log_errors: ErrorHook = Box::new(|_py, err| {
            eprintln!("line counter failed: {err}");
            None // swallow: never disturb the traced program
        });
        install(py, tool, Box::new(LineCounter::default()), log_errors)?;
        py.run(
            c"total = 0\nfor i in range(10):\n    total += i\n",
            None,
            None,
        )?;
        let counts = with_tracer(py, tool, |_py, t: &mut LineCounter| t.per_file.clone());
        uninstall(py, tool)?;
        release_tool_id(py, tool)?;
        println!("LINE events per file: {counts:?}");
        Ok(())
    })
}
