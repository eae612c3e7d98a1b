//! `trace.ct`: the same records written in CTFS and in the binary format read back equal
//! (chunk boundaries of every stream crossed, nested calls over several `calls.dat` chunks,
//! threads, events, a source file with real line lengths); the container's own structure
//! (directory, `meta.dat`, tables, `calls.dat`) decoded independently of the reader; a live
//! container copied mid-recording (what a kill leaves) and a truncated one read as
//! prefixes. With `CODETRACER_CTFSCHECK` naming the independent checker, it must accept the
//! container with no error.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use codetracer_trace_stream::ctfs::chunks::ChunkedFile;
use codetracer_trace_stream::ctfs::container_read::ContainerReader;
use codetracer_trace_stream::ctfs::meta::{MetaDat, FLAGS};
use codetracer_trace_stream::ctfs::records::{split_framed, CallRecord, VOID_RETURN};
use codetracer_trace_stream::ctfs::{Stream, CALLS};
use codetracer_trace_stream::types::{EventLogKind, TypeKind, TypeSpecificInfo, ValueRecord};
use codetracer_trace_stream::{
    Cbor, ReadMode, RecordingInfo, TraceDir, TraceEvents, TraceFormat, TraceWriter, ValueOut,
    PRIVATE_FILE_MODE,
};

const SOURCE: &str =
    "def f(n):\n    if n:\n        return f(n - 1)\n    return 0\n\nfor i in range(3):\n    f(i)\n";

/// Writes the same trace in `format`: 3000 calls of `f` nested 3 deep, 10000 steps with a
/// value each (crosses steps/values/calls/events chunks), two threads, events, a path that
/// exists and one that does not.
fn write(dir: &Path, format: TraceFormat, src: &Path) -> u64 {
    let layout = TraceDir::prepare(dir, format).unwrap();
    let info = RecordingInfo {
        program: src.display().to_string(),
        args: vec!["--n".into(), "3".into()],
        workdir: "/w".into(),
        recorder_id: "test/1".into(),
    };
    let mut w = TraceWriter::create_with(&layout.events, format, PRIVATE_FILE_MODE, &info).unwrap();
    let p = w.path_id(&src.display().to_string()).unwrap();
    let top = w.new_function("<toplevel>", p, 1).unwrap();
    w.call(top, Vec::new()).unwrap();
    let none = w
        .new_type(TypeKind::None, "None", TypeSpecificInfo::None)
        .unwrap();
    let int = w
        .new_type(TypeKind::Int, "int", TypeSpecificInfo::None)
        .unwrap();
    let f = w.new_function("f", p, 1).unwrap();
    let n = w.variable_id("n").unwrap();
    let mut v = ValueOut::<Cbor>::new();
    let mut steps = 0;
    for i in 0..1000i64 {
        if i == 500 {
            w.thread_start(77).unwrap();
            w.thread_switch(77).unwrap();
        }
        if i == 700 {
            w.thread_switch(1).unwrap();
        }
        for depth in 0..3i64 {
            v.clear();
            v.int(i * 10 + depth, int);
            w.step_at(p, 1, 0).unwrap();
            w.call_bytes(f, &[(n, v.bytes())]).unwrap();
            w.step_at(p, 2, 4).unwrap();
            w.value_bytes(n, v.bytes()).unwrap();
            steps += 2;
        }
        if i % 97 == 0 {
            let q = w.path_id_hinted("<string>", 40).unwrap();
            w.step_at(q, 30, 3).unwrap();
            w.event(
                EventLogKind::Write,
                "{\"stream\":\"stdout\"}".into(),
                format!("line {i}\n"),
            )
            .unwrap();
            steps += 1;
        }
        for depth in (0..3i64).rev() {
            w.step_at(p, 3 + depth % 2, 8).unwrap();
            w.value(
                n,
                ValueRecord::Int {
                    i: depth,
                    type_id: int,
                },
            )
            .unwrap();
            v.clear();
            v.int(depth, int);
            if depth == 1 {
                w.unwind_bytes(v.bytes()).unwrap();
            } else {
                w.ret_bytes(v.bytes()).unwrap();
            }
            steps += 1;
        }
    }
    w.thread_exit(77).unwrap();
    w.event(EventLogKind::Error, String::new(), "Traceback: boom".into())
        .unwrap();
    w.ret(ValueRecord::None { type_id: none }).unwrap();
    let done = w.finish().unwrap();
    assert_eq!(done.steps, steps);
    layout.write_paths(&done.paths).unwrap();
    done.records
}

fn read(dir: &Path) -> (Vec<serde_json::Value>, ReadMode) {
    let mut events = TraceEvents::open(dir).unwrap();
    let records = events
        .by_ref()
        .map(|e| serde_json::to_value(e).unwrap())
        .collect();
    (records, events.mode().unwrap())
}

