//! Shared helpers for the integration tests: a serialising lock, a script runner, a counting
//! tracer and a guard that always uninstalls and frees the tool id.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs
)]

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use codetracer_monitoring::*;
use pyo3::prelude::*;
use pyo3::types::{PyCode, PyDict};

/// sys.monitoring tool ids are process-global: tests that use them run one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

pub fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Compiles `src` with the real file name `filename` and executes it in fresh globals.
pub fn run<'py>(py: Python<'py>, src: &str, filename: &str) -> PyResult<Bound<'py, PyDict>> {
    let builtins = py.import("builtins")?;
    let code = builtins.call_method1("compile", (src, filename, "exec"))?;
    let globals = PyDict::new(py);
    globals.set_item("__builtins__", &builtins)?;
    globals.set_item("__name__", "__main__")?;
    builtins.call_method1("exec", (code, &globals))?;
    Ok(globals)
}

/// The code object of function `name` defined by a script run with [`run`].
pub fn code_of<'py>(globals: &Bound<'py, PyDict>, name: &str) -> Bound<'py, PyCode> {
    globals
        .get_item(name)
        .unwrap()
        .unwrap()
        .getattr("__code__")
        .unwrap()
        .cast_into::<PyCode>()
        .unwrap()
}

pub fn co_name(code: &Bound<'_, PyCode>) -> String {
    code.getattr("co_name").unwrap().extract().unwrap()
}

pub fn co_filename(code: &Bound<'_, PyCode>) -> String {
    code.getattr("co_filename").unwrap().extract().unwrap()
}

/// Claims `tool` for the test and, on drop, uninstalls any tracer and frees the id again.
pub struct ToolGuard(pub ToolId);

impl ToolGuard {
    pub fn claim(py: Python<'_>, tool: ToolId) -> ToolGuard {
        let got = acquire_tool_id(py, "codetracer-test", &[tool]).expect("tool id free");
        assert_eq!(got, tool);
        ToolGuard(tool)
    }
}

impl Drop for ToolGuard {
    fn drop(&mut self) {
        Python::attach(|py| {
            let _ = uninstall(py, self.0);
            let _ = restart_events(py);
            let _ = release_tool_id(py, self.0);
        });
    }
}

/// An error hook that swallows everything.
pub fn ignore_errors() -> ErrorHook {
    Box::new(|_py, _err| None)
}

/// Counts every event whose code object comes from `filename`.
#[derive(Default)]
pub struct Counter {
    pub filename: String,
    pub wanted: Option<fn(&MonitoringEvents) -> EventSet>,
    pub counts: HashMap<&'static str, usize>,
    /// PY_START per function name.
    pub starts: HashMap<String, usize>,
    /// LINE per (function name, line).
    pub lines: HashMap<(String, u32), usize>,
    /// Return DISABLE from on_line.
    pub disable_lines: bool,
    /// Return DISABLE from on_raise (a global-only event).
    pub disable_raise: bool,
    pub flushes: usize,
}

impl Counter {
    pub fn new(filename: &str, wanted: fn(&MonitoringEvents) -> EventSet) -> Counter {
        Counter {
            filename: filename.to_owned(),
            wanted: Some(wanted),
            ..Counter::default()
        }
    }

    fn hit(&mut self, code: &Bound<'_, PyCode>, event: &'static str) -> bool {
        if co_filename(code) != self.filename {
            return false;
        }
        *self.counts.entry(event).or_default() += 1;
        true
    }

    pub fn count(&self, event: &str) -> usize {
        self.counts.get(event).copied().unwrap_or(0)
    }
}

macro_rules! count_only {
    ($($method:ident($($arg:ident: $ty:ty),*) => $name:literal;)*) => {$(
        fn $method(&mut self, _py: Python<'_>, code: &Bound<'_, PyCode>, $($arg: $ty),*) -> CallbackResult {
            $(let _ = $arg;)*
            self.hit(code, $name);
            Ok(CallbackOutcome::Continue)
        }
    )*};
}

impl Tracer for Counter {
    fn interest(&self, events: &MonitoringEvents) -> EventSet {
        self.wanted.map_or(EventSet::EMPTY, |f| f(events))
    }

    fn on_py_start(
        &mut self,
        _py: Python<'_>,
        code: &Bound<'_, PyCode>,
        _offset: i32,
    ) -> CallbackResult {
        if self.hit(code, "PY_START") {
            *self.starts.entry(co_name(code)).or_default() += 1;
        }
        Ok(CallbackOutcome::Continue)
    }

    fn on_line(&mut self, _py: Python<'_>, code: &Bound<'_, PyCode>, line: u32) -> CallbackResult {
        if self.hit(code, "LINE") {
            *self.lines.entry((co_name(code), line)).or_default() += 1;
            if self.disable_lines {
                return Ok(CallbackOutcome::Disable);
            }
        }
        Ok(CallbackOutcome::Continue)
    }

    fn on_raise(
        &mut self,
        _py: Python<'_>,
        code: &Bound<'_, PyCode>,
        _offset: i32,
        _exception: &Bound<'_, PyAny>,
    ) -> CallbackResult {
        self.hit(code, "RAISE");
        if self.disable_raise {
            return Ok(CallbackOutcome::Disable);
        }
        Ok(CallbackOutcome::Continue)
    }

    count_only! {
        on_py_resume(offset: i32) => "PY_RESUME";
        on_py_return(offset: i32, value: &Bound<'_, PyAny>) => "PY_RETURN";
        on_py_yield(offset: i32, value: &Bound<'_, PyAny>) => "PY_YIELD";
        on_py_throw(offset: i32, exc: &Bound<'_, PyAny>) => "PY_THROW";
        on_py_unwind(offset: i32, exc: &Bound<'_, PyAny>) => "PY_UNWIND";
        on_instruction(offset: i32) => "INSTRUCTION";
        on_jump(offset: i32, dest: i32) => "JUMP";
        on_branch(offset: i32, dest: i32) => "BRANCH";
        on_branch_left(offset: i32, dest: i32) => "BRANCH_LEFT";
        on_branch_right(offset: i32, dest: i32) => "BRANCH_RIGHT";
        on_call(offset: i32, callable: &Bound<'_, PyAny>, arg0: &Bound<'_, PyAny>) => "CALL";
        on_c_return(offset: i32, callable: &Bound<'_, PyAny>, arg0: &Bound<'_, PyAny>) => "C_RETURN";
        on_c_raise(offset: i32, callable: &Bound<'_, PyAny>, arg0: &Bound<'_, PyAny>) => "C_RAISE";
        on_reraise(offset: i32, exc: &Bound<'_, PyAny>) => "RERAISE";
        on_exception_handled(offset: i32, exc: &Bound<'_, PyAny>) => "EXCEPTION_HANDLED";
        on_stop_iteration(offset: i32, exc: &Bound<'_, PyAny>) => "STOP_ITERATION";
    }

    fn flush(&mut self, _py: Python<'_>) -> Result<(), TracerError> {
        self.flushes += 1;
        Ok(())
    }
}

/// Takes the tracer back out of `uninstall` as a `Counter`.
pub fn into_counter(tracer: Box<dyn Tracer>) -> Counter {
    let mut tracer = tracer;
    let counter = AsAnyMut::as_any_mut(&mut *tracer)
        .downcast_mut::<Counter>()
        .expect("a Counter");
    std::mem::take(counter)
}
