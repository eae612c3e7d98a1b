//! Cost of one LINE event dispatched through the event table into a no-op tracer, next to a
//! Python no-op callback, a raw C `METH_FASTCALL` no-op builtin (the dispatch floor) and the
//! untraced baseline.
//!
//! Besides the criterion groups, it prints a table of ns per LINE event:
//! `(traced time - untraced time) / LINE events`, best of several runs.
//! Quick mode: `cargo bench -p codetracer-monitoring -- --quick` or `CODETRACER_BENCH_QUICK=1`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::hint::black_box;
use std::ptr;
use std::time::{Duration, Instant};

use codetracer_monitoring::*;
use criterion::{criterion_group, criterion_main, Criterion};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyCode, PyDict};

const WORKLOAD: &str = "
def work(n):
    i = 0
    while i < n:
        i += 1
    return i

def noop(code, line):
    pass
";

#[allow(
    clippy::disallowed_methods,
    reason = "a bench switch, not a recorder variable"
)]
fn quick() -> bool {
    std::env::var_os("CODETRACER_BENCH_QUICK").is_some() || std::env::args().any(|a| a == "--quick")
}

/// A tracer that wants LINE and does nothing.
struct Noop;

impl Tracer for Noop {
    fn interest(&self, events: &MonitoringEvents) -> EventSet {
        events.line
    }
    fn on_line(
        &mut self,
        _py: Python<'_>,
        _code: &Bound<'_, PyCode>,
        _line: u32,
    ) -> CallbackResult {
        Ok(CallbackOutcome::Continue)
    }
}

/// Counts LINE events, to turn times into per-event costs.
struct LineCount(u64);

impl Tracer for LineCount {
    fn interest(&self, events: &MonitoringEvents) -> EventSet {
        events.line
    }
    fn on_line(
        &mut self,
        _py: Python<'_>,
        _code: &Bound<'_, PyCode>,
        _line: u32,
    ) -> CallbackResult {
        self.0 += 1;
        Ok(CallbackOutcome::Continue)
    }
}

/// The floor: a raw METH_FASTCALL builtin that returns None.
unsafe extern "C" fn raw_noop(
    _slf: *mut ffi::PyObject,
    _args: *mut *mut ffi::PyObject,
    _nargs: ffi::Py_ssize_t,
) -> *mut ffi::PyObject {
    // SAFETY: called by CPython with the GIL held; returns a new reference to None.
    unsafe {
        let none = ffi::Py_None();
        ffi::Py_IncRef(none);
        none
    }
}

struct Defs(ffi::PyMethodDef);
// SAFETY: immutable static definition read by CPython only.
unsafe impl Sync for Defs {}
static RAW_NOOP: Defs = Defs(ffi::PyMethodDef {
    ml_name: c"raw_noop".as_ptr(),
    ml_meth: ffi::PyMethodDefPointer {
        PyCFunctionFast: raw_noop,
    },
    ml_flags: ffi::METH_FASTCALL,
    ml_doc: ptr::null(),
});

fn raw_noop_callable(py: Python<'_>) -> Bound<'_, PyAny> {
    // SAFETY: a valid 'static PyMethodDef; the GIL is held.
    unsafe {
        let f = ffi::PyCFunction_NewEx(
            ptr::from_ref(&RAW_NOOP.0).cast_mut(),
            ptr::null_mut(),
            ptr::null_mut(),
        );
        Bound::from_owned_ptr_or_err(py, f).unwrap()
    }
}

#[derive(Copy, Clone, Debug)]
enum Variant {
    Untraced,
    RawFloor,
    Table,
    PythonNoop,
}

struct Bench<'py> {
    py: Python<'py>,
    ours: ToolId,
    other: ToolId,
    work: Bound<'py, PyAny>,
    noop: Bound<'py, PyAny>,
    events: &'static MonitoringEvents,
}

