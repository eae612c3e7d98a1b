//! Loads a trace with the reader the CodeTracer debugger links (`codetracer_trace_reader`
//! 0.17) and prints `{"records": N, "kinds": {...}}`; exits 1 with the reader's error when it
//! rejects the trace. The Python test-suite runs it on every trace it reads strictly.
//!
//! `cargo run -p codetracer-trace-stream --example reference_read -- TRACE_DIR_OR_FILE`

#![allow(clippy::print_stdout)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use codetracer_trace_reader::{create_trace_reader, TraceEventsFileFormat};
use codetracer_trace_stream::events_file;

fn main() -> ExitCode {
    let Some(arg) = std::env::args_os().nth(1) else {
        eprintln!("usage: reference_read TRACE_DIR_OR_EVENTS_FILE");
        return ExitCode::from(2);
    };
    let file = match events_file(&PathBuf::from(arg)) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    let format = if file.extension().is_some_and(|e| e == "json") {
        TraceEventsFileFormat::Json
    } else {
        TraceEventsFileFormat::Binary
    };
    // The reader panics on some malformed files instead of returning an error.
    let loaded = std::panic::catch_unwind(|| create_trace_reader(format).load_trace_events(&file));
    let events = match loaded {
        Ok(Ok(events)) => events,
        Ok(Err(e)) => {
            eprintln!("codetracer_trace_reader rejects {}: {e}", file.display());
            return ExitCode::from(1);
        }
        Err(_) => {
            eprintln!("codetracer_trace_reader panicked on {}", file.display());
            return ExitCode::from(1);
        }
    };
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for event in &events {
        let kind = match serde_json::to_value(event) {
            Ok(serde_json::Value::Object(map)) => map.keys().next().cloned().unwrap_or_default(),
            Ok(serde_json::Value::String(s)) => s,
            _ => String::from("?"),
        };
        *kinds.entry(kind).or_default() += 1;
    }
    println!(
        "{}",
        serde_json::json!({"records": events.len(), "kinds": kinds})
    );
    ExitCode::SUCCESS
}
