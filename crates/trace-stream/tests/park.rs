//! Parking the writer thread (what a recorder does around `fork()`): no writer thread is left
//! while parked, records written meanwhile wait, and the stream resumes intact. One test per
//! file: this process must run no other writer while it counts threads.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use codetracer_trace_stream::types::{
    TraceLowLevelEvent, TypeId, TypeKind, TypeSpecificInfo, ValueRecord,
};
use codetracer_trace_stream::{ReadMode, TraceDir, TraceEvents, TraceFormat, TraceWriter};

/// Threads of this process as the kernel counts them (what CPython's "multi-threaded fork"
/// warning reads), on Linux. Sampled once, right after the park, as a `fork()` would.
fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").map_or(0, Iterator::count)
}

#[test]
fn a_parked_writer_has_no_thread_and_resumes_the_same_stream() {
    let linux = cfg!(target_os = "linux");
    for format in TraceFormat::ALL {
        let tmp = tempfile::tempdir().unwrap();
        let dir = TraceDir::prepare(tmp.path(), format).unwrap();
        let before = threads();
        let mut w = TraceWriter::create(&dir.events, format).unwrap();
        if linux {
            assert_eq!(threads(), before + 1);
        }
        let p = w.path_id("app.py").unwrap();
        let top = w.new_function("<toplevel>", p, 1).unwrap();
        w.call(top, Vec::new()).unwrap();
        w.new_type(TypeKind::None, "None", TypeSpecificInfo::None)
            .unwrap();
        let x = w.variable_id("x").unwrap();
        let text = "y".repeat(1000);
        let big = ValueRecord::String {
            text: text.clone(),
            type_id: TypeId(0),
        };
        let mut steps = 0;
        for round in 0..3 {
            // Enough records for several full chunks before and while parked (the queue
            // holds them until the thread is back).
            for line in 0..400 {
                w.step(p, 1 + line).unwrap();
                w.value(x, big.clone()).unwrap();
                steps += 1;
            }
            w.park().unwrap();
            w.park().unwrap(); // a no-op
            if linux {
                assert_eq!(threads(), before, "{format:?} round {round}");
            }
            for line in 0..3 {
                w.step(p, 500 + line).unwrap();
                steps += 1;
            }
            w.resume().unwrap();
            w.resume().unwrap(); // a no-op
            if linux {
                assert_eq!(threads(), before + 1, "{format:?} round {round}");
            }
        }
        w.park().unwrap(); // finishing a parked writer resumes it first
        w.ret(ValueRecord::None { type_id: TypeId(0) }).unwrap();
        let done = w.finish().unwrap();
        assert_eq!(done.steps, steps);
        let mut events = TraceEvents::open(&dir.events).unwrap();
        let read: Vec<_> = events.by_ref().collect();
        assert_eq!(events.mode(), Some(ReadMode::Complete), "{format:?}");
        assert_eq!(read.len() as u64, done.records);
        let stepped = read
            .iter()
            .filter(|e| matches!(e, TraceLowLevelEvent::Step(_)))
            .count();
        assert_eq!(stepped as u64, steps);
        let Some(theirs) = common::reference_records(&dir.events, format) else {
            continue;
        };
        assert_eq!(theirs.len() as u64, done.records);
    }
}
