//! Install / uninstall lifecycle, tool ids, error containment, re-entrancy, with_tracer, flush.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::sync::{Arc, Mutex};

use codetracer_monitoring::*;
use common::*;
use pyo3::prelude::*;
use pyo3::types::PyCode;

#[test]
fn uninstall_restores_a_clean_state() {
    let _serial = serial();
    Python::attach(|py| {
        let tool = ToolGuard::claim(py, ToolId(4));
        let filename = "/tmp/codetracer_monitoring_uninstall.py";
        assert!(!is_installed(tool.0));
        install(
            py,
            tool.0,
            Box::new(Counter::new(filename, |e| e.all())),
            ignore_errors(),
        )
        .unwrap();
        assert!(is_installed(tool.0));
        let src = "def f():\n    return 1\nf()\n";
        run(py, src, filename).unwrap();

        let counter = into_counter(uninstall(py, tool.0).unwrap().unwrap());
        assert!(counter.count("LINE") > 0);
        assert!(!is_installed(tool.0));
        assert_eq!(get_global_events(py, tool.0).unwrap(), EventSet::EMPTY);
        // Every callback is gone: registering None returns the previous callback, None.
        let m = monitoring_module(py).unwrap();
        let events = MonitoringEvents::load(py).unwrap();
        for (name, ev) in events.named() {
            let previous = m
                .call_method1("register_callback", (tool.0 .0, ev.bits(), py.None()))
                .unwrap();
            assert!(previous.is_none(), "{name} callback left registered");
        }
        // The tool id is still ours: uninstall does not free it.
        assert_eq!(
            tool_name(py, tool.0).unwrap().as_deref(),
            Some("codetracer-test")
        );
        // Nothing is delivered afterwards, and a second uninstall is a no-op.
        run(py, src, filename).unwrap();
        assert!(uninstall(py, tool.0).unwrap().is_none());
        // And the tool can be installed again.
        install(
            py,
            tool.0,
            Box::new(Counter::new(filename, |e| e.py_start)),
            ignore_errors(),
        )
        .unwrap();
        run(py, src, filename).unwrap();
        let counter = into_counter(uninstall(py, tool.0).unwrap().unwrap());
        assert_eq!(counter.starts.get("f"), Some(&1));
        assert_eq!(counter.count("LINE"), 0);
    });
}

#[test]
fn double_install_is_rejected() {
    let _serial = serial();
    Python::attach(|py| {
        let tool = ToolGuard::claim(py, ToolId(4));
        install(
            py,
            tool.0,
            Box::new(Counter::new("x", |e| e.line)),
            ignore_errors(),
        )
        .unwrap();
        let err = install(
            py,
            tool.0,
            Box::new(Counter::new("x", |e| e.line)),
            ignore_errors(),
        )
        .unwrap_err();
        assert!(
            matches!(err, MonitoringError::AlreadyInstalled { tool: t } if t == tool.0),
            "{err}"
        );
        assert!(err.to_string().contains("uninstall"), "{err}");
        // Unclaimed ids are refused with a hint.
        let err =
            install(py, ToolId(5), Box::new(Counter::default()), ignore_errors()).unwrap_err();
        assert!(matches!(err, MonitoringError::NotAcquired { .. }), "{err}");
        assert!(err.to_string().contains("acquire_tool_id"), "{err}");
        let err =
            install(py, ToolId(9), Box::new(Counter::default()), ignore_errors()).unwrap_err();
        assert!(matches!(err, MonitoringError::InvalidToolId(9)), "{err}");
    });
}

#[test]
fn tool_id_in_use_names_the_holder() {
    let _serial = serial();
    Python::attach(|py| {
        run(
            py,
            "import sys\nsys.monitoring.use_tool_id(4, 'other')\n",
            "/tmp/holder.py",
        )
        .unwrap();
        let err = acquire_tool_id(py, TOOL_NAME, &[ToolId(4)]).unwrap_err();
        match &err {
            MonitoringError::ToolIdInUse { holders } => {
                assert_eq!(holders, &vec![(4, "other".to_owned())])
            }
            other => panic!("unexpected {other}"),
        }
        assert!(err.to_string().contains("\"other\""), "{err}");
        assert_eq!(tool_name(py, ToolId(4)).unwrap().as_deref(), Some("other"));
        // The next preference is taken instead.
        let got = acquire_tool_id(py, TOOL_NAME, &[ToolId(4), ToolId(3)]).unwrap();
        assert_eq!(got, ToolId(3));
        assert_eq!(tool_name(py, got).unwrap().as_deref(), Some(TOOL_NAME));
        release_tool_id(py, got).unwrap();
        release_tool_id(py, ToolId(4)).unwrap();
        assert_eq!(tool_name(py, ToolId(4)).unwrap(), None);
        assert_eq!(
            DEFAULT_TOOL_PREFERENCE,
            &[ToolId::DEBUGGER, ToolId(3), ToolId(4), ToolId::PROFILER]
        );
    });
}

