//! [`StreamTap`]: the native hot path of the stream proxies of
//! `codetracer_python_recorder.io_capture`.
//!
//! An output proxy's `write` *is* a `StreamTap` (stored on the proxy instance), so
//! `print()` → `sys.stdout.write(s)` runs no Python frame of the recorder (no monitoring
//! event, no bytecode): the tap calls the original stream's `write`, then hands the text it
//! took to the tracer, borrowing the string's UTF-8 (no copy for the common `str` case).
//! The input proxy uses [`StreamTap::note`] to record what a read returned.

use pyo3::exceptions::{PyLookupError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyInt, PySlice, PyString};

use crate::fd_capture;
use crate::runtime::ffi_str;
use crate::runtime::tracer::{IoOrigin, IoStream};
use crate::session;

/// Records the text passing through one standard stream (the `write` of an output proxy,
/// or the recorder of an input proxy's reads).
#[pyclass(module = "codetracer_python_recorder_core._native", frozen)]
pub struct StreamTap {
    /// The original stream (or its `buffer`).
    target: Py<PyAny>,
    stream: IoStream,
    /// The captured fd this stream's bytes reach (`proxies+fd`): announced before a write.
    fd: Option<i32>,
    /// The stream's encoding, for bytes (`None`: UTF-8).
    encoding: Option<String>,
    /// Whether that encoding is UTF-8: a `str`'s bytes on the fd are then its UTF-8.
    utf8: bool,
}

#[pymethods]
impl StreamTap {
    /// `StreamTap(target, stream, fd, encoding)`: `stream` 0 stdout, 1 stderr, 2 stdin;
    /// `fd` the captured fd (1 or 2) its writes reach, or `None`.
    #[new]
    #[pyo3(signature = (target, stream, fd, encoding))]
    fn new(
        target: Py<PyAny>,
        stream: u8,
        fd: Option<i32>,
        encoding: Option<String>,
    ) -> PyResult<Self> {
        let Some(stream) = IoStream::from_index(stream) else {
            return Err(PyValueError::new_err(format!(
                "stream must be 0 (stdout), 1 (stderr) or 2 (stdin), not {stream}"
            )));
        };
        let utf8 = encoding.as_deref().is_none_or(|e| {
            e.chars()
                .filter(|c| !matches!(c, '-' | '_'))
                .map(|c| c.to_ascii_lowercase())
                .eq("utf8".chars())
        });
        Ok(Self {
            target,
            stream,
            fd,
            encoding,
            utf8,
        })
    }

    /// The original stream.
    #[getter]
    fn target(&self, py: Python<'_>) -> Py<PyAny> {
        self.target.clone_ref(py)
    }

    /// `write(data)`: writes through the original stream, then records what it took (the
    /// first `n` items when it reports a short write). Returns the original's result.
    fn __call__(&self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        if let Some(fd) = self.fd {
            self.announce(fd, data);
        }
        let n = self
            .target
            .bind(py)
            .call_method1(intern!(py, "write"), (data,))?;
        let taken = match n
            .cast::<PyInt>()
            .ok()
            .and_then(|n| n.extract::<usize>().ok())
        {
            Some(n) if data.len().is_ok_and(|len| n < len) => {
                let n = isize::try_from(n).unwrap_or(isize::MAX);
                data.get_item(PySlice::new(py, 0, n, 1))?
            }
            _ => data.clone(),
        };
        self.record(py, &taken);
        Ok(n.unbind())
    }

    /// Records `data` (text, or bytes decoded as the stream would, invalid bytes escaped)
    /// as this stream's event. Returns whether it was recorded.
    fn note(&self, py: Python<'_>, data: &Bound<'_, PyAny>) -> bool {
        self.record(py, data)
    }
}

impl StreamTap {
    fn encoding(&self) -> &str {
        self.encoding.as_deref().unwrap_or("utf-8")
    }

    /// Records `data`; text that is empty or cannot be had is not recorded.
    fn record(&self, py: Python<'_>, data: &Bound<'_, PyAny>) -> bool {
        if let Ok(text) = data.cast::<PyString>() {
            return match text.to_str() {
                Ok("") => false,
                Ok(s) => session::io::record(py, self.stream, IoOrigin::Proxy, s),
                // Lone surrogates (`surrogateescape` text): each recorded as U+FFFD.
                Err(_) => {
                    let mut lossy = String::new();
                    // SAFETY: `text` is a live str (a `Bound`) and the GIL is held.
                    unsafe { ffi_str::push_prefix(text.as_ptr(), usize::MAX, &mut lossy) };
                    session::io::record(py, self.stream, IoOrigin::Proxy, &lossy)
                }
            };
        }
        match self.decoded(py, data) {
            Some(s) if !s.is_empty() => session::io::record(py, self.stream, IoOrigin::Proxy, &s),
            _ => false,
        }
    }

    /// Text of bytes-like `data` decoded with the stream's encoding (invalid bytes as
    /// `\xNN`; UTF-8 when the encoding is unknown), or `None` when it is not bytes-like.
    fn decoded(&self, py: Python<'_>, data: &Bound<'_, PyAny>) -> Option<String> {
        let raw = bytes_of(data)?;
        let decode = |encoding: &str| {
            raw.call_method1(intern!(py, "decode"), (encoding, "backslashreplace"))
                .and_then(|s| s.extract::<String>())
        };
        match decode(self.encoding()) {
            Ok(s) => Some(s),
            Err(e) if e.is_instance_of::<PyLookupError>(py) => decode("utf-8").ok(),
            Err(_) => None,
        }
    }

    /// Tells the reader of captured fd `fd` the bytes `data` is about to become there, so it
    /// does not record them again (a UTF-8 `str` without lone surrogates: its own UTF-8).
    fn announce(&self, fd: i32, data: &Bound<'_, PyAny>) {
        if self.utf8 {
            if let Some(text) = data.cast::<PyString>().ok().and_then(|s| s.to_str().ok()) {
                fd_capture::expect(fd, text.as_bytes());
                return;
            }
        }
        if let Some(bytes) = self.encoded(data) {
            fd_capture::expect(fd, bytes.as_bytes());
        }
    }

    /// The bytes `data` becomes on the fd: text encoded with the stream's encoding
    /// (`surrogateescape`), bytes-like data as is; `None` when neither works.
    fn encoded<'py>(&self, data: &Bound<'py, PyAny>) -> Option<Bound<'py, PyBytes>> {
        let py = data.py();
        if data.is_instance_of::<PyString>() {
            let bytes = data
                .call_method1(intern!(py, "encode"), (self.encoding(), "surrogateescape"))
                .ok()?;
            return bytes.cast_into::<PyBytes>().ok();
        }
        bytes_of(data)
    }
}

/// `bytes(data)` of a bytes-like object (`bytes` itself without a copy), or `None`.
fn bytes_of<'py>(data: &Bound<'py, PyAny>) -> Option<Bound<'py, PyBytes>> {
    if let Ok(b) = data.cast::<PyBytes>() {
        return Some(b.clone());
    }
    if data.is_instance_of::<PyString>() || data.is_instance_of::<PyInt>() {
        return None;
    }
    // Not bytes-like (`bytes()` raised): nothing to record.
    data.py()
        .get_type::<PyBytes>()
        .call1((data,))
        .ok()
        .and_then(|b| b.cast_into::<PyBytes>().ok())
}
