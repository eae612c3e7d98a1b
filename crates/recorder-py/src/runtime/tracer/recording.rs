//! The record-writing steps shared by the event handlers: declaring a code object's path,
//! function and variable ids on first use, and writing steps, calls and returns with their
//! values.

use pyo3::prelude::*;
use pyo3::types::PyCode;
use runtime_tracing::{FullValueRecord, FunctionId, PathId, ValueRecord};

use super::RuntimeTracer;
use crate::errors::RecorderFailure;
use crate::runtime::frame::{self, thread_ident};
use crate::runtime::threads::OpenCall;
use crate::runtime::value_encoder::Out;

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
    fn declare_code(&mut self, py: Python<'_>, key: usize) -> Result<(PathId, FunctionId), RecorderFailure> {
        let (Some(rec), Some(info)) = (self.rec.as_mut(), self.codes.get_mut(&key)) else {
            return Err(RecorderFailure::internal("recording state missing"));
        };
        if let (Some(p), Some(f)) = (info.path_id, info.function_id) {
            return Ok((p, f));
        }
        let path_id = rec.path_id(&info.filename)?;
        let name = match &info.function_name {
            Some(n) => n.clone(),
            None if info.is_module => {
                let hint = if self.module_name_from_globals {
                    frame::current_frame(py)
                        .filter(|f| frame::frame_runs(f, info.code.as_ptr()))
                        .and_then(|f| frame::frame_globals(py, &f))
                        .and_then(|g| codetracer_module_identity::globals_name_hint(py, &g))
                } else {
                    None
                };
                let name = self.modules.resolve_for_code(py, info.code.bind(py), hint.as_deref(), None);
                codetracer_module_identity::module_function_name(name.as_deref())
            }
            None => info.qualname.clone(),
        };
        let function_id = rec.new_function(&name, path_id, info.first_line)?;
        info.ensure_variable_ids(rec)?;
        info.function_name = Some(name);
        info.path_id = Some(path_id);
        info.function_id = Some(function_id);
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
        let (path_id, function_id) = self.declare_code(py, key)?;
        let Self {
            rec: Some(rec),
            codes,
            types,
            encoder,
            threads,
            ..
        } = self
        else {
            return Ok(());
        };
        threads.switch_to(thread_ident(), rec)?;
        let Some(info) = codes.get(&key) else {
            return Ok(());
        };
        rec.step(path_id, info.first_line)?;
        let mut args: Vec<FullValueRecord> = Vec::new();
        let mut failure = None;
        match entry {
            Entry::Start => {
                if let Some(f) = frame::current_frame(py).filter(|f| frame::frame_runs(f, code.as_ptr())) {
                    frame::for_each_local(py, &f, &info.locals, Some(&info.params), |slot, value| {
                        if failure.is_some() {
                            return;
                        }
                        let mut out = Out { types, rec };
                        // SAFETY: `value` is a live reference for the duration of the visit.
                        match unsafe { encoder.encode_raw(py, value, &mut out) } {
                            Ok(v) => args.push(FullValueRecord {
                                variable_id: slot.id.unwrap_or_default(),
                                value: v,
                            }),
                            Err(e) => failure = Some(e),
                        }
                    });
                }
            }
            Entry::Resume => {}
            Entry::Throw(exc) => {
                let variable_id = rec.variable_id("exception")?;
                let value = encoder.encode(py, exc, &mut Out { types, rec })?;
                args.push(FullValueRecord { variable_id, value });
            }
        }
        if let Some(e) = failure {
            return Err(e);
        }
        rec.call(function_id, args)?;
        threads.stack().push(OpenCall { code: key, activation });
        Ok(())
    }

    /// `Step` at `line`, then every visible variable's `Value`.
    pub(super) fn record_line(&mut self, py: Python<'_>, code: &Bound<'_, PyCode>, line: u32) -> Result<(), RecorderFailure> {
        let key = code.as_ptr() as usize;
        let (path_id, _) = self.declare_code(py, key)?;
        {
            let Self {
                rec: Some(rec),
                codes,
                types,
                encoder,
                threads,
                ..
            } = self
            else {
                return Ok(());
            };
            threads.switch_to(thread_ident(), rec)?;
            let Some(info) = codes.get(&key) else {
                return Ok(());
            };
            rec.step(path_id, i64::from(line))?;
            let Some(f) = frame::current_frame(py).filter(|f| frame::frame_runs(f, code.as_ptr())) else {
                return Ok(());
            };
            let mut failure = None;
            let mut visit = |slot: &crate::runtime::code_info::VarSlot, value: *mut pyo3::ffi::PyObject| {
                if failure.is_some() {
                    return;
                }
                let mut out = Out { types, rec };
                // SAFETY: `value` is a live reference for the duration of the visit.
                let result = unsafe { encoder.encode_raw(py, value, &mut out) }
                    .and_then(|v| out.rec.value(slot.id.unwrap_or_default(), v));
                if let Err(e) = result {
                    failure = Some(e);
                }
            };
            if !info.is_module {
                frame::for_each_local(py, &f, &info.locals, None, &mut visit);
            }
            frame::for_each_global(py, &f, &info.globals, &mut visit);
            if let Some(e) = failure {
                return Err(e);
            }
        }
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
        let key = code.as_ptr() as usize;
        let Self {
            rec: Some(rec),
            types,
            encoder,
            threads,
            activation,
            uncaught,
            ..
        } = self
        else {
            return Ok(());
        };
        threads.switch_to(thread_ident(), rec)?;
        let Some(open) = threads.pop_if(key) else {
            return Ok(());
        };
        let encoded: ValueRecord = encoder.encode(py, value, &mut Out { types, rec })?;
        if open.activation {
            if unwinding {
                if let ValueRecord::Raw { r, .. } = &encoded {
                    *uncaught = Some(r.clone());
                }
            }
            activation.finish();
        }
        rec.ret(encoded)?;
        threads.maybe_exit(rec)
    }
}
