//! Every record and value shape this crate writes, in both formats, read back three ways:
//! serde on the value bytes, this crate's streaming reader, and `codetracer_trace_reader`
//! 0.17 (the reader the CodeTracer debugger links).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

mod common;

use codetracer_trace_stream::types::{
    EventLogKind, TraceLowLevelEvent, TypeId, TypeKind, TypeSpecificInfo, ValueRecord,
};
use codetracer_trace_stream::{
    Cbor, Encoding, Json, ReadMode, Shape, TraceDir, TraceEvents, TraceFormat, TraceWriter,
    ValueOut,
};

/// A value of every shape, written by `ValueOut<E>`.
fn sample_value<E: Encoding>(t: TypeId) -> Vec<u8> {
    let mut o = ValueOut::<E>::new();
    o.element_start();
    o.begin(Shape::Sequence, 8);
    o.element_start();
    o.int(-300, t);
    o.element_start();
    o.string("é\"x\n", t);
    o.element_start();
    o.float(1.5, t);
    o.element_start();
    o.float(f64::NAN, t);
    o.element_start();
    o.float(f64::NEG_INFINITY, t);
    o.element_start();
    o.begin(Shape::Tuple, 2);
    o.element_start();
    o.bigint(&[1, 0], true, t);
    o.element_start();
    o.none(TypeId(0));
    o.end(Shape::Tuple, t);
    o.element_start();
    o.begin(Shape::Struct, 2);
    o.element_start();
    o.bool(true, t);
    o.element_start();
    o.raw("<object>", t);
    o.end(Shape::Struct, t);
    o.element_start();
    o.begin(Shape::Sequence, 0);
    o.end(Shape::Sequence, t);
    o.end(Shape::Sequence, t);
    o.bytes().to_vec()
}

fn check_sample(v: &ValueRecord) {
    let ValueRecord::Sequence {
        elements, is_slice, ..
    } = v
    else {
        panic!("{v:?}")
    };
    assert!(!is_slice);
    assert_eq!(elements.len(), 8);
    assert!(matches!(elements[0], ValueRecord::Int { i: -300, .. }));
    assert!(matches!(&elements[1], ValueRecord::String { text, .. } if text == "é\"x\n"));
    assert!(matches!(elements[2], ValueRecord::Float { f, .. } if f == 1.5));
    assert!(matches!(elements[3], ValueRecord::Float { f, .. } if f.is_nan()));
    assert!(matches!(elements[4], ValueRecord::Float { f, .. } if f == f64::NEG_INFINITY));
    let ValueRecord::Tuple { elements: pair, .. } = &elements[5] else {
        panic!()
    };
    assert!(matches!(&pair[0], ValueRecord::BigInt { b, negative: true, .. } if b == &vec![1, 0]));
    assert!(matches!(pair[1], ValueRecord::None { .. }));
    let ValueRecord::Struct { field_values, .. } = &elements[6] else {
        panic!()
    };
    assert!(matches!(field_values[0], ValueRecord::Bool { b: true, .. }));
    assert!(matches!(&field_values[1], ValueRecord::Raw { r, .. } if r == "<object>"));
    assert!(matches!(&elements[7], ValueRecord::Sequence { elements, .. } if elements.is_empty()));
}

#[test]
fn value_bytes_decode_with_serde_in_both_formats() {
    let cbor: ValueRecord = cbor4ii::serde::from_slice(&sample_value::<Cbor>(TypeId(1))).unwrap();
    check_sample(&cbor);
    let json: ValueRecord = serde_json::from_slice(&sample_value::<Json>(TypeId(1))).unwrap();
    check_sample(&json);
}

/// Writes a trace with every record kind; returns the number of records.
fn write_trace(dir: &TraceDir, format: TraceFormat) -> u64 {
    let mut w = TraceWriter::create(&dir.events, format).unwrap();
    let p = w.path_id("/src/app.py").unwrap();
    let top = w.new_function("<toplevel>", p, 1).unwrap();
    w.call(top, Vec::new()).unwrap();
    let none = w
        .new_type(TypeKind::None, "None", TypeSpecificInfo::None)
        .unwrap();
    assert_eq!(none, TypeId(0));
    let int = w
        .new_type(TypeKind::Int, "int", TypeSpecificInfo::None)
        .unwrap();
    let f = w.new_function("f", p, 3).unwrap();
    w.step(p, 0).unwrap(); // written as line 1
    let x = w.variable_id("x").unwrap();
    let value = match format {
        TraceFormat::Binary | TraceFormat::Ctfs => sample_value::<Cbor>(int),
        TraceFormat::Json => sample_value::<Json>(int),
    };
    w.step(p, 3).unwrap();
    w.call_bytes(f, &[(x, &value)]).unwrap();
    w.step(p, 4).unwrap();
    w.value_bytes(x, &value).unwrap();
    w.value(
        x,
        ValueRecord::Float {
            f: f64::INFINITY,
            type_id: int,
        },
    )
    .unwrap();
    w.event(EventLogKind::Write, "meta".into(), "hello\n".into())
        .unwrap();
    w.thread_start(7).unwrap();
    w.thread_switch(7).unwrap();
    w.thread_exit(7).unwrap();
    w.ret_bytes(&value).unwrap();
    w.ret(ValueRecord::Int { i: 0, type_id: int }).unwrap();
    let done = w.finish().unwrap();
    dir.write_paths(&done.paths).unwrap();
    assert_eq!(done.steps, 3);
    done.records
}

