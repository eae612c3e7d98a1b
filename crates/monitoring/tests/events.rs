//! Event dispatch against a real interpreter: every event kind, DISABLE, local events.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use codetracer_monitoring::*;
use common::*;
use pyo3::prelude::*;
use pyo3::types::PyCode;

/// Raises every event kind of 3.12/3.13 at least once.
const ALL_EVENTS_SCRIPT: &str = r#"
def f(x):
    if x > 1:
        return x
    return -x

def gen(n):
    for i in range(n):
        yield i

def gen2():
    try:
        yield 1
    except KeyError:
        yield 2

def boom():
    raise ValueError("boom")

def inner():
    yield 1
    return 5

def outer():
    r = yield from inner()
    return r

for k in range(3):
    f(k)
total = 0
for v in gen(3):
    total += v
g = gen2()
next(g)
g.throw(KeyError())
try:
    boom()
except ValueError:
    pass
try:
    try:
        raise KeyError("k")
    except KeyError:
        raise
except KeyError:
    pass
try:
    int("x")
except ValueError:
    pass
len([1])
for _ in outer():
    pass
done = True
"#;

#[test]
fn event_constants_come_from_the_interpreter() {
    Python::attach(|py| {
        let events = MonitoringEvents::load(py).unwrap();
        let ns = py
            .import("sys")
            .unwrap()
            .getattr("monitoring")
            .unwrap()
            .getattr("events")
            .unwrap();
        for (name, set) in events.named() {
            let bits: u32 = ns.getattr(name).unwrap().extract().unwrap();
            assert_eq!(set.bits(), bits, "{name}");
        }
        let has_left = ns.hasattr("BRANCH_LEFT").unwrap();
        assert_eq!(events.branch_left.is_some(), has_left);
        assert_eq!(
            events.names(events.line | events.py_start),
            vec!["PY_START", "LINE"]
        );
        assert_eq!(events.all().len(), events.named().count());
        // The table covers every event of the interpreter, and nothing twice.
        let table: Vec<_> = event_table(events).collect();
        assert_eq!(table.len(), 19);
        assert!(table
            .iter()
            .any(|row| row.name == "LINE" && row.method == "on_line" && row.disableable));
        assert!(table
            .iter()
            .any(|row| row.name == "RAISE" && !row.disableable));
        let std_names: Vec<String> = ns
            .dir()
            .unwrap()
            .iter()
            .map(|n| n.extract::<String>().unwrap())
            .filter(|n| n.chars().all(|c| c.is_ascii_uppercase() || c == '_') && n != "NO_EVENTS")
            .collect();
        for name in &std_names {
            assert!(
                table.iter().any(|row| row.name == name),
                "{name} missing from the table"
            );
        }
        assert!(
            std::ptr::eq(events, MonitoringEvents::load(py).unwrap()),
            "cached"
        );
        // Sentinels are the interpreter's objects.
        let m = monitoring_module(py).unwrap();
        assert!(disable_sentinel(py)
            .unwrap()
            .bind(py)
            .is(m.getattr("DISABLE").unwrap()));
        assert!(missing_sentinel(py)
            .unwrap()
            .bind(py)
            .is(m.getattr("MISSING").unwrap()));
    });
}

#[test]
fn every_event_kind_is_dispatched() {
    let _serial = serial();
    Python::attach(|py| {
        let tool = ToolGuard::claim(py, ToolId(3));
        let filename = "/tmp/codetracer_monitoring_all_events.py";
        install(
            py,
            tool.0,
            Box::new(Counter::new(filename, |e| e.all())),
            Box::new(|_py, err| panic!("unexpected tracer error: {err}")),
        )
        .unwrap();
        // C_RETURN/C_RAISE need the CALL group; the interpreter reports it as CALL only.
        let global = get_global_events(py, tool.0).unwrap();
        let events = MonitoringEvents::load(py).unwrap();
        assert!(global.contains(events.line | events.call | events.py_unwind));

        let globals = run(py, ALL_EVENTS_SCRIPT, filename).unwrap();
        assert!(globals.get_item("done").unwrap().is_some());
        let counter = into_counter(uninstall(py, tool.0).unwrap().unwrap());

        for name in [
            "PY_START",
            "PY_RESUME",
            "PY_RETURN",
            "PY_YIELD",
            "PY_UNWIND",
            "PY_THROW",
            "CALL",
            "C_RETURN",
            "C_RAISE",
            "RAISE",
            "RERAISE",
            "EXCEPTION_HANDLED",
            "LINE",
            "INSTRUCTION",
            "JUMP",
            "BRANCH",
            "STOP_ITERATION",
        ] {
            assert!(
                counter.count(name) > 0,
                "{name} never dispatched: {:?}",
                counter.counts
            );
        }
        // Deterministic counts: f is called 3 times, boom once, gen2 resumed by throw once.
        assert_eq!(counter.starts.get("f"), Some(&3));
        assert_eq!(counter.starts.get("boom"), Some(&1));
        assert_eq!(counter.starts.get("gen"), Some(&1));
        assert_eq!(counter.count("PY_THROW"), 1);
        assert_eq!(counter.count("PY_UNWIND"), 1);
        assert_eq!(counter.count("C_RAISE"), 1);
        assert_eq!(counter.count("PY_YIELD"), 3 + 2 + 1 + 1); // gen, gen2, inner, outer
        assert_eq!(counter.lines.get(&("f".to_owned(), 3)), Some(&3)); // `if x > 1:` runs 3 times
    });
}

