//! Starting a writer thread, and joining it so that the kernel no longer counts it.
//!
//! Parking a writer before `fork()` only helps if the process has one thread fewer when it
//! forks. CPython checks that right after the fork (the 20th field of `/proc/self/stat`) and
//! warns "This process is multi-threaded, use of fork() may lead to deadlocks in the child"
//! when it sees more than one. A join alone does not guarantee the count: `pthread_join`
//! returns when the exiting thread clears its thread id, which Linux does before it removes
//! the task from the thread group, so for a moment (longer under load) the joined thread is
//! still counted. [`WriterHandle::join`] therefore also waits, bounded, until the thread's
//! `/proc/self/task/<tid>` entry is gone; the entry and the count go in the same step.
//!
//! Every writer thread is started with all signals blocked ([`crate::signals`]).

use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;
#[cfg(target_os = "linux")]
use std::time::Instant;

use crate::error::{Result, TraceStreamError};

/// The name every writer thread gets.
pub const WRITER_THREAD_NAME: &str = "codetracer-writer";

#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
/// How long [`WriterHandle::join`] waits for the kernel to drop a joined thread. Usually
/// microseconds; the bound only keeps a strange `/proc` from hanging a `fork()`.
const REAP_WAIT: Duration = Duration::from_secs(2);

/// A started writer thread: its join handle and its kernel thread id.
pub struct WriterHandle<T> {
    inner: JoinHandle<T>,
    /// The thread's id as the kernel knows it (0 when it could not be read).
    tid: Arc<AtomicI64>,
}

/// Starts `work` on a thread named [`WRITER_THREAD_NAME`] with every signal blocked; `path`
/// (the file it writes) names the error when the thread cannot be started.
pub fn spawn_writer<T: Send + 'static>(
    path: &Path,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<WriterHandle<T>> {
    let tid = Arc::new(AtomicI64::new(0));
    let its_tid = Arc::clone(&tid);
    crate::signals::with_signals_blocked(|| {
        std::thread::Builder::new()
            .name(WRITER_THREAD_NAME.into())
            .spawn(move || {
                its_tid.store(current_tid(), Ordering::Release);
                work()
            })
    })
    .map(|inner| WriterHandle { inner, tid })
    .map_err(|e| TraceStreamError::io("cannot start the writer thread for", path, e))
}

impl<T> WriterHandle<T> {
    /// Waits for the thread to end and for the kernel to stop counting it among this
    /// process's threads (bounded by [`REAP_WAIT`]); the thread's result, or its panic.
    pub fn join(self) -> std::thread::Result<T> {
        let result = self.inner.join();
        wait_reaped(self.tid.load(Ordering::Acquire));
        result
    }
}

/// The calling thread's kernel thread id (0 where there is none to read).
#[cfg(target_os = "linux")]
fn current_tid() -> i64 {
    // SAFETY: `gettid` takes no arguments, cannot fail and touches no memory.
    i64::from(unsafe { libc::gettid() })
}

#[cfg(not(target_os = "linux"))]
fn current_tid() -> i64 {
    0
}

/// Returns once `/proc/self/task/<tid>` does not exist, or after [`REAP_WAIT`].
#[cfg(target_os = "linux")]
fn wait_reaped(tid: i64) {
    if tid <= 0 {
        return;
    }
    let entry = format!("/proc/self/task/{tid}");
    let start = Instant::now();
    let mut pause = Duration::from_micros(20);
    while Path::new(&entry).exists() && start.elapsed() < REAP_WAIT {
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(5));
    }
}

/// Elsewhere `fork()` sees threads differently; a join is all there is.
#[cfg(not(target_os = "linux"))]
fn wait_reaped(_tid: i64) {}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_writer_entry_is_gone_after_join() {
        let path = Path::new("/nonexistent/trace");
        for _ in 0..50 {
            let handle = spawn_writer(path, || ()).unwrap();
            let tid = Arc::clone(&handle.tid);
            handle.join().unwrap();
            let tid = tid.load(Ordering::Acquire);
            assert!(tid > 0);
            let entry = format!("/proc/self/task/{tid}");
            assert!(!Path::new(&entry).exists(), "{entry} still listed");
        }
    }
}