fn source(tmp: &Path) -> std::path::PathBuf {
    let src = tmp.join("prog.py");
    std::fs::write(&src, SOURCE).unwrap();
    src
}

#[test]
fn ctfs_reads_back_the_records_of_the_binary_format() {
    let tmp = tempfile::tempdir().unwrap();
    let src = source(tmp.path());
    let n_bin = write(&tmp.path().join("bin"), TraceFormat::Binary, &src);
    let n_ct = write(&tmp.path().join("ct"), TraceFormat::Ctfs, &src);
    assert_eq!(n_bin, n_ct);
    let (bin, mode_bin) = read(&tmp.path().join("bin"));
    let (ct, mode_ct) = read(&tmp.path().join("ct"));
    assert_eq!(
        (mode_bin, mode_ct),
        (ReadMode::Complete, ReadMode::Complete)
    );
    assert_eq!(ct.len() as u64, n_ct);
    for (i, (a, b)) in bin.iter().zip(&ct).enumerate() {
        assert_eq!(a, b, "record {i}");
    }
    assert_eq!(bin.len(), ct.len());
    assert!(tmp.path().join("ct/trace.ct").is_file());
    assert!(!tmp.path().join("ct/trace.bin").exists());
}

/// Decodes every call record of `calls.dat`.
fn calls(reader: &ContainerReader) -> Vec<CallRecord> {
    let file = ChunkedFile::open(reader, CALLS).unwrap().unwrap();
    assert_eq!(file.chunk_size(), 1024);
    let mut out = Vec::new();
    for i in 0..file.chunks() {
        let raw = file.read(reader, i).unwrap();
        let records = split_framed(&raw).unwrap();
        if i + 1 < file.chunks() {
            assert_eq!(records.len(), 1024, "chunk {i}");
        }
        for r in records {
            out.push(CallRecord::decode(&raw[r]).unwrap());
        }
    }
    out
}

#[test]
fn the_container_holds_what_the_debugger_reads() {
    let tmp = tempfile::tempdir().unwrap();
    let src = source(tmp.path());
    write(tmp.path(), TraceFormat::Ctfs, &src);
    let ct = tmp.path().join("trace.ct");
    let bytes = std::fs::read(&ct).unwrap();
    assert_eq!(&bytes[..8], &[0xC0, 0xDE, 0x72, 0xAC, 0xE2, 4, 0, 1]);
    assert_eq!(u32::from_le_bytes(bytes[8..12].try_into().unwrap()), 4096);
    assert_eq!(bytes.len() % 4096, 0);
    let reader = ContainerReader::open(&ct).unwrap();
    let mut names: Vec<&str> = reader.names().collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "calls.dat",
            "calls.idx",
            "events.dat",
            "events.idx",
            "funcs.dat",
            "funcs.off",
            "journal.dat",
            "journal.idx",
            "meta.dat",
            "paths.dat",
            "paths.off",
            "steps.dat",
            "steps.idx",
            "types.dat",
            "types.off",
            "values.dat",
            "values.idx",
            "varnames.dat",
            "varnames.off"
        ],
        "no tail once finished"
    );
    let meta = MetaDat::decode(&reader.read("meta.dat").unwrap()).unwrap();
    assert_eq!(meta.flags, FLAGS);
    assert_eq!(meta.program, src.display().to_string());
    assert_eq!(meta.args, ["--n", "3"]);
    assert_eq!(
        (meta.workdir.as_str(), meta.recorder_id.as_str()),
        ("/w", "test/1")
    );
    assert_eq!(
        meta.paths,
        [src.display().to_string(), "<string>".to_string()]
    );
    assert_eq!(meta.recording_id.len(), 36);
    assert_eq!(reader.read("funcs.dat").unwrap(), b"<toplevel>f");
    assert_eq!(reader.read("types.dat").unwrap(), b"Noneint");
    assert_eq!(
        reader.read("funcs.off").unwrap(),
        [0u64, 10, 11]
            .iter()
            .flat_map(|o| o.to_le_bytes())
            .collect::<Vec<u8>>()
    );
    // steps: full chunks but the last
    let steps = ChunkedFile::open(&reader, Stream::Steps.files())
        .unwrap()
        .unwrap();
    assert_eq!(steps.chunk_size(), 4096);
    assert!(steps.chunks() >= 2);
    // calls: entry order, the tree, first/last steps, unwinding as exception
    let calls = calls(&reader);
    assert_eq!(calls.len(), 3001);
    assert_eq!(
        (calls[0].parent, calls[0].depth, calls[0].first_step),
        (-1, 0, 0)
    );
    assert_eq!(
        calls[0].children.len(),
        1000 - 200,
        "threaded calls are roots of their thread"
    );
    assert!(calls[0].last_step > 4096);
    for (k, c) in calls.iter().enumerate().skip(1) {
        let parent = &calls[c.parent.max(0) as usize];
        if c.parent >= 0 {
            assert!(parent.children.contains(&(k as u64)));
            assert_eq!(c.depth, parent.depth + 1);
            assert!(parent.first_step <= c.first_step && c.last_step <= parent.last_step);
        } else {
            assert_eq!(c.depth, 0);
        }
        assert!(calls[k - 1].first_step <= c.first_step, "entry order");
        assert_eq!(c.args.len(), 1);
        if c.exception.is_empty() {
            assert_ne!(c.ret, [VOID_RETURN]);
        } else {
            assert_eq!(c.ret, [VOID_RETURN]);
        }
    }
    assert!(calls.iter().any(|c| !c.exception.is_empty()));
}

