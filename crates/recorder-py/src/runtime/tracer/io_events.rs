//! IO events: a write to `sys.stdout`/`sys.stderr` or a read from `sys.stdin` (seen by the
//! Python proxies, or by the fd reader of `proxies+fd`) becomes an `Event` record that follows
//! the `Step` of the line that did it.
//!
//! The line is the current line of the innermost *recorded* frame of the calling thread (found
//! by walking the thread's frames at write time: the proxy's own frame and any library code
//! the filters skip are passed over). In `print(f(x))` that is the `print` line, because `f`
//! has returned by the time `print` writes. When the trace has moved on since that line's
//! `Step` (a callee ran, another thread recorded), the `Step` is stated again before the event;
//! otherwise the event follows the step directly, so the step count does not change.
//! Consecutive writes of one stream at one line (`print(a, b)` writes four times) with no
//! record between them become one event, written just before the next record.

use codetracer_trace_stream::types::{EventLogKind, PathId};
use pyo3::ffi;
use pyo3::prelude::*;

use super::RuntimeTracer;
use crate::errors::RecorderFailure;
use crate::runtime::activation::Phase;
use crate::runtime::frame::{thread_ident, thread_key};
use crate::runtime::id_hash::IdHashMap;

/// Which standard stream an IO event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoStream {
    /// `sys.stdout` / fd 1: an `EventLogKind::Write`.
    Stdout,
    /// `sys.stderr` / fd 2: an `EventLogKind::WriteOther`.
    Stderr,
    /// `sys.stdin`: an `EventLogKind::Read`.
    Stdin,
}

impl IoStream {
    /// From the number the Python layer passes (0 stdout, 1 stderr, 2 stdin).
    pub fn from_index(index: u8) -> Option<Self> {
        match index {
            0 => Some(Self::Stdout),
            1 => Some(Self::Stderr),
            2 => Some(Self::Stdin),
            _ => None,
        }
    }

    /// The stream's name in the event metadata.
    pub fn name(self) -> &'static str {
        match self {
            Self::Stdout => "stdout",
            Self::Stderr => "stderr",
            Self::Stdin => "stdin",
        }
    }

    fn kind(self) -> EventLogKind {
        match self {
            Self::Stdout => EventLogKind::Write,
            Self::Stderr => EventLogKind::WriteOther,
            Self::Stdin => EventLogKind::Read,
        }
    }
}

/// Where the trace stood after the last line step (or IO event): an event at the same
/// thread and line, with no record written since, needs no new `Step`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Anchor {
    pub(super) tid: u64,
    pub(super) path: PathId,
    pub(super) line: i64,
    pub(super) records: u64,
}

/// Text of an IO event gathered over consecutive writes (emitted before the next record).
pub(super) struct PendingIo {
    stream: IoStream,
    origin: IoOrigin,
    tid: u64,
    at: Option<(PathId, i64)>,
    /// Records written when it started: more writes join it only while this holds.
    records: u64,
    metadata: String,
    text: String,
}

/// An IO event's text grows over consecutive writes up to this many bytes.
const MAX_PENDING_TEXT: usize = 1 << 16;

/// Where an IO event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoOrigin {
    /// A Python-level stream proxy (`sys.stdout.write`, `input()`, ...).
    Proxy,
    /// The fd reader of `proxies+fd` (bytes written to the fd directly).
    Fd,
}

impl RuntimeTracer {
    /// Notes the line step just written (with its values): an IO event of this thread at
    /// this line, before any other record, follows it without a new step.
    #[inline]
    pub(super) fn anchor_io(&mut self, path: PathId, line: i64) {
        if let Some(rec) = self.rec.as_ref() {
            self.io_anchor = Some(Anchor {
                tid: self.threads.current(),
                path,
                line,
                records: rec.records(),
            });
        }
    }

