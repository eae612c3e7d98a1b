//! Throughput of value and record encoding (the recording thread's share of the hot path):
//! a small int value, a string, a 20-element list, and Step+Value records into a chunk; and
//! the whole `TraceWriter` (a step with three values, a call and its return) into
//! `trace.bin` and `trace.ct`, writer thread included.

#![allow(missing_docs, clippy::unwrap_used)]

use codetracer_trace_stream::types::{TypeId, TypeKind, TypeSpecificInfo};
use codetracer_trace_stream::{Cbor, Encoding, Json, Shape, TraceFormat, TraceWriter, ValueOut};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn list<E: Encoding>(o: &mut ValueOut<E>) {
    o.clear();
    o.element_start();
    o.begin(Shape::Sequence, 20);
    for i in 0..20 {
        o.element_start();
        o.int(i * 1000, TypeId(1));
    }
    o.end(Shape::Sequence, TypeId(2));
}

fn values<E: Encoding>(c: &mut Criterion, name: &str) {
    let mut g = c.benchmark_group(format!("value/{name}"));
    g.throughput(Throughput::Elements(1));
    let mut o = ValueOut::<E>::new();
    g.bench_function("int", |b| {
        b.iter(|| {
            o.clear();
            o.int(std::hint::black_box(123_456), TypeId(1));
        })
    });
    let text = "the quick brown fox jumps over the lazy dog";
    g.bench_function("string", |b| {
        b.iter(|| {
            o.clear();
            o.string(std::hint::black_box(text), TypeId(3));
        })
    });
    g.bench_function("float", |b| {
        b.iter(|| {
            o.clear();
            o.float(std::hint::black_box(3.25), TypeId(4));
        })
    });
    g.bench_function("list20", |b| b.iter(|| list(&mut o)));
    g.finish();
}

fn records<E: Encoding>(c: &mut Criterion, name: &str) {
    let mut g = c.benchmark_group("records");
    g.throughput(Throughput::Elements(4));
    let mut v = ValueOut::<E>::new();
    v.int(7, TypeId(1));
    let value = v.bytes().to_vec();
    let mut chunk = Vec::with_capacity(1 << 20);
    g.bench_function(BenchmarkId::new("step+3values", name), |b| {
        b.iter(|| {
            if chunk.len() > (1 << 19) {
                chunk.clear();
            }
            E::step_record(&mut chunk, 1, std::hint::black_box(42));
            for id in 0..3 {
                E::value_record(&mut chunk, id, &value);
            }
        })
    });
    g.finish();
}

/// A line step with three values, then a call (with its entry step and one argument) and
/// its return: 8 records per iteration, through the whole writer.
fn writers(c: &mut Criterion) {
    let mut g = c.benchmark_group("writer");
    g.throughput(Throughput::Elements(8));
    let src = tempfile::tempdir().unwrap();
    let source = src.path().join("app.py");
    std::fs::write(
        &source,
        "def f(x):\n    return x\n\nfor i in range(9):\n    y = f(i)\n",
    )
    .unwrap();
    for format in [TraceFormat::Binary, TraceFormat::Ctfs] {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join(format.events_file_name());
        let mut w = TraceWriter::create(&file, format).unwrap();
        let p = w.path_id(&source.display().to_string()).unwrap();
        let top = w.new_function("<toplevel>", p, 1).unwrap();
        w.call(top, Vec::new()).unwrap();
        w.new_type(TypeKind::None, "None", TypeSpecificInfo::None)
            .unwrap();
        let int = w
            .new_type(TypeKind::Int, "int", TypeSpecificInfo::None)
            .unwrap();
        let f = w.new_function("f", p, 1).unwrap();
        let ids: Vec<_> = ["i", "y", "x"]
            .iter()
            .map(|n| w.variable_id(n).unwrap())
            .collect();
        let mut v = ValueOut::<Cbor>::new();
        let mut i = 0i64;
        g.bench_function(BenchmarkId::from_parameter(format.name()), |b| {
            b.iter(|| {
                i += 1;
                v.clear();
                v.int(std::hint::black_box(i), int);
                w.step_at(p, 5, 4).unwrap();
                for id in &ids[..2] {
                    w.value_bytes(*id, v.bytes()).unwrap();
                }
                w.value_bytes(ids[2], v.bytes()).unwrap();
                w.step_at(p, 1, 0).unwrap();
                w.call_bytes(f, &[(ids[2], v.bytes())]).unwrap();
                w.ret_bytes(v.bytes()).unwrap();
            })
        });
        w.ret_bytes(v.bytes()).unwrap();
        w.finish().unwrap();
    }
    g.finish();
}

fn all(c: &mut Criterion) {
    values::<Cbor>(c, "cbor");
    values::<Json>(c, "json");
    records::<Cbor>(c, "cbor");
    records::<Json>(c, "json");
    writers(c);
}

criterion_group!(benches, all);
criterion_main!(benches);
