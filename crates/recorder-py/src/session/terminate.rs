//! `SIGTERM` while recording: the trace is finished, then the process dies of the signal, as
//! it would have without the recorder (`multiprocessing` terminates its pool workers so).
//!
//! No Python-level handler: the program would see it (`signal.getsignal`), and CPython runs a
//! Python handler only between bytecodes — a signal that lands just before a blocking call
//! (a lock, a queue) is not acted on until the call returns, and the recorder's callbacks
//! between the lines make that window wide enough to hang a pool worker for good. Instead:
//!
//! 1. when a recording starts (before it writes anything) and `SIGTERM` has its default
//!    action, a C handler is installed that only notes the signal (async-signal-safe:
//!    atomics); not for a trace that is not durable (the pytest plugin's one per test),
//!    whose writer may never start a thread to tick: there `SIGTERM` keeps its default
//!    action and the test's trace is lost, as a `SIGKILL` would lose it;
//! 2. every writer thread calls [`tick`] about every 200 ms; the first tick after the signal
//!    starts a thread that takes the GIL (the main thread holds it at most a switch interval,
//!    or is blocked with it released), stops the recording with exit code `-15` and label
//!    `signal SIGTERM`, restores the default action and sends `SIGTERM` again;
//! 3. a second `SIGTERM`, one arriving when nothing records, or one still unfinished after
//!    five seconds kills the process at once, by the default action; so does a start that
//!    fails, or a stop that comes first, after a `SIGTERM` was noted but not yet acted on
//!    ([`disarm_acting`]: the program dies of it, as it would have untraced).
//!
//! A handler the program installs itself (before or after) replaces this one; at stop the
//! default action is restored when this handler is still the installed one.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use pyo3::prelude::*;

/// A recording is active and this handler is installed.
static ARMED: AtomicBool = AtomicBool::new(false);
/// `SIGTERM` arrived.
static SEEN: AtomicBool = AtomicBool::new(false);
/// The finishing thread was started.
static FINISHING: AtomicBool = AtomicBool::new(false);
/// Ticks since the finishing thread started.
static TICKS: AtomicU32 = AtomicU32::new(0);
/// Ticks after which an unfinished stop is given up (five seconds).
const DEADLINE_TICKS: u32 = 25;

/// Installs the handler if `SIGTERM` has its default action (a recording started).
pub fn arm() {
    codetracer_trace_stream::background::on_every_tick(tick);
    SEEN.store(false, Ordering::SeqCst);
    FINISHING.store(false, Ordering::SeqCst);
    TICKS.store(0, Ordering::SeqCst);
    if sys::install() {
        ARMED.store(true, Ordering::SeqCst);
    }
}

/// Removes the handler (a forked child drops its parent's).
pub fn disarm() {
    if ARMED.swap(false, Ordering::SeqCst) {
        sys::restore_default_if_ours();
    }
}

/// Removes the handler (the recording stopped, or its start failed); a `SIGTERM` noted and
/// not acted on yet ends the process now, by the default action.
pub fn disarm_acting() {
    let armed = ARMED.load(Ordering::SeqCst);
    disarm();
    if armed && SEEN.load(Ordering::SeqCst) && !FINISHING.load(Ordering::SeqCst) {
        sys::die();
    }
}

/// The handler armed for a recording being started: kept when the start succeeds, removed
/// (acting on a noted `SIGTERM`) when it fails.
pub struct StartGuard {
    armed: bool,
}

impl StartGuard {
    /// Arms the handler for a durable recording (see the module docs for the others).
    pub fn arm(durable: bool) -> Self {
        if durable {
            arm();
        }
        Self { armed: durable }
    }

    /// The start succeeded: the handler stays for the recording.
    pub fn keep(mut self) {
        self.armed = false;
    }
}

impl Drop for StartGuard {
    fn drop(&mut self) {
        if self.armed {
            disarm_acting();
        }
    }
}

/// The writer threads' tick: acts on a noted `SIGTERM`.
fn tick() {
    if !SEEN.load(Ordering::SeqCst) {
        return;
    }
    if !FINISHING.swap(true, Ordering::SeqCst) {
        let started = std::thread::Builder::new()
            .name("codetracer-sigterm".into())
            .spawn(finish_then_die);
        if started.is_err() {
            sys::die();
        }
    } else if TICKS.fetch_add(1, Ordering::SeqCst) >= DEADLINE_TICKS {
        sys::die();
    }
}

fn finish_then_die() {
    let outcome = std::panic::catch_unwind(|| {
        Python::attach(|py| {
            let _ = super::stop_ending(
                py,
                Some(-i64::from(sys::SIGTERM)),
                None,
                Some("signal SIGTERM"),
                serde_json::Map::new(),
            );
        });
    });
    drop(outcome);
    sys::die();
}

#[cfg(unix)]
mod sys {
    use super::{ARMED, SEEN};
    use std::sync::atomic::Ordering;

    pub const SIGTERM: i32 = libc::SIGTERM;

    extern "C" fn on_sigterm(_signal: libc::c_int) {
        if !ARMED.load(Ordering::SeqCst) || SEEN.swap(true, Ordering::SeqCst) {
            die();
        }
    }

    fn current() -> Option<libc::sigaction> {
        // SAFETY: queries the action of SIGTERM into a zeroed local `sigaction`.
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            (libc::sigaction(libc::SIGTERM, std::ptr::null(), &mut old) == 0).then_some(old)
        }
    }

    fn ours() -> libc::sighandler_t {
        on_sigterm as extern "C" fn(libc::c_int) as libc::sighandler_t
    }

    /// Installs `on_sigterm` when SIGTERM has its default action; whether it is installed.
    pub fn install() -> bool {
        let Some(old) = current() else {
            return false;
        };
        if old.sa_sigaction == ours() {
            return true;
        }
        if old.sa_sigaction != libc::SIG_DFL {
            return false; // the program's own handler (or SIG_IGN) stays
        }
        // SAFETY: a zeroed `sigaction` with our handler and an empty mask; `on_sigterm`
        // only touches atomics and calls async-signal-safe functions.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = ours();
            libc::sigemptyset(&mut action.sa_mask);
            action.sa_flags = libc::SA_RESTART;
            libc::sigaction(libc::SIGTERM, &action, std::ptr::null_mut()) == 0
        }
    }

    /// Puts back the default action when `on_sigterm` is still the installed handler.
    pub fn restore_default_if_ours() {
        if current().is_some_and(|old| old.sa_sigaction == ours()) {
            default_action();
        }
    }

    fn default_action() {
        // SAFETY: `signal(SIGTERM, SIG_DFL)` is async-signal-safe and only changes SIGTERM.
        unsafe {
            libc::signal(libc::SIGTERM, libc::SIG_DFL);
        }
    }

    /// Dies of SIGTERM by its default action (async-signal-safe).
    pub fn die() {
        default_action();
        // SAFETY: sends SIGTERM to this process; with the default action it terminates.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGTERM);
        }
    }
}

#[cfg(not(unix))]
mod sys {
    pub const SIGTERM: i32 = 15;
    pub fn install() -> bool {
        false
    }
    pub fn restore_default_if_ours() {}
    pub fn die() {}
}
