//! Cached vs uncached module-name resolution in an embedded interpreter.
//!
//! Run with `cargo bench -p codetracer-module-identity --bench resolve`. Besides criterion's
//! report, prints a plain "ns per resolution" line for each case.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    reason = "benchmark setup fails loudly"
)]

use std::ffi::CString;
use std::hint::black_box;
use std::time::{Duration, Instant};

use codetracer_module_identity::ModuleIdentityResolver;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use pyo3::prelude::*;
use pyo3::types::{PyCode, PyDict};

const SETUP: &str = r#"
import importlib, os, sys
os.makedirs(os.path.join(root, "benchpkg", "sub"))
for rel in ("benchpkg/__init__.py", "benchpkg/sub/__init__.py", "benchpkg/sub/mod.py"):
    with open(os.path.join(root, rel), "w") as f:
        f.write("X = 1\n")
sys.path.insert(0, root)
importlib.invalidate_caches()
importlib.import_module("benchpkg.sub.mod")
filename = os.path.join(root, "benchpkg", "sub", "mod.py")
code = compile("X = 1\n", filename, "exec")
"#;

/// Times `iters` calls of `f` and prints the mean.
fn report(label: &str, iters: u32, mut f: impl FnMut()) {
    let start = Instant::now();
    for _ in 0..iters {
        f();
    }
    let ns = start.elapsed().as_nanos() as f64 / f64::from(iters);
    println!("{label}: {ns:.1} ns per resolution");
}

fn benches(c: &mut Criterion) {
    let dir = tempfile::TempDir::new().unwrap();
    Python::attach(|py| {
        let g = PyDict::new(py);
        g.set_item("root", dir.path().to_str().unwrap()).unwrap();
        py.run(&CString::new(SETUP).unwrap(), Some(&g), None)
            .unwrap();
        let code = g
            .get_item("code")
            .unwrap()
            .unwrap()
            .cast_into::<PyCode>()
            .unwrap();
        let filename: String = g.get_item("filename").unwrap().unwrap().extract().unwrap();
        let expected = Some("benchpkg.sub.mod".to_owned());

        let mut warm = ModuleIdentityResolver::from_sys_path(py).unwrap();
        assert_eq!(warm.resolve_for_code(py, &code, None, None), expected);
        let roots_only = ModuleIdentityResolver::from_sys_path(py).unwrap();

        c.bench_function("cached/resolve_for_code", |b| {
            b.iter(|| black_box(warm.resolve_for_code(py, &code, None, None)))
        });
        c.bench_function("cached/resolve_path", |b| {
            b.iter(|| black_box(warm.resolve_path(py, &filename)))
        });
        c.bench_function("uncached/resolve_for_code/hint", |b| {
            b.iter_batched(
                || ModuleIdentityResolver::new(Vec::new()),
                |mut r| black_box(r.resolve_for_code(py, &code, Some("benchpkg.sub.mod"), None)),
                BatchSize::SmallInput,
            )
        });
        c.bench_function("uncached/resolve_for_code/sys_path_roots", |b| {
            b.iter_batched(
                || ModuleIdentityResolver::new(roots_only.roots().to_vec()),
                |mut r| black_box(r.resolve_for_code(py, &code, None, None)),
                BatchSize::SmallInput,
            )
        });
        c.bench_function("uncached/resolve_for_code/sys_modules_scan", |b| {
            b.iter_batched(
                || ModuleIdentityResolver::new(Vec::new()),
                |mut r| black_box(r.resolve_for_code(py, &code, None, None)),
                BatchSize::SmallInput,
            )
        });

        // Plain numbers, independent of criterion's report format.
        report("cached resolve_for_code", 1_000_000, || {
            black_box(warm.resolve_for_code(py, &code, None, None));
        });
        report("cached resolve_path", 1_000_000, || {
            black_box(warm.resolve_path(py, &filename));
        });
        let mut fresh: Vec<_> = (0..20_000)
            .map(|_| ModuleIdentityResolver::new(roots_only.roots().to_vec()))
            .collect();
        let mut it = fresh.iter_mut();
        report("uncached resolve_for_code (sys.path roots)", 20_000, || {
            if let Some(r) = it.next() {
                black_box(r.resolve_for_code(py, &code, None, None));
            }
        });
        let mut fresh: Vec<_> = (0..2_000)
            .map(|_| ModuleIdentityResolver::new(Vec::new()))
            .collect();
        let mut it = fresh.iter_mut();
        report(
            "uncached resolve_for_code (sys.modules scan)",
            2_000,
            || {
                if let Some(r) = it.next() {
                    black_box(r.resolve_for_code(py, &code, None, None));
                }
            },
        );
        let modules = py
            .eval(c"len(__import__('sys').modules)", None, None)
            .unwrap();
        println!("(sys.modules holds {modules} entries)");
    });
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
}

criterion_group! {
    name = resolve;
    config = config();
    targets = benches
}
criterion_main!(resolve);