impl<'py> Bench<'py> {
    fn setup(py: Python<'py>) -> Bench<'py> {
        let ours = acquire_tool_id(py, TOOL_NAME, DEFAULT_TOOL_PREFERENCE).unwrap();
        let other = acquire_tool_id(py, "bench-other", &[ToolId(3), ToolId(4), ToolId(5)]).unwrap();
        let globals = PyDict::new(py);
        py.run(
            &std::ffi::CString::new(WORKLOAD).unwrap(),
            Some(&globals),
            None,
        )
        .unwrap();
        Bench {
            py,
            ours,
            other,
            work: globals.get_item("work").unwrap().unwrap(),
            noop: globals.get_item("noop").unwrap().unwrap(),
            events: MonitoringEvents::load(py).unwrap(),
        }
    }

    fn enable(&self, variant: Variant) {
        let py = self.py;
        let m = monitoring_module(py).unwrap();
        let line = self.events.line;
        match variant {
            Variant::Untraced => {}
            Variant::Table => {
                install(py, self.ours, Box::new(Noop), Box::new(|_, _| None)).unwrap()
            }
            Variant::RawFloor | Variant::PythonNoop => {
                let cb = match variant {
                    Variant::RawFloor => raw_noop_callable(py),
                    _ => self.noop.clone(),
                };
                m.call_method1("register_callback", (self.other.0, line.bits(), cb))
                    .unwrap();
                set_global_events(py, self.other, line).unwrap();
            }
        }
    }

    fn disable(&self, variant: Variant) {
        let py = self.py;
        match variant {
            Variant::Untraced => {}
            Variant::Table => {
                uninstall(py, self.ours).unwrap();
            }
            Variant::RawFloor | Variant::PythonNoop => {
                set_global_events(py, self.other, EventSet::EMPTY).unwrap();
                monitoring_module(py)
                    .unwrap()
                    .call_method1(
                        "register_callback",
                        (self.other.0, self.events.line.bits(), py.None()),
                    )
                    .unwrap();
            }
        }
    }

    fn run(&self, n: u64) {
        black_box(self.work.call1((n,)).unwrap());
    }

    fn line_events(&self, n: u64) -> u64 {
        install(
            self.py,
            self.ours,
            Box::new(LineCount(0)),
            Box::new(|_, _| None),
        )
        .unwrap();
        self.run(n);
        let mut t = uninstall(self.py, self.ours).unwrap().unwrap();
        AsAnyMut::as_any_mut(&mut *t)
            .downcast_mut::<LineCount>()
            .unwrap()
            .0
    }

    /// Best-of-`reps` wall time of `work(n)` under `variant`.
    fn best(&self, variant: Variant, n: u64, reps: usize) -> Duration {
        self.enable(variant);
        self.run(n); // warm up
        let best = (0..reps)
            .map(|_| {
                let t = Instant::now();
                self.run(n);
                t.elapsed()
            })
            .min()
            .unwrap();
        self.disable(variant);
        best
    }
}

fn dispatch(c: &mut Criterion) {
    Python::attach(|py| {
        let bench = Bench::setup(py);
        let quick = quick();
        let (n, reps) = if quick { (100_000, 5) } else { (1_000_000, 15) };
        let events = bench.line_events(n);

        let untraced = bench.best(Variant::Untraced, n, reps);
        let mut rows = Vec::new();
        for variant in [Variant::RawFloor, Variant::Table, Variant::PythonNoop] {
            let t = bench.best(variant, n, reps);
            rows.push((variant, t));
        }
        let per = |d: Duration| d.as_secs_f64() * 1e9 / events as f64;
        println!(
            "\nLINE dispatch cost, Python {} ({} LINE events per run, best of {reps}):",
            Python::version_str()
                .split_whitespace()
                .next()
                .unwrap_or("?"),
            events
        );
        println!(
            "  {:<44} {:>8.2} ns/event (total time / events)",
            "untraced baseline",
            per(untraced)
        );
        for (variant, t) in &rows {
            let label = match variant {
                Variant::RawFloor => "raw C METH_FASTCALL no-op (floor)",
                Variant::Table => "codetracer-monitoring table -> no-op Tracer",
                Variant::PythonNoop => "Python no-op callback",
                Variant::Untraced => "untraced",
            };
            println!(
                "  {:<44} {:>8.2} ns/event (traced - untraced)",
                label,
                per(t.saturating_sub(untraced))
            );
        }
        println!();

        let mut group = c.benchmark_group("line_dispatch");
        group.sample_size(10);
        group.warm_up_time(Duration::from_millis(if quick { 100 } else { 500 }));
        group.measurement_time(Duration::from_millis(if quick { 300 } else { 2000 }));
        let n_crit = n / 10;
        for (name, variant) in [
            ("untraced", Variant::Untraced),
            ("raw_c_floor", Variant::RawFloor),
            ("table_noop_tracer", Variant::Table),
            ("python_noop_callback", Variant::PythonNoop),
        ] {
            bench.enable(variant);
            group.bench_function(name, |b| b.iter(|| bench.run(n_crit)));
            bench.disable(variant);
        }
        group.finish();
        release_tool_id(py, bench.other).unwrap();
        release_tool_id(py, bench.ours).unwrap();
    });
}

criterion_group!(benches, dispatch);
criterion_main!(benches);
