//! Helpers shared by the integration tests.

#![allow(clippy::unwrap_used, dead_code)]

use std::path::Path;

use codetracer_trace_reader::{create_trace_reader, TraceEventsFileFormat};
use codetracer_trace_stream::types::TraceLowLevelEvent;
use codetracer_trace_stream::TraceFormat;

/// The records of the events file `events` as `codetracer_trace_reader` 0.17 (the reader of
/// the CodeTracer debugger) loads them.
pub fn reference_records(events: &Path, format: TraceFormat) -> Vec<TraceLowLevelEvent> {
    let reference_format = match format {
        TraceFormat::Binary => TraceEventsFileFormat::Binary,
        TraceFormat::Json => TraceEventsFileFormat::Json,
    };
    create_trace_reader(reference_format)
        .load_trace_events(events)
        .unwrap()
}
