//! A deferred writer (`TraceWriter::create_deferred`, one short trace per test): a short trace
//! never starts a writer thread and is finished on the calling thread; a long one starts the
//! thread once the queue is full; a flush starts it too. Every stream is complete. One test per
//! file: this process must run no other writer while it counts threads.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use codetracer_trace_stream::types::{
    TraceLowLevelEvent, TypeId, TypeKind, TypeSpecificInfo, ValueRecord,
};
use codetracer_trace_stream::{
    ReadMode, RecordingInfo, TraceDir, TraceEvents, TraceFormat, TraceWriter,
};

/// Threads of this process as the kernel counts them, on Linux.
fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").map_or(0, Iterator::count)
}

/// Writes `lines` steps with a 1000-character value each, flushing after the first when
/// `flush`; returns (threads seen while writing at most, steps written, records, the files).
fn write_trace(format: TraceFormat, lines: i64, flush: bool) -> (usize, u64, u64, Written) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = TraceDir::prepare(tmp.path(), format).unwrap();
    let mut w = TraceWriter::create_deferred(&dir.events, format, 0o600, &RecordingInfo::default())
        .unwrap();
    let p = w.path_id("app.py").unwrap();
    let top = w.new_function("<toplevel>", p, 1).unwrap();
    w.call(top, Vec::new()).unwrap();
    w.new_type(TypeKind::None, "None", TypeSpecificInfo::None)
        .unwrap();
    let x = w.variable_id("x").unwrap();
    let big = ValueRecord::String {
        text: "y".repeat(1000),
        type_id: TypeId(0),
    };
    let mut most = threads();
    for line in 0..lines {
        w.step(p, 1 + line).unwrap();
        w.value(x, big.clone()).unwrap();
        if flush && line == 0 {
            w.flush().unwrap();
        }
        most = most.max(threads());
    }
    w.ret(ValueRecord::None { type_id: TypeId(0) }).unwrap();
    let done = w.finish().unwrap();
    (most, done.steps, done.records, Written { dir, _tmp: tmp })
}

/// A written trace and the temporary directory holding it.
struct Written {
    dir: TraceDir,
    _tmp: tempfile::TempDir,
}

fn assert_complete(written: &Written, format: TraceFormat, steps: u64, records: u64) {
    let dir = &written.dir;
    let mut events = TraceEvents::open(&dir.events).unwrap();
    let read: Vec<_> = events.by_ref().collect();
    assert_eq!(events.mode(), Some(ReadMode::Complete), "{format:?}");
    assert_eq!(read.len() as u64, records, "{format:?}");
    let stepped = read
        .iter()
        .filter(|e| matches!(e, TraceLowLevelEvent::Step(_)))
        .count();
    assert_eq!(stepped as u64, steps, "{format:?}");
    if let Some(theirs) = common::reference_records(&dir.events, format) {
        assert_eq!(theirs.len() as u64, records, "{format:?}");
    }
}

#[test]
fn a_deferred_writer_starts_its_thread_only_when_needed() {
    let linux = cfg!(target_os = "linux");
    for format in [TraceFormat::Binary, TraceFormat::Json] {
        let before = threads();
        // Short: the chunks fit the queue; finish writes them on this thread.
        let (most, steps, records, dir) = write_trace(format, 50, false);
        if linux {
            assert_eq!(most, before, "{format:?}: a short trace started a thread");
            assert_eq!(threads(), before);
        }
        assert_eq!(steps, 50);
        assert_complete(&dir, format, steps, records);
        // Long: more chunks than the queue holds (~1 KiB a step, 256 KiB chunks, 4 queued).
        let (most, steps, records, dir) = write_trace(format, 2000, false);
        if linux {
            assert_eq!(
                most,
                before + 1,
                "{format:?}: a long trace needs the thread"
            );
            assert_eq!(threads(), before, "{format:?}: joined at finish");
        }
        assert_complete(&dir, format, steps, records);
        // A flush needs the thread too.
        let (most, steps, records, dir) = write_trace(format, 5, true);
        if linux {
            assert_eq!(most, before + 1, "{format:?}: a flush starts the thread");
        }
        assert_complete(&dir, format, steps, records);
    }
}