/// Fails on purpose: `Err` from PY_START of `bad`, a panic on LINE 3 (inside `worse`).
struct Faulty;

impl Tracer for Faulty {
    fn interest(&self, events: &MonitoringEvents) -> EventSet {
        events.py_start | events.line
    }
    fn on_py_start(
        &mut self,
        _py: Python<'_>,
        code: &Bound<'_, PyCode>,
        _offset: i32,
    ) -> CallbackResult {
        if co_filename(code) == "/tmp/faulty.py" && co_name(code) == "bad" {
            return Err(TracerError::msg("bad started"));
        }
        Ok(CallbackOutcome::Continue)
    }
    fn on_line(&mut self, _py: Python<'_>, code: &Bound<'_, PyCode>, line: u32) -> CallbackResult {
        if co_filename(code) == "/tmp/faulty.py" && co_name(code) == "worse" && line == 5 {
            panic!("tracer bug at line {line}");
        }
        Ok(CallbackOutcome::Continue)
    }
}

const FAULTY_SCRIPT: &str =
    "def bad():\n    return 1\n\ndef worse():\n    return 2\n\nresult = bad() + worse()\n";

#[test]
fn error_hook_receives_errors_and_panics() {
    let _serial = serial();
    Python::attach(|py| {
        let tool = ToolGuard::claim(py, ToolId(4));
        let seen: Arc<Mutex<Vec<String>>> = Arc::default();
        let sink = Arc::clone(&seen);
        let hook: ErrorHook = Box::new(move |_py, err| {
            let kind = match &err {
                TracerError::Message(m) => format!("message:{m}"),
                TracerError::Panic { event, message } => format!("panic:{event}:{message}"),
                TracerError::Python(e) => format!("python:{e}"),
            };
            sink.lock().unwrap().push(kind);
            None
        });
        install(py, tool.0, Box::new(Faulty), hook).unwrap();
        // The program keeps running and computes its result.
        let globals = run(py, FAULTY_SCRIPT, "/tmp/faulty.py").unwrap();
        let result: i64 = globals
            .get_item("result")
            .unwrap()
            .unwrap()
            .extract()
            .unwrap();
        assert_eq!(result, 3);
        assert_eq!(
            *seen.lock().unwrap(),
            vec![
                "message:bad started".to_owned(),
                "panic:LINE:tracer bug at line 5".to_owned()
            ]
        );
        // The tracer is still installed and usable after a panic.
        assert!(with_tracer(py, tool.0, |_py, _t: &mut Faulty| ()).is_some());
        uninstall(py, tool.0).unwrap();

        // A hook that returns an exception raises it into the program at the event site.
        let hook: ErrorHook =
            Box::new(|_py, err| Some(pyo3::exceptions::PyRuntimeError::new_err(err.to_string())));
        install(py, tool.0, Box::new(Faulty), hook).unwrap();
        let err = run(py, FAULTY_SCRIPT, "/tmp/faulty.py").unwrap_err();
        assert!(
            err.is_instance_of::<pyo3::exceptions::PyRuntimeError>(py),
            "{err}"
        );
        assert!(err.to_string().contains("bad started"), "{err}");
        // Python code can catch it too and continue.
        let src = "def bad():\n    return 1\ntry:\n    bad()\nexcept RuntimeError as e:\n    caught = str(e)\n";
        let globals = run(py, src, "/tmp/faulty.py").unwrap();
        let caught: String = globals
            .get_item("caught")
            .unwrap()
            .unwrap()
            .extract()
            .unwrap();
        assert!(caught.contains("bad started"), "{caught}");
    });
}