#[test]
fn a_live_container_and_a_truncated_one_read_as_prefixes() {
    let tmp = tempfile::tempdir().unwrap();
    let layout = TraceDir::prepare(tmp.path(), TraceFormat::Ctfs).unwrap();
    let mut w = TraceWriter::create(&layout.events, TraceFormat::Ctfs).unwrap();
    let p = w.path_id("app.py").unwrap();
    let top = w.new_function("<toplevel>", p, 1).unwrap();
    w.call(top, Vec::new()).unwrap();
    let int = w
        .new_type(TypeKind::Int, "int", TypeSpecificInfo::None)
        .unwrap();
    let x = w.variable_id("x").unwrap();
    for i in 0..5000 {
        w.step(p, 1 + i % 7).unwrap();
        w.value(x, ValueRecord::Int { i, type_id: int }).unwrap();
    }
    // Past a tick, one more record hands the tail over; the published container then
    // holds every record so far (sealed chunks + tail).
    std::thread::sleep(codetracer_trace_stream::background::TICK * 3);
    w.step(p, 2).unwrap();
    let expected = w.records() as usize;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let live = loop {
        let snap = tempfile::tempdir().unwrap();
        std::fs::copy(&layout.events, snap.path().join("trace.ct")).unwrap();
        let (records, mode) = read(snap.path());
        if records.len() == expected {
            assert_eq!(mode, ReadMode::Prefix);
            break records;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{} of {expected}",
            records.len()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    w.ret(ValueRecord::None { type_id: int }).unwrap();
    w.finish().unwrap();
    let (full, mode) = read(tmp.path());
    assert_eq!(mode, ReadMode::Complete);
    assert_eq!(&full[..live.len()], &live[..]);
    assert_eq!(full.len(), expected + 1);
    // Cut inside the block that holds the end of the `calls.dat` the finished container
    // lists (not simply near the end of the file: a `calls.dat` republished at ticks reuses
    // freed blocks, so the last block of the file can be an old copy no listing names):
    // a prefix. Then cut mid-file and after two blocks: shorter prefixes. Every cut reads
    // as the first records of the full trace.
    let bytes = std::fs::read(&layout.events).unwrap();
    let listed =
        codetracer_trace_stream::ctfs::container_read::ContainerReader::open(&layout.events)
            .unwrap();
    let calls_size = listed.size("calls.dat").unwrap();
    let calls_end = listed.block_of("calls.dat", calls_size - 1).unwrap();
    let in_calls_end = (calls_end * 4096 + 100) as usize;
    for keep in [in_calls_end, bytes.len() / 2 / 4096 * 4096, 4096 * 2] {
        let cut = tempfile::tempdir().unwrap();
        std::fs::write(cut.path().join("trace.ct"), &bytes[..keep]).unwrap();
        let (records, mode) = read(cut.path());
        assert_eq!(mode, ReadMode::Prefix, "cut at {keep}");
        assert_eq!(&full[..records.len()], &records[..], "cut at {keep}");
        if keep != in_calls_end {
            assert!(records.len() < full.len(), "cut at {keep}");
        } else if calls_end + 1 == (bytes.len() / 4096) as u64 {
            // `calls.dat` ends in the file's last block: only it is cut, every record is there.
            assert_eq!(records.len(), full.len(), "cut at {keep}");
        }
    }
}

#[test]
fn the_independent_checker_accepts_the_container() {
    // Test-only: which checker program the test harness (nox, .ci/run) built, if any.
    #[allow(clippy::disallowed_methods)]
    let Ok(checker) = std::env::var("CODETRACER_CTFSCHECK") else {
        eprintln!("CODETRACER_CTFSCHECK not set: the independent checker is not run");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let src = source(tmp.path());
    write(tmp.path(), TraceFormat::Ctfs, &src);
    let out = std::process::Command::new(&checker)
        .arg(tmp.path().join("trace.ct"))
        .output()
        .unwrap();
    let verdict: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    eprintln!("ctfscheck: {verdict:#}");
    assert_eq!(verdict["ok"], true, "{verdict:#}");
    assert_eq!(verdict["errors"], serde_json::json!([]), "{verdict:#}");
    assert_eq!(verdict["calls"], 3001);
    assert_eq!(verdict["column_aware"], true);
    assert_eq!(verdict["end_of_program"], "error");
}
