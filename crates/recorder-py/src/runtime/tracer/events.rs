//! The [`Tracer`] implementation: one handler per sys.monitoring event the recorder uses.
//!
//! Global events: PY_START, PY_RESUME, PY_THROW, PY_UNWIND. Code the scope rule does not
//! record answers `DISABLE` at PY_START/PY_RESUME, so it costs nothing afterwards; recorded
//! code gets LINE, PY_RETURN and PY_YIELD as *local* events. PY_THROW and PY_UNWIND cannot be
//! disabled, so their handlers return after one cache lookup for untraced code.

use codetracer_monitoring::{
    CallbackOutcome, CallbackResult, EventSet, MonitoringEvents, Tracer, TracerError,
};
use pyo3::prelude::*;
use pyo3::types::PyCode;

use super::recording::Entry;
use super::RuntimeTracer;
use crate::errors::RecorderFailure;
use crate::runtime::activation::Phase;

const CONTINUE: CallbackResult = Ok(CallbackOutcome::Continue);

impl RuntimeTracer {
    /// Turns a failed recording step into the tracer error the monitoring layer reports;
    /// recording stops at the first failure (later events are ignored).
    fn outcome(&mut self, result: Result<(), RecorderFailure>) -> CallbackResult {
        match result {
            Ok(()) => CONTINUE,
            Err(failure) => {
                let message = failure.to_string();
                self.failure = Some(failure);
                Err(TracerError::msg(message))
            }
        }
    }

    /// Writes a gathered IO event before the record an event handler is about to write.
    #[inline]
    fn flush_io(&mut self) -> Result<(), RecorderFailure> {
        if self.io_pending.is_some() {
            self.emit_pending_io()
        } else {
            Ok(())
        }
    }

    /// Shared by PY_START / PY_RESUME / PY_THROW.
    fn on_entry(
        &mut self,
        py: Python<'_>,
        code: &Bound<'_, PyCode>,
        entry: Entry<'_, '_>,
        can_disable: bool,
    ) -> CallbackResult {
        if self.failure.is_some() {
            return CONTINUE;
        }
        if self.rec.is_none() {
            return self.idle_entry(py, code, can_disable);
        }
        let (traced, is_activation_file) = match self.ensure_info(py, code) {
            Ok(info) => (info.traced, info.is_activation_file),
            Err(e) => return Err(TracerError::Python(e)),
        };
        if !traced {
            let key = code.as_ptr() as usize;
            if matches!(entry, Entry::Start) {
                if self.activation.is_gate(key) && self.activation.is_active() {
                    self.activation.gate_entered();
                    return CONTINUE;
                }
                if is_activation_file && self.activation.open_gate(key) {
                    // Activation decides when, the filters what: the skipped activation code
                    // opens the gate; only its returns are watched, to close it again.
                    let result = self.watch_gate_returns(py, key);
                    return self.outcome(result);
                }
            }
            return Ok(if can_disable {
                CallbackOutcome::Disable
            } else {
                CallbackOutcome::Continue
            });
        }
        let activation = match self.activation.phase() {
            Phase::Active => false,
            Phase::Waiting if is_activation_file && matches!(entry, Entry::Start) => {
                self.activation.activate()
            }
            Phase::Waiting | Phase::Done => return CONTINUE,
        };
        let result = self
            .flush_io()
            .and_then(|()| self.record_entry(py, code, entry, activation));
        self.outcome(result)
    }

    /// An entry while no trace is open: between the recordings of a series (see
    /// `session::series`) the tracer stays installed. Code first seen then is decided as
    /// usual, and skipped code is disabled, so the next recording finds it settled; recorded
    /// code writes nothing.
    fn idle_entry(
        &mut self,
        py: Python<'_>,
        code: &Bound<'_, PyCode>,
        can_disable: bool,
    ) -> CallbackResult {
        match self.ensure_info(py, code) {
            Ok(info) if !info.traced && can_disable => Ok(CallbackOutcome::Disable),
            Ok(_) => CONTINUE,
            Err(e) => Err(TracerError::Python(e)),
        }
    }

    fn on_exit(
        &mut self,
        py: Python<'_>,
        code: &Bound<'_, PyCode>,
        value: &Bound<'_, PyAny>,
        unwinding: bool,
    ) -> CallbackResult {
        if !self.activation.is_active() || self.failure.is_some() || self.rec.is_none() {
            return CONTINUE;
        }
        let key = code.as_ptr() as usize;
        match self.codes.get(&key) {
            Some(info) if info.traced => {}
            Some(_) if self.activation.is_gate(key) => {
                self.gate_exit(value, unwinding);
                return CONTINUE;
            }
            _ => return CONTINUE,
        }
        let result = self
            .flush_io()
            .and_then(|()| self.record_exit(py, code, value, unwinding));
        self.outcome(result)
    }
}

impl Tracer for RuntimeTracer {
    /// Callbacks for the global events and for the local ones set per recorded code object.
    fn interest(&self, events: &MonitoringEvents) -> EventSet {
        self.global_events(events) | events.line | events.py_return | events.py_yield
    }

    /// Entry and unwind events everywhere; LINE/PY_RETURN/PY_YIELD only where recorded code
    /// enables them locally.
    fn global_events(&self, events: &MonitoringEvents) -> EventSet {
        events.py_start | events.py_resume | events.py_throw | events.py_unwind
    }

    fn on_py_start(
        &mut self,
        py: Python<'_>,
        code: &Bound<'_, PyCode>,
        _offset: i32,
    ) -> CallbackResult {
        self.on_entry(py, code, Entry::Start, true)
    }

    fn on_py_resume(
        &mut self,
        py: Python<'_>,
        code: &Bound<'_, PyCode>,
        _offset: i32,
    ) -> CallbackResult {
        self.on_entry(py, code, Entry::Resume, true)
    }

    fn on_py_throw(
        &mut self,
        py: Python<'_>,
        code: &Bound<'_, PyCode>,
        _offset: i32,
        exception: &Bound<'_, PyAny>,
    ) -> CallbackResult {
        self.on_entry(py, code, Entry::Throw(exception), false)
    }

    fn on_py_return(
        &mut self,
        py: Python<'_>,
        code: &Bound<'_, PyCode>,
        _offset: i32,
        retval: &Bound<'_, PyAny>,
    ) -> CallbackResult {
        self.on_exit(py, code, retval, false)
    }

    fn on_py_yield(
        &mut self,
        py: Python<'_>,
        code: &Bound<'_, PyCode>,
        _offset: i32,
        retval: &Bound<'_, PyAny>,
    ) -> CallbackResult {
        self.on_exit(py, code, retval, false)
    }

    fn on_py_unwind(
        &mut self,
        py: Python<'_>,
        code: &Bound<'_, PyCode>,
        _offset: i32,
        exception: &Bound<'_, PyAny>,
    ) -> CallbackResult {
        self.on_exit(py, code, exception, true)
    }

    fn on_line(&mut self, py: Python<'_>, code: &Bound<'_, PyCode>, line: u32) -> CallbackResult {
        if !self.activation.is_active() || self.failure.is_some() || self.rec.is_none() {
            return CONTINUE;
        }
        match self.codes.get(&(code.as_ptr() as usize)) {
            Some(info) if info.traced => {}
            _ => return Ok(CallbackOutcome::Disable),
        }
        let result = self
            .flush_io()
            .and_then(|()| self.record_line(py, code, line));
        self.outcome(result)
    }

    fn flush(&mut self, _py: Python<'_>) -> Result<(), TracerError> {
        self.flush_files()
            .map_err(|e| TracerError::msg(e.to_string()))
    }
}
