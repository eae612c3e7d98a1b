//! Installing a [`Tracer`] for a tool id: the per-tool slots, install / uninstall, and access to
//! the installed tracer ([`with_tracer`], [`flush`]).
//!
//! Each tool id has one slot (`Mutex<Option<Slot>>`). Callbacks take it with `try_lock`: if the
//! slot is busy — the tracer is already handling an event on this thread (re-entrancy: a
//! finaliser or other Python code running inside the callback), or on another thread that
//! released the GIL inside the callback — the event is **skipped** rather than waiting, so a
//! callback can never deadlock. Control operations ([`install`], [`uninstall`], [`flush`],
//! [`with_tracer`]) wait for other threads with the GIL released, and report
//! [`MonitoringError::Busy`] (or `None`) when called re-entrantly from inside the tracer.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};

use pyo3::prelude::*;

use crate::api::{
    clear_local_events, disable_sentinel, missing_sentinel, register_callback, set_global_events,
};
use crate::callbacks::TABLE;
use crate::error::{MonitoringError, TracerError};
use crate::events::{EventSet, MonitoringEvents};
use crate::tool::{tool_name, ToolId};
use crate::tracer::{ErrorHook, Tracer};

/// An installed tracer and its error hook.
struct Slot {
    tracer: Box<dyn Tracer>,
    hook: Arc<ErrorHook>,
}

static SLOTS: [Mutex<Option<Slot>>; ToolId::COUNT] = [const { Mutex::new(None) }; ToolId::COUNT];
static INSTALLED: [AtomicBool; ToolId::COUNT] = [const { AtomicBool::new(false) }; ToolId::COUNT];

thread_local! {
    /// Bit `i` is set while this thread holds the slot of tool `i`.
    static HELD: Cell<u8> = const { Cell::new(0) };
}

/// A held slot; clears this thread's "held" bit when dropped.
pub(crate) struct Entered {
    guard: MutexGuard<'static, Option<Slot>>,
    bit: u8,
}

impl Entered {
    fn new(guard: MutexGuard<'static, Option<Slot>>, idx: usize) -> Entered {
        let bit = 1u8 << idx;
        let _ = HELD.try_with(|held| held.set(held.get() | bit));
        Entered { guard, bit }
    }

    /// The installed tracer, if any.
    #[inline(always)]
    pub(crate) fn tracer(&mut self) -> Option<&mut dyn Tracer> {
        self.guard.as_mut().map(|slot| &mut *slot.tracer)
    }

    /// The installed error hook, if any.
    pub(crate) fn hook(&self) -> Option<Arc<ErrorHook>> {
        self.guard.as_ref().map(|slot| Arc::clone(&slot.hook))
    }
}

impl Drop for Entered {
    fn drop(&mut self) {
        let bit = self.bit;
        let _ = HELD.try_with(|held| held.set(held.get() & !bit));
    }
}

/// Callback path: the slot of `tool` if it holds a tracer and is free right now; `None` means
/// "skip this event".
#[inline(always)]
pub(crate) fn enter_slot(tool: usize) -> Option<Entered> {
    let guard = match SLOTS.get(tool)?.try_lock() {
        Ok(guard) => guard,
        Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
        Err(TryLockError::WouldBlock) => return None,
    };
    if guard.is_none() {
        return None;
    }
    Some(Entered::new(guard, tool))
}

/// Control path: waits (with the GIL released) for the slot of `tool`; fails with
/// [`MonitoringError::Busy`] if this thread already holds it.
fn lock_control(py: Python<'_>, tool: ToolId) -> Result<Entered, MonitoringError> {
    let idx = tool.index()?;
    let mutex = &SLOTS[idx];
    loop {
        match mutex.try_lock() {
            Ok(guard) => return Ok(Entered::new(guard, idx)),
            Err(TryLockError::Poisoned(poisoned)) => {
                return Ok(Entered::new(poisoned.into_inner(), idx))
            }
            Err(TryLockError::WouldBlock) => {
                let held_here = HELD
                    .try_with(|held| held.get() & (1u8 << idx) != 0)
                    .unwrap_or(false);
                if held_here {
                    return Err(MonitoringError::Busy { tool });
                }
                py.detach(std::thread::yield_now);
            }
        }
    }
}

/// Hands a tracer failure to its hook (never while the slot is held); a panicking hook is
/// contained and logged.
pub(crate) fn report_error(
    py: Python<'_>,
    hook: Option<Arc<ErrorHook>>,
    err: TracerError,
) -> Option<PyErr> {
    let Some(hook) = hook else {
        log::error!("codetracer-monitoring: tracer failed with no error hook installed: {err}");
        return None;
    };
    match catch_unwind(AssertUnwindSafe(|| hook(py, err))) {
        Ok(result) => result,
        Err(_) => {
            log::error!("codetracer-monitoring: the error hook panicked; the error was dropped");
            None
        }
    }
}

