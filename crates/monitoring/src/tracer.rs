//! The [`Tracer`] trait a tool implements, and what its callbacks return.

use std::any::Any;

use pyo3::prelude::*;
use pyo3::types::PyCode;

use crate::error::TracerError;
use crate::events::{EventSet, MonitoringEvents};

/// What a callback tells CPython after handling an event.
#[derive(Copy, Clone, PartialEq, Eq, Debug, Default)]
pub enum CallbackOutcome {
    /// Keep delivering this event at this location (the callback returns `None`).
    #[default]
    Continue,
    /// Stop delivering this event at this code location for this tool (the callback returns
    /// `sys.monitoring.DISABLE`) until [`restart_events`](crate::restart_events). Only the
    /// "local" events can be disabled (`PY_START`, `PY_RESUME`, `PY_RETURN`, `PY_YIELD`, `CALL`,
    /// `LINE`, `INSTRUCTION`, `JUMP`, `BRANCH*`, `STOP_ITERATION`); CPython rejects `DISABLE`
    /// from the others (and unregisters the callback), so for those the dispatcher returns
    /// `None` instead and the event keeps coming.
    Disable,
}

/// What every tracer callback returns.
pub type CallbackResult = Result<CallbackOutcome, TracerError>;

/// Called (with the tracer lock released) when a tracer method returns `Err` or panics.
///
/// Return `Some(err)` to raise that exception into the interpreter at the event site, `None` to
/// swallow the failure and let the program continue.
pub type ErrorHook = Box<dyn Fn(Python<'_>, TracerError) -> Option<PyErr> + Send + Sync>;

/// Upcast to [`Any`], implemented for every `'static` type; lets
/// [`with_tracer`](crate::with_tracer) recover the concrete tracer type.
pub trait AsAnyMut: Any {
    /// `self` as `&mut dyn Any`.
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

impl<T: Any> AsAnyMut for T {
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// A `sys.monitoring` tool: one method per event, each defaulting to "continue, do nothing".
///
/// Install it with [`install`](crate::install); only the events returned by
/// [`interest`](Tracer::interest) get a callback registered. Methods run with the GIL held and
/// are never re-entered: if an event arrives while the tracer is already handling one (a
/// finaliser or nested Python code running inside a callback, or another thread while this
/// callback has released the GIL) that event is skipped.
///
/// `offset` is the bytecode offset CPython reports; `line` the line number.
#[allow(unused_variables)]
pub trait Tracer: AsAnyMut + Send + 'static {
    /// The events this tracer has callbacks for: one callback per event is registered when
    /// installed. Events it only enables per code object (local events, see
    /// [`set_local_events`](crate::set_local_events)) belong here too.
    fn interest(&self, events: &MonitoringEvents) -> EventSet;

    /// The events enabled for every code object when installed; defaults to all of
    /// [`Tracer::interest`]. Return a subset to receive the others only where they are enabled
    /// as local events.
    fn global_events(&self, events: &MonitoringEvents) -> EventSet {
        self.interest(events)
    }

    /// `PY_START`: a Python function, generator or coroutine starts.
    fn on_py_start(
        &mut self,
        py: Python<'_>,
        code: &Bound<'_, PyCode>,
        offset: i32,
    ) -> CallbackResult {
        Ok(CallbackOutcome::Continue)
    }

    /// `PY_RESUME`: a generator or coroutine resumes (except via `throw`).
    fn on_py_resume(
        &mut self,
        py: Python<'_>,
        code: &Bound<'_, PyCode>,
        offset: i32,
    ) -> CallbackResult {
        Ok(CallbackOutcome::Continue)
    }

    /// `PY_RETURN`: a Python function returns `retval`.
    fn on_py_return(
        &mut self,
        py: Python<'_>,
        code: &Bound<'_, PyCode>,
        offset: i32,
        retval: &Bound<'_, PyAny>,
    ) -> CallbackResult {
        Ok(CallbackOutcome::Continue)
    }

    /// `PY_YIELD`: a generator or coroutine yields `retval`.
    fn on_py_yield(
        &mut self,
        py: Python<'_>,
        code: &Bound<'_, PyCode>,
        offset: i32,
        retval: &Bound<'_, PyAny>,
    ) -> CallbackResult {
        Ok(CallbackOutcome::Continue)
    }

    /// `PY_THROW`: a generator or coroutine is resumed by `throw(exception)`.
    fn on_py_throw(
        &mut self,
        py: Python<'_>,
        code: &Bound<'_, PyCode>,
        offset: i32,
        exception: &Bound<'_, PyAny>,
    ) -> CallbackResult {
        Ok(CallbackOutcome::Continue)
    }

    /// `PY_UNWIND`: a Python function exits because of `exception`.
    fn on_py_unwind(
        &mut self,
        py: Python<'_>,
        code: &Bound<'_, PyCode>,
        offset: i32,
        exception: &Bound<'_, PyAny>,
    ) -> CallbackResult {
        Ok(CallbackOutcome::Continue)
    }

    /// `LINE`: execution reaches a new `line` of `code`.
    fn on_line(&mut self, py: Python<'_>, code: &Bound<'_, PyCode>, line: u32) -> CallbackResult {
        Ok(CallbackOutcome::Continue)
    }

    /// `INSTRUCTION`: the instruction at `offset` is about to run.
    fn on_instruction(
        &mut self,
        py: Python<'_>,
        code: &Bound<'_, PyCode>,
        offset: i32,
    ) -> CallbackResult {
        Ok(CallbackOutcome::Continue)
    }

    /// `JUMP`: an unconditional jump from `offset` to `destination`.
    fn on_jump(
        &mut self,
        py: Python<'_>,
        code: &Bound<'_, PyCode>,
        offset: i32,
        destination: i32,
    ) -> CallbackResult {
        Ok(CallbackOutcome::Continue)
    }

    /// `BRANCH`: a conditional branch at `offset` continues at `destination`.
    fn on_branch(
        &mut self,
        py: Python<'_>,
        code: &Bound<'_, PyCode>,
        offset: i32,
        destination: i32,
    ) -> CallbackResult {
        Ok(CallbackOutcome::Continue)
    }

    /// `BRANCH_LEFT` (3.14+): a conditional branch goes left, to `destination`.
    fn on_branch_left(
        &mut self,
        py: Python<'_>,
        code: &Bound<'_, PyCode>,
        offset: i32,
        destination: i32,
    ) -> CallbackResult {
        Ok(CallbackOutcome::Continue)
    }

    /// `BRANCH_RIGHT` (3.14+): a conditional branch goes right, to `destination`.
    fn on_branch_right(
        &mut self,
        py: Python<'_>,
        code: &Bound<'_, PyCode>,
        offset: i32,
        destination: i32,
    ) -> CallbackResult {
        Ok(CallbackOutcome::Continue)
    }

    /// `CALL`: `callable` is about to be called; `arg0` is its first argument or
    /// `sys.monitoring.MISSING` (see [`missing_sentinel`](crate::missing_sentinel)).
    fn on_call(
        &mut self,
        py: Python<'_>,
        code: &Bound<'_, PyCode>,
        offset: i32,
        callable: &Bound<'_, PyAny>,
        arg0: &Bound<'_, PyAny>,
    ) -> CallbackResult {
        Ok(CallbackOutcome::Continue)
    }

    /// `C_RETURN`: a callable that is not a Python function returned.
    fn on_c_return(
        &mut self,
        py: Python<'_>,
        code: &Bound<'_, PyCode>,
        offset: i32,
        callable: &Bound<'_, PyAny>,
        arg0: &Bound<'_, PyAny>,
    ) -> CallbackResult {
        Ok(CallbackOutcome::Continue)
    }

    /// `C_RAISE`: a callable that is not a Python function raised.
    fn on_c_raise(
        &mut self,
        py: Python<'_>,
        code: &Bound<'_, PyCode>,
        offset: i32,
        callable: &Bound<'_, PyAny>,
        arg0: &Bound<'_, PyAny>,
    ) -> CallbackResult {
        Ok(CallbackOutcome::Continue)
    }

    /// `RAISE`: `exception` is raised.
    fn on_raise(
        &mut self,
        py: Python<'_>,
        code: &Bound<'_, PyCode>,
        offset: i32,
        exception: &Bound<'_, PyAny>,
    ) -> CallbackResult {
        Ok(CallbackOutcome::Continue)
    }

    /// `RERAISE`: `exception` is re-raised.
    fn on_reraise(
        &mut self,
        py: Python<'_>,
        code: &Bound<'_, PyCode>,
        offset: i32,
        exception: &Bound<'_, PyAny>,
    ) -> CallbackResult {
        Ok(CallbackOutcome::Continue)
    }

    /// `EXCEPTION_HANDLED`: `exception` is caught.
    fn on_exception_handled(
        &mut self,
        py: Python<'_>,
        code: &Bound<'_, PyCode>,
        offset: i32,
        exception: &Bound<'_, PyAny>,
    ) -> CallbackResult {
        Ok(CallbackOutcome::Continue)
    }

    /// `STOP_ITERATION`: an artificial `StopIteration` (`exception`) is raised.
    fn on_stop_iteration(
        &mut self,
        py: Python<'_>,
        code: &Bound<'_, PyCode>,
        offset: i32,
        exception: &Bound<'_, PyAny>,
    ) -> CallbackResult {
        Ok(CallbackOutcome::Continue)
    }

    /// Writes out anything buffered; called by [`flush`](crate::flush).
    fn flush(&mut self, py: Python<'_>) -> Result<(), TracerError> {
        Ok(())
    }
}
