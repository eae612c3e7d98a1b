//! The record-writing steps shared by the event handlers: declaring a code object's path,
//! function and variable ids on first use, and writing steps, calls and returns with their
//! values.

use codetracer_trace_stream::types::{FunctionId, PathId, VariableId};
use pyo3::prelude::*;
use pyo3::types::PyCode;

use super::{RuntimeTracer, ValueStats};
use crate::errors::RecorderFailure;
use crate::failure_injection::{self, Point};
use crate::runtime::code_info::CodeInfo;
use crate::runtime::code_info::VarSlot;
use crate::runtime::frame::{self, thread_ident, thread_key};
use crate::runtime::scope::stricter;
use crate::runtime::scope::Scope;
use crate::runtime::threads::OpenCall;
use crate::runtime::types::Fixed;
use crate::runtime::value_encoder::{exception_text, FormatEncoder, Out};
use codetracer_trace_filter::{ValueAction, ValueKind, DROPPED_MARKER, REDACTED_MARKER};

/// What kind of entry a `Call` records.
pub(super) enum Entry<'a, 'py> {
    /// A fresh call (`PY_START`): arguments in signature order.
    Start,
    /// A generator/coroutine resumption (`PY_RESUME`): no arguments.
    Resume,
    /// A resumption by `throw()` (`PY_THROW`): the exception as argument `exception`.
    Throw(&'a Bound<'py, PyAny>),
}

impl RuntimeTracer {
    /// Declares path, function and variable ids of `key`'s code (once per recording).
    fn declare_code(&mut self, key: usize) -> Result<(PathId, FunctionId), RecorderFailure> {
        let (Some(rec), Some(info)) = (self.rec.as_mut(), self.codes.get_mut(&key)) else {
            return Err(RecorderFailure::internal("recording state missing"));
        };
        if let (Some(p), Some(f)) = (info.path_id, info.function_id) {
            return Ok((p, f));
        }
        let path_id = rec.path_id_hinted(&info.filename, info.max_line)?;
        let name = match &info.function_name {
            Some(n) => n.clone(),
            None if info.is_module => {
                codetracer_module_identity::module_function_name(info.module.as_deref())
            }
            None => info.qualname.clone(),
        };
        let function_id = rec.new_function(&name, path_id, info.first_line)?;
        info.ensure_variable_ids(rec)?;
        info.function_name = Some(name);
        info.path_id = Some(path_id);
        info.function_id = Some(function_id);
        self.declared.push(key);
        Ok((path_id, function_id))
    }

    /// `Step` at the definition line + `Call` (with arguments), then pushes the open call.
    pub(super) fn record_entry(
        &mut self,
        py: Python<'_>,
        code: &Bound<'_, PyCode>,
        entry: Entry<'_, '_>,
        activation: bool,
    ) -> Result<(), RecorderFailure> {
        let key = code.as_ptr() as usize;
        self.enable_local_events(py, key)?;
        let (path_id, function_id) = self.declare_code(key)?;
        let Self {
            rec: Some(rec),
            codes,
            types,
            encoder,
            value_stats,
            threads,
            scope,
            ..
        } = self
        else {
            return Ok(());
        };
        threads.switch_to(thread_key(), thread_ident, rec)?;
        let Some(info) = codes.get(&key) else {
            return Ok(());
        };
        rec.step(path_id, info.first_line)?;
        let mut tally = Tally::default();
        // Argument values, encoded one after another into one buffer.
        let mut arg_bytes: Vec<u8> = Vec::new();
        let mut arg_spans: Vec<(VariableId, std::ops::Range<usize>)> = Vec::new();
        let mut failure = None;
        match entry {
            Entry::Start => {
                if let Some(f) =
                    frame::current_frame(py).filter(|f| frame::frame_runs(f, code.as_ptr()))
                {
                    let mut attrs = |name: &str| scope.attr_action(key as u64, name);
                    frame::for_each_local(
                        py,
                        &f,
                        &info.locals,
                        Some(&info.params),
                        |slot, value| {
                            if failure.is_some() {
                                return;
                            }
                            tally.note(slot.action);
                            let mut out = Out {
                                types,
                                rec,
                                attrs: Some(&mut attrs),
                                attrs_token: info.attrs_token,
                            };
                            // SAFETY: `value` is a live reference for the duration of the visit.
                            match unsafe {
                                filtered_value(encoder, py, value, slot.action, &mut out)
                            } {
                                Ok(Some(v)) => {
                                    let from = arg_bytes.len();
                                    arg_bytes.extend_from_slice(v);
                                    arg_spans
                                        .push((slot.id.unwrap_or_default(), from..arg_bytes.len()));
                                    let len = arg_bytes.len() - from;
                                    count_value(value_stats, encoder, slot.action, len);
                                }
                                Ok(None) => {}
                                Err(e) => failure = Some(e),
                            }
                        },
                    );
                }
            }
            Entry::Resume => {}
            Entry::Throw(exc) => {
                let variable_id = rec.variable_id("exception")?;
                let value = encoder.encode(py, exc, &mut Out::new(types, rec))?;
                arg_bytes.extend_from_slice(value);
                arg_spans.push((variable_id, 0..arg_bytes.len()));
                count_value(value_stats, encoder, ValueAction::Allow, arg_bytes.len());
            }
        }
        if let Some(e) = failure {
            return Err(e);
        }
        tally.apply(scope, codetracer_trace_filter::ValueKind::Arg);
        let args: Vec<(VariableId, &[u8])> = arg_spans
            .iter()
            .map(|(id, span)| (*id, arg_bytes.get(span.clone()).unwrap_or(&[])))
            .collect();
        rec.call_bytes(function_id, &args)?;
        threads.stack().push(OpenCall {
            code: key,
            activation,
        });
        Ok(())
    }

