//! Reading traces back from Python: `read_trace` (a list) and `iter_trace` (an iterator that
//! converts one record at a time, so memory stays flat however long the trace), both over the
//! trace-stream crate's streaming reader. Records become dicts in the JSON shape of the
//! format (`{"Step": {"path_id": 0, "line": 3}}`, ...).

use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};

use codetracer_trace_stream::reader::incomplete;
use codetracer_trace_stream::types::TraceLowLevelEvent;
use codetracer_trace_stream::{ReadMode, TraceEvents};
use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::errors::RecorderFailure;
use crate::json_py::json_to_py;

fn to_py(py: Python<'_>, event: &TraceLowLevelEvent) -> PyResult<Py<PyAny>> {
    let value = serde_json::to_value(event).map_err(|e| {
        RecorderFailure::internal(format!("cannot convert a trace record: {e}")).into_pyerr(py)
    })?;
    json_to_py(py, &value)
}

fn open(py: Python<'_>, path: &std::path::Path) -> PyResult<TraceEvents> {
    TraceEvents::open(path).map_err(|e| RecorderFailure::from(e).into_pyerr(py))
}

/// The records of one trace, converted as they are read. A trace cut short (a killed
/// process) ends after its readable prefix; with `strict=True` it raises `EnvironmentError`
/// (`ERR_TRACE_INCOMPLETE`) at that point instead.
#[pyclass(module = "codetracer_python_recorder_core._native")]
pub struct TraceIterator {
    events: Mutex<TraceEvents>,
    strict: bool,
    seen: usize,
}

#[pymethods]
impl TraceIterator {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&mut self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        let mut events = self.events.lock().unwrap_or_else(PoisonError::into_inner);
        match events.next() {
            Some(event) => {
                self.seen += 1;
                to_py(py, &event).map(Some)
            }
            None if self.strict && events.mode() == Some(ReadMode::Prefix) => {
                let err = incomplete(events.path(), self.seen);
                Err(RecorderFailure::from(err)
                    .with("records", self.seen.to_string())
                    .into_pyerr(py))
            }
            None => Ok(None),
        }
    }
}

/// Iterates over the records of the trace at `path` (a trace directory or an events file).
#[pyfunction]
#[pyo3(signature = (path, strict=false))]
pub fn iter_trace(py: Python<'_>, path: PathBuf, strict: bool) -> PyResult<TraceIterator> {
    Ok(TraceIterator {
        events: Mutex::new(open(py, &path)?),
        strict,
        seen: 0,
    })
}

/// Every record of the trace at `path` as a list (see `iter_trace`).
#[pyfunction]
#[pyo3(signature = (path, strict=false))]
pub fn read_trace(py: Python<'_>, path: PathBuf, strict: bool) -> PyResult<Py<PyAny>> {
    let mut iter = iter_trace(py, path, strict)?;
    let list = PyList::empty(py);
    while let Some(item) = iter.__next__(py)? {
        list.append(item)?;
    }
    Ok(list.into_any().unbind())
}