#[test]
fn disable_from_on_line_stops_that_line() {
    let _serial = serial();
    Python::attach(|py| {
        let tool = ToolGuard::claim(py, ToolId(3));
        let filename = "/tmp/codetracer_monitoring_disable.py";
        let mut counter = Counter::new(filename, |e| e.line | e.raise);
        counter.disable_lines = true;
        counter.disable_raise = true;
        install(py, tool.0, Box::new(counter), ignore_errors()).unwrap();
        let src = "def body(i):\n    x = i * 2\n    try:\n        raise KeyError(x)\n    except KeyError:\n        pass\n    return x\nfor i in range(50):\n    body(i)\n";
        run(py, src, filename).unwrap();
        with_tracer(py, tool.0, |_py, c: &mut Counter| {
            for line in [2, 3, 4, 5, 6, 7] {
                assert_eq!(
                    c.lines.get(&("body".to_owned(), line)),
                    Some(&1),
                    "line {line}: {:?}",
                    c.lines
                );
            }
            // RAISE cannot be disabled: DISABLE is not passed on, so every raise is still seen
            // (and CPython did not raise "cannot disable" ValueError).
            assert_eq!(c.count("RAISE"), 50);
            c.lines.clear();
        })
        .unwrap();
        // restart_events re-enables the disabled lines.
        restart_events(py).unwrap();
        run(py, src, filename).unwrap();
        with_tracer(py, tool.0, |_py, c: &mut Counter| {
            assert_eq!(c.lines.get(&("body".to_owned(), 2)), Some(&1));
        })
        .unwrap();
    });
}

#[test]
fn local_events_reach_only_that_code_object() {
    let _serial = serial();
    Python::attach(|py| {
        let tool = ToolGuard::claim(py, ToolId(3));
        let filename = "/tmp/codetracer_monitoring_local.py";
        let src = "def f(n):\n    a = n\n    return a\n\ndef g(n):\n    b = n\n    return b\n";
        let globals = run(py, src, filename).unwrap();
        // No global events: only what set_local_events asks for.
        install(
            py,
            tool.0,
            Box::new(Counter::new(filename, |e| e.line)),
            ignore_errors(),
        )
        .unwrap();
        set_global_events(py, tool.0, EventSet::EMPTY).unwrap();
        let events = MonitoringEvents::load(py).unwrap();
        let f = code_of(&globals, "f");
        let g = code_of(&globals, "g");
        set_local_events(py, tool.0, &f, events.line).unwrap();
        assert_eq!(get_local_events(py, tool.0, &f).unwrap(), events.line);
        assert_eq!(get_local_events(py, tool.0, &g).unwrap(), EventSet::EMPTY);
        globals.get_item("f").unwrap().unwrap().call1((1,)).unwrap();
        globals.get_item("g").unwrap().unwrap().call1((2,)).unwrap();
        globals.get_item("f").unwrap().unwrap().call1((3,)).unwrap();
        let counter = into_counter(uninstall(py, tool.0).unwrap().unwrap());
        let funcs: std::collections::HashSet<_> =
            counter.lines.keys().map(|(f, _)| f.clone()).collect();
        assert_eq!(funcs, ["f".to_owned()].into_iter().collect());
        assert_eq!(counter.lines.get(&("f".to_owned(), 2)), Some(&2));
        // uninstall cleared the local events it was told about.
        assert_eq!(get_local_events(py, tool.0, &f).unwrap(), EventSet::EMPTY);
    });
}

/// A tracer with a LINE callback that enables LINE only where it asks for it locally.
struct LinesLocally(Counter);

impl Tracer for LinesLocally {
    fn interest(&self, events: &MonitoringEvents) -> EventSet {
        events.line | events.py_start
    }

    fn global_events(&self, events: &MonitoringEvents) -> EventSet {
        events.py_start
    }

    fn on_line(&mut self, py: Python<'_>, code: &Bound<'_, PyCode>, line: u32) -> CallbackResult {
        self.0.on_line(py, code, line)
    }
}

#[test]
fn global_events_can_be_a_subset_of_the_callbacks() {
    let _serial = serial();
    Python::attach(|py| {
        let tool = ToolGuard::claim(py, ToolId(3));
        let filename = "/tmp/codetracer_monitoring_global_subset.py";
        let src = "def f(n):\n    a = n\n    return a\n\ndef g(n):\n    b = n\n    return b\n";
        let globals = run(py, src, filename).unwrap();
        let events = MonitoringEvents::load(py).unwrap();
        install(
            py,
            tool.0,
            Box::new(LinesLocally(Counter::new(filename, |e| e.line))),
            ignore_errors(),
        )
        .unwrap();
        // LINE has a callback but is not global: only PY_START is.
        assert_eq!(get_global_events(py, tool.0).unwrap(), events.py_start);
        let f = code_of(&globals, "f");
        set_local_events(py, tool.0, &f, events.line).unwrap();
        globals.get_item("f").unwrap().unwrap().call1((1,)).unwrap();
        globals.get_item("g").unwrap().unwrap().call1((2,)).unwrap();
        let mut tracer = uninstall(py, tool.0).unwrap().unwrap();
        let lines = &AsAnyMut::as_any_mut(&mut *tracer)
            .downcast_mut::<LinesLocally>()
            .unwrap()
            .0
            .lines;
        let funcs: std::collections::HashSet<_> = lines.keys().map(|(f, _)| f.clone()).collect();
        assert_eq!(funcs, ["f".to_owned()].into_iter().collect());
    });
}
