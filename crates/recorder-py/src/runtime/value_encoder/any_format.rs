//! [`FormatEncoder`]: the value encoder of the session's format, chosen once at start. The
//! encoder itself is generic over the trace-stream crate's `Encoding` (no format check per
//! primitive); this wrapper dispatches once per value.

use codetracer_policy::ValueLimits;
use codetracer_trace_stream::{Cbor, Json, TraceFormat};
use pyo3::ffi;
use pyo3::prelude::*;

use super::{Out, ValueEncoder};
use crate::errors::RecorderFailure;
use crate::runtime::types::Fixed;

/// A [`ValueEncoder`] for `trace.bin` and `trace.ct` (CBOR) or for `trace.json`.
pub enum FormatEncoder {
    /// CBOR values (`trace.bin`, `trace.ct`).
    Cbor(ValueEncoder<Cbor>),
    /// JSON values (`trace.json`).
    Json(ValueEncoder<Json>),
}

macro_rules! each {
    ($self:expr, $enc:ident => $body:expr) => {
        match $self {
            FormatEncoder::Cbor($enc) => $body,
            FormatEncoder::Json($enc) => $body,
        }
    };
}

impl FormatEncoder {
    /// The encoder for `format` with `limits` (`trace.ct` takes the CBOR of `trace.bin`).
    pub fn new(format: TraceFormat, limits: ValueLimits) -> Self {
        match format {
            TraceFormat::Binary | TraceFormat::Ctfs => Self::Cbor(ValueEncoder::new(limits)),
            TraceFormat::Json => Self::Json(ValueEncoder::new(limits)),
        }
    }

    /// See [`ValueEncoder::encode`].
    pub fn encode(
        &mut self,
        py: Python<'_>,
        obj: &Bound<'_, PyAny>,
        out: &mut Out<'_>,
    ) -> Result<&[u8], RecorderFailure> {
        each!(self, e => e.encode(py, obj, out))
    }

    /// See [`ValueEncoder::encode_raw`].
    ///
    /// # Safety
    /// `obj` must be a valid object pointer and the GIL must be held.
    #[inline]
    pub unsafe fn encode_raw(
        &mut self,
        py: Python<'_>,
        obj: *mut ffi::PyObject,
        out: &mut Out<'_>,
    ) -> Result<&[u8], RecorderFailure> {
        // SAFETY: forwarded contract.
        each!(self, e => unsafe { e.encode_raw(py, obj, out) })
    }

    /// See [`ValueEncoder::reused_values`].
    pub fn reused_values(&self) -> u64 {
        each!(self, e => e.reused_values())
    }

    /// The value encoded last (by [`Self::encode`] or [`Self::encode_raw`]; not a marker):
    /// its nodes as its node budget counted them, and whether it was handed out whole from
    /// the value cache.
    #[inline(always)]
    pub fn last_counts(&self) -> (usize, bool) {
        each!(self, e => (e.nodes, e.last_reused.is_some()))
    }

    /// See [`ValueEncoder::last_bytes`].
    pub fn last_bytes(&self) -> &[u8] {
        each!(self, e => e.last_bytes())
    }

    /// See [`ValueEncoder::marker`].
    pub fn marker(
        &mut self,
        fixed: Fixed,
        text: &str,
        out: &mut Out<'_>,
    ) -> Result<&[u8], RecorderFailure> {
        each!(self, e => e.marker(fixed, text, out))
    }
}