    /// `Step` at `line`, then every visible variable's `Value`.
    pub(super) fn record_line(
        &mut self,
        py: Python<'_>,
        code: &Bound<'_, PyCode>,
        line: u32,
    ) -> Result<(), RecorderFailure> {
        failure_injection::check(Point::Line)?;
        let key = code.as_ptr() as usize;
        let (path_id, _) = self.declare_code(key)?;
        {
            let Self {
                rec: Some(rec),
                codes,
                types,
                encoder,
                value_stats,
                threads,
                scope,
                ..
            } = self
            else {
                return Ok(());
            };
            threads.switch_to(thread_key(), thread_ident, rec)?;
            let Some(info) = codes.get(&key) else {
                return Ok(());
            };
            let frame = frame::current_frame(py).filter(|f| frame::frame_runs(f, code.as_ptr()));
            let column = match &frame {
                Some(f) if !info.columns.is_empty() => info.column_at(frame::last_instruction(f)),
                _ => 0,
            };
            rec.step_at(path_id, i64::from(line), column)?;
            let Some(f) = frame else {
                return Ok(());
            };
            let mut failure = None;
            let mut locals = Tally::default();
            let mut globals = Tally::default();
            {
                let mut attrs = |name: &str| scope.attr_action(key as u64, name);
                let mut visit =
                    |slot: &VarSlot, value: *mut pyo3::ffi::PyObject, tally: &mut Tally| {
                        if failure.is_some() {
                            return;
                        }
                        tally.note(slot.action);
                        let mut out = Out {
                            types: &mut *types,
                            rec: &mut *rec,
                            attrs: Some(&mut attrs),
                            attrs_token: info.attrs_token,
                        };
                        // SAFETY: `value` is a live reference for the duration of the visit.
                        let result =
                            unsafe { filtered_value(encoder, py, value, slot.action, &mut out) }
                                .and_then(|v| match v {
                                    Some(v) => {
                                        out.rec.value_bytes(slot.id.unwrap_or_default(), v)?;
                                        Ok(Some(v.len()))
                                    }
                                    None => Ok(None),
                                });
                        match result {
                            Ok(Some(len)) => count_value(value_stats, encoder, slot.action, len),
                            Ok(None) => {}
                            Err(e) => failure = Some(e),
                        }
                    };
                if !info.is_module {
                    frame::for_each_local(py, &f, &info.locals, None, |s, v| {
                        visit(s, v, &mut locals)
                    });
                }
                frame::for_each_global(py, &f, &info.globals, None, |s, v| {
                    visit(s, v, &mut globals)
                });
            }
            if let Some(e) = failure {
                return Err(e);
            }
            locals.apply(scope, codetracer_trace_filter::ValueKind::Local);
            globals.apply(scope, codetracer_trace_filter::ValueKind::Global);
        }
        self.anchor_io(path_id, i64::from(line));
        self.maybe_periodic_flush()
    }