    /// Records one IO event; a no-op while recording is not active (fd bytes: before it
    /// began) or after a failure.
    pub fn record_io(
        &mut self,
        py: Python<'_>,
        stream: IoStream,
        origin: IoOrigin,
        text: &str,
    ) -> Result<(), RecorderFailure> {
        // The fd reader lags behind the program: bytes it reads after the activation frame
        // returned were most likely written before, so they are still recorded.
        let live = match self.activation.phase() {
            Phase::Active => true,
            Phase::Done => origin == Origin::Fd,
            Phase::Waiting => false,
        };
        if !live || self.failure.is_some() || self.rec.is_none() {
            return Ok(());
        }
        let result = self.write_io_event(py, stream, origin, text);
        if let Err(failure) = &result {
            self.failure.get_or_insert(failure.clone());
        }
        result
    }

    fn write_io_event(
        &mut self,
        py: Python<'_>,
        stream: IoStream,
        origin: IoOrigin,
        text: &str,
    ) -> Result<(), RecorderFailure> {
        // The thread-state key (what the thread stacks are keyed by: unique per thread
        // lifetime); the ident is what the event's metadata shows.
        let tid = thread_key();
        let at = match origin {
            Origin::Proxy => self.innermost_recorded_line(py),
            Origin::Fd => None,
        };
        // `print(a, b)` writes "a", " ", "b", "\n": one event while nothing else is recorded.
        if let (Some(p), Some(rec)) = (self.io_pending.as_mut(), self.rec.as_ref()) {
            if p.stream == stream
                && p.origin == origin
                && p.tid == tid
                && p.at == at
                && p.records == rec.records()
                && p.text.len() < MAX_PENDING_TEXT
            {
                p.text.push_str(text);
                return Ok(());
            }
        }
        self.emit_pending_io()?;
        let Self {
            rec: Some(rec),
            threads,
            io_anchor,
            io_pending,
            io_sites,
            ..
        } = self
        else {
            return Ok(());
        };
        let (path, line) = match at {
            Some((path, line)) => {
                threads.switch_to(tid, thread_ident, rec)?;
                let here = Anchor {
                    tid,
                    path,
                    line,
                    records: rec.records(),
                };
                if *io_anchor != Some(here) {
                    rec.step(path, line)?;
                }
                *io_anchor = Some(Anchor {
                    records: rec.records(),
                    ..here
                });
                (Some(path), line)
            }
            // No recorded frame on this thread (the fd reader, a thread running only skipped
            // code): the event follows the last step written, whichever thread wrote it.
            None => match *io_anchor {
                Some(a) => (Some(a.path), a.line),
                None => (None, 0),
            },
        };
        let key = MetadataKey {
            stream,
            origin,
            thread: thread_ident(),
            path,
            line,
        };
        let metadata = io_sites.metadata(key, |key| {
            event_metadata(key, path.and_then(|p| rec.path_list().get(p.0)))
        });
        *io_pending = Some(PendingIo {
            stream,
            origin,
            tid,
            at,
            records: rec.records(),
            metadata,
            text: text.to_owned(),
        });
        Ok(())
    }

    /// Writes the IO event being gathered, if any. Called before every other record (the
    /// event handlers, flush and finish call it), so the event stays right after its step.
    pub(super) fn emit_pending_io(&mut self) -> Result<(), RecorderFailure> {
        let (Some(p), Some(rec)) = (self.io_pending.take(), self.rec.as_mut()) else {
            return Ok(());
        };
        rec.event(p.stream.kind(), p.metadata, p.text)?;
        // The next event on the same line follows this one without a new step.
        if let Some(a) = self.io_anchor.as_mut().filter(|a| a.records == p.records) {
            a.records = rec.records();
        }
        Ok(())
    }

