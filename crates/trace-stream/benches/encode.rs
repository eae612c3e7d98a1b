//! Throughput of value and record encoding (the recording thread's share of the hot path):
//! a small int value, a string, a 20-element list, and Step+Value records into a chunk.

#![allow(missing_docs, clippy::unwrap_used)]

use codetracer_trace_stream::types::TypeId;
use codetracer_trace_stream::{Cbor, Encoding, Json, Shape, ValueOut};
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

fn all(c: &mut Criterion) {
    values::<Cbor>(c, "cbor");
    values::<Json>(c, "json");
    records::<Cbor>(c, "cbor");
    records::<Json>(c, "json");
}

criterion_group!(benches, all);
criterion_main!(benches);