/// Installs `tracer` for `tool`: registers one callback per event in
/// [`Tracer::interest`] (walking the event table) and enables [`Tracer::global_events`]
/// globally.
///
/// `tool` must already be claimed ([`acquire_tool_id`](crate::acquire_tool_id)). Locations
/// disabled earlier for this tool (by `DISABLE`) stay disabled until
/// [`restart_events`](crate::restart_events). Fails with
/// [`MonitoringError::AlreadyInstalled`] if `tool` already has a tracer.
pub fn install(
    py: Python<'_>,
    tool: ToolId,
    tracer: Box<dyn Tracer>,
    on_error: ErrorHook,
) -> Result<(), MonitoringError> {
    let idx = tool.index()?;
    let events = MonitoringEvents::load(py)?;
    // Cache the sentinels now so the callbacks never have to import anything.
    disable_sentinel(py)?;
    missing_sentinel(py)?;
    if tool_name(py, tool)?.is_none() {
        return Err(MonitoringError::NotAcquired { tool });
    }

    let mut entered = lock_control(py, tool)?;
    if entered.guard.is_some() {
        return Err(MonitoringError::AlreadyInstalled { tool });
    }
    let (interest, global) = catch_unwind(AssertUnwindSafe(|| {
        let interest = tracer.interest(events);
        (interest, tracer.global_events(events) & interest)
    }))
    .map_err(|payload| MonitoringError::Tracer {
        tool,
        source: TracerError::Panic {
            event: "interest",
            message: crate::callbacks::panic_message(&*payload),
        },
    })?;

    let result = (|| {
        for row in TABLE {
            if let Some(event) = (row.select)(events) {
                if interest.contains(event) {
                    let callback = row.callback(py, idx)?;
                    register_callback(py, tool, event, Some(&callback))?;
                }
            }
        }
        set_global_events(py, tool, global)
    })();
    if let Err(err) = result {
        unregister_all(py, tool, events);
        return Err(err);
    }
    *entered.guard = Some(Slot {
        tracer,
        hook: Arc::new(on_error),
    });
    INSTALLED[idx].store(true, Ordering::Release);
    Ok(())
}

/// Best-effort removal of everything this crate may have registered for `tool`; failures are
/// logged, and the first one is returned.
fn unregister_all(
    py: Python<'_>,
    tool: ToolId,
    events: &MonitoringEvents,
) -> Option<MonitoringError> {
    let mut first: Option<MonitoringError> = None;
    let mut note = |step: &str, result: Result<(), MonitoringError>| {
        if let Err(err) = result {
            log::warn!("codetracer-monitoring: while cleaning up {tool}: {step}: {err}");
            first.get_or_insert(err);
        }
    };
    note(
        "set_events(NO_EVENTS)",
        set_global_events(py, tool, EventSet::EMPTY),
    );
    note("clearing local events", clear_local_events(py, tool));
    for row in TABLE {
        if let Some(event) = (row.select)(events) {
            note(row.name, register_callback(py, tool, event, None));
        }
    }
    first
}

/// Uninstalls the tracer of `tool` and returns it (`None` if none was installed).
///
/// Sets the tool's global events to `NO_EVENTS`, clears the local events set through
/// [`set_local_events`](crate::set_local_events), and unregisters every callback in the event
/// table. Cleanup is best effort: a failing `sys.monitoring` call is logged (`log::warn!`) and
/// the remaining steps still run; the tracer is returned either way. The tool id stays claimed:
/// release it with [`release_tool_id`](crate::release_tool_id).
pub fn uninstall(py: Python<'_>, tool: ToolId) -> Result<Option<Box<dyn Tracer>>, MonitoringError> {
    let idx = tool.index()?;
    let events = MonitoringEvents::load(py)?;
    let mut entered = lock_control(py, tool)?;
    let Some(slot) = entered.guard.take() else {
        return Ok(None);
    };
    INSTALLED[idx].store(false, Ordering::Release);
    let _ = unregister_all(py, tool, events);
    drop(entered);
    Ok(Some(slot.tracer))
}

/// `true` if a tracer is installed for `tool`.
pub fn is_installed(tool: ToolId) -> bool {
    tool.index()
        .is_ok_and(|idx| INSTALLED[idx].load(Ordering::Acquire))
}

/// Runs `f` on the installed tracer of `tool` if it is a `T`.
///
/// Returns `None` if no tracer is installed, it is not a `T`, or it is busy on this thread
/// (called from inside one of its own callbacks).
pub fn with_tracer<T: Tracer, R>(
    py: Python<'_>,
    tool: ToolId,
    f: impl FnOnce(Python<'_>, &mut T) -> R,
) -> Option<R> {
    let mut entered = lock_control(py, tool).ok()?;
    let tracer = entered.tracer()?;
    let concrete = crate::tracer::AsAnyMut::as_any_mut(tracer).downcast_mut::<T>()?;
    Some(f(py, concrete))
}

/// Calls [`Tracer::flush`] on the installed tracer of `tool`.
pub fn flush(py: Python<'_>, tool: ToolId) -> Result<(), MonitoringError> {
    let mut entered = lock_control(py, tool)?;
    let tracer = entered
        .tracer()
        .ok_or(MonitoringError::NotInstalled { tool })?;
    match catch_unwind(AssertUnwindSafe(|| tracer.flush(py))) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(source)) => Err(MonitoringError::Tracer { tool, source }),
        Err(payload) => Err(MonitoringError::Tracer {
            tool,
            source: TracerError::Panic {
                event: "flush",
                message: crate::callbacks::panic_message(&*payload),
            },
        }),
    }
}