    /// The path id and current line of the innermost frame of this thread whose code is
    /// recorded (has had a step), or `None`.
    fn innermost_recorded_line(&mut self, _py: Python<'_>) -> Option<(PathId, i64)> {
        // SAFETY: the GIL is held (`_py`). `PyEval_GetFrame` returns a borrowed frame, which we
        // take a reference to; `PyFrame_GetBack` and `PyFrame_GetCode` return new references,
        // each released before the next step of the walk (the code object is only compared by
        // address, and it stays alive as long as its frame, which we hold).
        unsafe {
            let mut frame = ffi::PyEval_GetFrame();
            ffi::Py_XINCREF(frame.cast());
            while !frame.is_null() {
                let code = ffi::PyFrame_GetCode(frame);
                let key = code as usize;
                ffi::Py_XDECREF(code.cast());
                let found = self
                    .codes
                    .get(&key)
                    .filter(|info| info.traced)
                    .and_then(|info| info.path_id);
                if let Some(path) = found {
                    let line = self.io_sites.line(key, frame);
                    ffi::Py_DECREF(frame.cast());
                    return Some((path, line));
                }
                let back = ffi::PyFrame_GetBack(frame);
                ffi::Py_DECREF(frame.cast());
                frame = back;
            }
        }
        None
    }
}

/// What is remembered about the call sites IO events come from (a program writing in a loop
/// asks about the same few sites again and again):
///
/// - the line of a frame's current instruction, per (code, instruction offset):
///   `PyFrame_GetLineNumber` scans the code's line table from its start on every call. Only
///   codes of the tracer's code cache are asked about, which it keeps alive, so an address is
///   never another code's;
/// - the metadata of the last event, reused while stream, thread and place stay the same.
#[derive(Default)]
pub(super) struct SiteCache {
    lines: IdHashMap<(usize, i32), i64>,
    metadata: Option<(MetadataKey, String)>,
}

/// Everything an event's metadata says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct MetadataKey {
    stream: IoStream,
    origin: IoOrigin,
    thread: u64,
    path: Option<PathId>,
    line: i64,
}

/// Entries the line cache holds before it starts over.
const MAX_CACHED_LINES: usize = 1 << 12;

impl SiteCache {
    /// The metadata of an event at `key` (built by `build` unless the last event's matches).
    fn metadata(&mut self, key: MetadataKey, build: impl FnOnce(MetadataKey) -> String) -> String {
        match &self.metadata {
            Some((last, text)) if *last == key => text.clone(),
            _ => {
                let text = build(key);
                self.metadata = Some((key, text.clone()));
                text
            }
        }
    }

    /// The current line of `frame`, whose code object is at address `code`.
    ///
    /// # Safety
    /// The GIL is held and `frame` is a live frame object of the code at `code`.
    unsafe fn line(&mut self, code: usize, frame: *mut ffi::PyFrameObject) -> i64 {
        // SAFETY: the caller's contract (a live frame, the GIL held).
        let lasti = unsafe { ffi::PyFrame_GetLasti(frame) };
        if let Some(line) = self.lines.get(&(code, lasti)) {
            return *line;
        }
        // SAFETY: as above.
        let line = i64::from(unsafe { ffi::PyFrame_GetLineNumber(frame) });
        if self.lines.len() >= MAX_CACHED_LINES {
            self.lines.clear();
        }
        self.lines.insert((code, lasti), line);
        line
    }
}

/// The metadata of an IO event (keys in the order `serde_json` sorts them): its stream, the
/// ident of the thread that did it, the path and line of the step it follows, and whether a
/// proxy or the fd reader saw it. Written by hand (a `serde_json::Value` costs several times
/// more, and it is built for every event that does not repeat the last one's place).
fn event_metadata(key: MetadataKey, path: Option<&String>) -> String {
    let path = path
        .and_then(|p| serde_json::to_string(p).ok())
        .unwrap_or_else(|| "null".to_owned());
    let source = match key.origin {
        Origin::Proxy => "proxy",
        Origin::Fd => "fd",
    };
    format!(
        r#"{{"line":{},"path":{path},"source":"{source}","stream":"{}","thread":{}}}"#,
        key.line,
        key.stream.name(),
        key.thread
    )
}

use IoOrigin as Origin;