    /// `Return` of the top open call if it runs `code` (calls opened before recording began
    /// have no entry, so their returns are not written).
    pub(super) fn record_exit(
        &mut self,
        py: Python<'_>,
        code: &Bound<'_, PyCode>,
        value: &Bound<'_, PyAny>,
        unwinding: bool,
    ) -> Result<(), RecorderFailure> {
        failure_injection::check(Point::Return)?;
        let key = code.as_ptr() as usize;
        let (return_action, attrs_token) = match self.codes.get(&key) {
            // A value held by a variable the filters hide is hidden as it leaves, too.
            Some(info) if !unwinding => (
                stricter(info.return_action, hidden_holder(py, info, value.as_ptr())),
                info.attrs_token,
            ),
            Some(info) => (info.return_action, info.attrs_token),
            None => (ValueAction::Allow, 0),
        };
        let Self {
            rec: Some(rec),
            types,
            encoder,
            value_stats,
            threads,
            activation,
            uncaught,
            scope,
            ..
        } = self
        else {
            return Ok(());
        };
        threads.switch_to(thread_key(), thread_ident, rec)?;
        let Some(open) = threads.pop_if(key) else {
            return Ok(());
        };
        if open.activation {
            // `sys.exit()` leaving the script is a normal end, not an uncaught exception.
            if unwinding && !value.is_instance_of::<pyo3::exceptions::PySystemExit>() {
                // SAFETY: `value` is a live exception instance and the GIL is held.
                *uncaught = Some(unsafe { exception_text(value.as_ptr()) });
            }
            activation.finish();
        }
        if !unwinding {
            scope.count(codetracer_trace_filter::ValueKind::Return, return_action);
        }
        let mut attrs = |name: &str| scope.attr_action(key as u64, name);
        let mut out = Out {
            types,
            rec: &mut *rec,
            attrs: Some(&mut attrs),
            attrs_token,
        };
        // What the value is counted as: encoded (`Allow`) or a marker.
        let mut counted_as = ValueAction::Allow;
        let encoded: &[u8] = if unwinding {
            encoder.encode(py, value, &mut out)?
        } else {
            // SAFETY: `value` is a live object for the duration of the call.
            let filtered =
                unsafe { filtered_value(encoder, py, value.as_ptr(), return_action, &mut out) }?
                    .is_some();
            if filtered {
                counted_as = return_action;
                encoder.last_bytes()
            } else {
                // A dropped return value keeps its Return, with a marker.
                counted_as = ValueAction::Drop;
                encoder.marker(Fixed::Redacted, DROPPED_MARKER, &mut out)?
            }
        };
        let len = encoded.len();
        if unwinding {
            out.rec.unwind_bytes(encoded)?;
        } else {
            out.rec.ret_bytes(encoded)?;
        }
        count_value(value_stats, encoder, counted_as, len);
        threads.maybe_exit(rec)
    }
}

/// The strictest action of the variables of `info`'s running frame that the filters hide and
/// that hold exactly `obj`: a function returning its secret-named variable's value
/// (`return api_key`, also a closure's free variable, or a secret-named global) has its return
/// value hidden too. A value *computed* from a secret (`api_key.strip()`) is a new object and
/// is not recognised.
fn hidden_holder(py: Python<'_>, info: &CodeInfo, obj: *mut pyo3::ffi::PyObject) -> ValueAction {
    if info.hidden_locals.is_empty() && info.hidden_globals.is_empty() {
        return ValueAction::Allow;
    }
    let Some(f) = frame::current_frame(py).filter(|f| frame::frame_runs(f, info.code.as_ptr()))
    else {
        return ValueAction::Allow;
    };
    let mut action = ValueAction::Allow;
    let mut note = |slot: &VarSlot, value: *mut pyo3::ffi::PyObject| {
        if value == obj {
            action = stricter(action, slot.action);
        }
    };
    if !info.is_module {
        frame::for_each_local(py, &f, &info.locals, Some(&info.hidden_locals), &mut note);
    }
    frame::for_each_global(py, &f, &info.globals, Some(&info.hidden_globals), &mut note);
    action
}

/// Counts a value of `len` bytes just written: one `filtered_value` (or `encode`) gave under
/// `action` — nodes and reuse as the encoder saw them when encoded, one node for a marker.
#[inline(always)]
fn count_value(stats: &mut ValueStats, encoder: &FormatEncoder, action: ValueAction, len: usize) {
    let (nodes, reused) = match action {
        ValueAction::Allow => encoder.last_counts(),
        ValueAction::Redact | ValueAction::Drop => (1, false),
    };
    stats.note(len, nodes, reused);
}

/// Redactions and drops seen while writing one record, counted into the filter summary after.
#[derive(Default)]
struct Tally {
    redacted: u64,
    dropped: u64,
}

impl Tally {
    fn note(&mut self, action: ValueAction) {
        match action {
            ValueAction::Allow => {}
            ValueAction::Redact => self.redacted += 1,
            ValueAction::Drop => self.dropped += 1,
        }
    }

    fn apply(&self, scope: &mut Scope, kind: ValueKind) {
        for _ in 0..self.redacted {
            scope.count(kind, ValueAction::Redact);
        }
        for _ in 0..self.dropped {
            scope.count(kind, ValueAction::Drop);
        }
    }
}

/// Encodes `value` as the filters say: `None` when dropped, `<redacted>` when redacted.
///
/// # Safety
/// `value` must be a live object pointer and the GIL held.
unsafe fn filtered_value<'e>(
    encoder: &'e mut FormatEncoder,
    py: Python<'_>,
    value: *mut pyo3::ffi::PyObject,
    action: ValueAction,
    out: &mut Out<'_>,
) -> Result<Option<&'e [u8]>, RecorderFailure> {
    match action {
        ValueAction::Allow => {
            // SAFETY: forwarded contract.
            unsafe { encoder.encode_raw(py, value, out) }.map(Some)
        }
        ValueAction::Redact => encoder
            .marker(Fixed::Redacted, REDACTED_MARKER, out)
            .map(Some),
        ValueAction::Drop => Ok(None),
    }
}