fn check_events(events: &[TraceLowLevelEvent]) {
    let steps: Vec<i64> = events
        .iter()
        .filter_map(|e| match e {
            TraceLowLevelEvent::Step(s) => Some(s.line.0),
            _ => None,
        })
        .collect();
    assert_eq!(steps, [1, 3, 4], "no record carries line 0");
    let calls: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            TraceLowLevelEvent::Call(c) => Some(c),
            _ => None,
        })
        .collect();
    assert_eq!(calls.len(), 2);
    check_sample(&calls[1].args[0].value);
    let values: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            TraceLowLevelEvent::Value(v) => Some(&v.value),
            _ => None,
        })
        .collect();
    check_sample(values[0]);
    assert!(matches!(values[1], ValueRecord::Float { f, .. } if *f == f64::INFINITY));
    assert!(events.iter().any(
        |e| matches!(e, TraceLowLevelEvent::Event(r) if r.content == "hello\n" && r.metadata == "meta")
    ));
    assert!(events
        .iter()
        .any(|e| matches!(e, TraceLowLevelEvent::ThreadSwitch(t) if t.0 == 7)));
    let TraceLowLevelEvent::Return(r) = &events[events.len() - 2] else {
        panic!()
    };
    check_sample(&r.return_value);
}

#[test]
fn traces_read_back_with_our_reader_and_codetracers_reader() {
    for format in TraceFormat::ALL {
        let tmp = tempfile::tempdir().unwrap();
        let dir = TraceDir::prepare(tmp.path(), format).unwrap();
        let records = write_trace(&dir, format);

        let mut ours = TraceEvents::open(tmp.path()).unwrap();
        let events: Vec<_> = ours.by_ref().collect();
        assert_eq!(ours.mode(), Some(ReadMode::Complete), "{format:?}");
        assert_eq!(events.len() as u64, records);
        check_events(&events);

        let Some(theirs) = common::reference_records(&dir.events, format) else {
            continue;
        };
        assert_eq!(theirs.len() as u64, records);
        check_events(&theirs);
    }
}

fn copy_prefix(from: &Path, to: &Path, len: usize) {
    let bytes = std::fs::read(from).unwrap();
    std::fs::write(to, &bytes[..len.min(bytes.len())]).unwrap();
}

#[test]
fn a_file_cut_short_reads_as_a_prefix() {
    // (A container cut short: tests/ctfs.rs.)
    for format in [TraceFormat::Json, TraceFormat::Binary] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = TraceDir::prepare(tmp.path(), format).unwrap();
        let records = write_trace(&dir, format);
        let len = std::fs::metadata(&dir.events).unwrap().len() as usize;
        let cut = tempfile::tempdir().unwrap();
        let cut_file = cut.path().join(format.events_file_name());
        // Without its last bytes (the seek table / the closing bracket) every record is
        // there, but the file is not complete; cut in half, only a prefix is readable.
        for (keep, fewer) in [(len - 3, false), (len / 2, true)] {
            copy_prefix(&dir.events, &cut_file, keep);
            let mut events = TraceEvents::open(&cut_file).unwrap();
            let n = events.by_ref().count() as u64;
            assert_eq!(events.mode(), Some(ReadMode::Prefix), "{format:?}");
            assert!(
                if fewer { n < records } else { n == records },
                "{format:?} {n}"
            );
            let err = codetracer_trace_stream::read_events(&cut_file, true).unwrap_err();
            assert_eq!(err.kind(), codetracer_trace_stream::ErrorKind::Incomplete);
        }
    }
}

#[test]
fn records_older_than_a_tick_reach_the_file_while_recording() {
    for format in TraceFormat::ALL {
        let tmp = tempfile::tempdir().unwrap();
        let dir = TraceDir::prepare(tmp.path(), format).unwrap();
        let mut w = TraceWriter::create(&dir.events, format).unwrap();
        let p = w.path_id("app.py").unwrap();
        w.step(p, 1).unwrap();
        // Wait past a tick, then one more record hands the partial chunk over.
        std::thread::sleep(codetracer_trace_stream::background::TICK * 3);
        w.step(p, 2).unwrap();
        // The writer thread syncs right after; a reader of the live file (what a kill
        // leaves) sees the early records.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let snapshot = tempfile::tempdir().unwrap();
            let copy = snapshot.path().join(format.events_file_name());
            std::fs::copy(&dir.events, &copy).unwrap();
            let seen = TraceEvents::open(&copy).unwrap().count();
            if seen >= 2 {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "{format:?}: {seen}");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        w.finish().unwrap();
    }
}