#[test]
fn with_tracer_and_flush() {
    let _serial = serial();
    Python::attach(|py| {
        let tool = ToolGuard::claim(py, ToolId(4));
        assert!(with_tracer(py, tool.0, |_py, _c: &mut Counter| ()).is_none());
        assert!(matches!(
            flush(py, tool.0),
            Err(MonitoringError::NotInstalled { .. })
        ));
        let filename = "/tmp/codetracer_monitoring_with.py";
        install(
            py,
            tool.0,
            Box::new(Counter::new(filename, |e| e.py_start)),
            ignore_errors(),
        )
        .unwrap();
        run(py, "def f():\n    pass\nf()\nf()\n", filename).unwrap();
        let starts = with_tracer(py, tool.0, |_py, c: &mut Counter| {
            c.starts.get("f").copied()
        });
        assert_eq!(starts, Some(Some(2)));
        // Wrong type: None.
        assert!(with_tracer(py, tool.0, |_py, _f: &mut Faulty| ()).is_none());
        flush(py, tool.0).unwrap();
        flush(py, tool.0).unwrap();
        assert_eq!(
            with_tracer(py, tool.0, |_py, c: &mut Counter| c.flushes),
            Some(2)
        );
        uninstall(py, tool.0).unwrap();

        // A failing flush is reported as MonitoringError::Tracer.
        struct BadFlush;
        impl Tracer for BadFlush {
            fn interest(&self, _events: &MonitoringEvents) -> EventSet {
                EventSet::EMPTY
            }
            fn flush(&mut self, _py: Python<'_>) -> Result<(), TracerError> {
                Err(TracerError::msg("disk full"))
            }
        }
        install(py, tool.0, Box::new(BadFlush), ignore_errors()).unwrap();
        let err = flush(py, tool.0).unwrap_err();
        assert!(matches!(err, MonitoringError::Tracer { .. }), "{err}");
        assert!(err.to_string().contains("disk full"), "{err}");
    });
}

/// Calls control functions and Python code from inside its own callback.
#[derive(Default)]
struct Reentrant {
    busy_errors: usize,
    with_tracer_none: usize,
    nested_lines: usize,
    outer_lines: usize,
    helper: Option<Py<PyAny>>,
}

impl Tracer for Reentrant {
    fn interest(&self, events: &MonitoringEvents) -> EventSet {
        events.line
    }
    fn on_line(&mut self, py: Python<'_>, code: &Bound<'_, PyCode>, _line: u32) -> CallbackResult {
        let name = co_name(code);
        if co_filename(code) != "/tmp/reentrant.py" {
            return Ok(CallbackOutcome::Continue);
        }
        if name == "helper" {
            // Only reachable if a nested event got through while we were busy.
            self.nested_lines += 1;
            return Ok(CallbackOutcome::Continue);
        }
        self.outer_lines += 1;
        if matches!(uninstall(py, ToolId(4)), Err(MonitoringError::Busy { .. })) {
            self.busy_errors += 1;
        }
        if with_tracer(py, ToolId(4), |_py, _t: &mut Reentrant| ()).is_none() {
            self.with_tracer_none += 1;
        }
        if let Some(helper) = &self.helper {
            // Running traced Python code inside the callback: its LINE events are skipped.
            helper.bind(py).call0()?;
        }
        Ok(CallbackOutcome::Continue)
    }
}

#[test]
fn reentrant_calls_are_skipped_not_deadlocked() {
    let _serial = serial();
    Python::attach(|py| {
        let tool = ToolGuard::claim(py, ToolId(4));
        let helpers = run(
            py,
            "def helper():\n    x = 1\n    return x\n",
            "/tmp/reentrant.py",
        )
        .unwrap();
        let tracer = Reentrant {
            helper: Some(helpers.get_item("helper").unwrap().unwrap().unbind()),
            ..Reentrant::default()
        };
        install(
            py,
            tool.0,
            Box::new(tracer),
            Box::new(|_py, err| panic!("unexpected: {err}")),
        )
        .unwrap();
        run(py, "a = 1\nb = 2\n", "/tmp/reentrant.py").unwrap();
        let mut tracer = uninstall(py, tool.0).unwrap().unwrap();
        let t = AsAnyMut::as_any_mut(&mut *tracer)
            .downcast_mut::<Reentrant>()
            .unwrap();
        assert_eq!(t.outer_lines, 2);
        assert_eq!(t.busy_errors, 2);
        assert_eq!(t.with_tracer_none, 2);
        assert_eq!(t.nested_lines, 0);
    });
}
