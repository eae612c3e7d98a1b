//! Helpers shared by the integration tests.

#![allow(clippy::unwrap_used, dead_code)]

use std::path::Path;

use codetracer_trace_reader::{create_trace_reader, TraceEventsFileFormat};
use codetracer_trace_stream::types::TraceLowLevelEvent;
use codetracer_trace_stream::TraceFormat;

/// The records of the events file `events` as `codetracer_trace_reader` 0.17 (the reader of
/// the CodeTracer debugger) loads them; `None` for a `trace.ct`, which that reader does not
/// read (`tests/ctfs.rs` checks containers; ctfscheck opens them in the Python tests).
pub fn reference_records(events: &Path, format: TraceFormat) -> Option<Vec<TraceLowLevelEvent>> {
    let reference_format = match format {
        TraceFormat::Binary => TraceEventsFileFormat::Binary,
        TraceFormat::Json => TraceEventsFileFormat::Json,
        TraceFormat::Ctfs => return None,
    };
    Some(
        create_trace_reader(reference_format)
            .load_trace_events(events)
            .unwrap(),
    )
}
