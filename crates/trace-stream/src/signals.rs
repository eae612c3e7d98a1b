//! The writer thread never takes a signal meant for the program.
//!
//! A signal sent to a process goes to any one of its threads that does not block it. CPython
//! runs Python-level handlers on the main thread only, and a main thread blocked in a wait
//! (a lock, a semaphore, `sleep`) only wakes up to run them when the signal interrupted *it*:
//! a `SIGTERM` or `SIGINT` caught by the writer thread would leave a program that handles it
//! waiting forever (a `multiprocessing` worker blocked on its queue's lock, terminated by its
//! pool, hung exactly so). The writer thread is therefore started with every signal blocked:
//! it inherits that mask from the thread that spawns it, which blocks them only for the
//! moment of the spawn (a signal arriving then stays pending and is delivered right after).

/// Runs `spawn` with every signal blocked in this thread (so the thread it starts is born with
/// all signals blocked), then restores this thread's mask.
#[cfg(unix)]
pub fn with_signals_blocked<T>(spawn: impl FnOnce() -> T) -> T {
    // SAFETY: `sigfillset` initialises the local set; `pthread_sigmask` reads the set and
    // writes the old mask into a local of the right type; both only touch this thread.
    let old = unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        (libc::pthread_sigmask(libc::SIG_BLOCK, &all, &mut old) == 0).then_some(old)
    };
    let result = spawn();
    if let Some(old) = old {
        // SAFETY: restores the mask saved above, for this thread only.
        unsafe {
            libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
        }
    }
    result
}

/// Elsewhere: signals are not process-wide in this sense; spawn as is.
#[cfg(not(unix))]
pub fn with_signals_blocked<T>(spawn: impl FnOnce() -> T) -> T {
    spawn()
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The `SigBlk` mask of a thread of this process.
    fn blocked_mask(tid: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/self/task/{tid}/status")).unwrap();
        let line = status.lines().find(|l| l.starts_with("SigBlk:")).unwrap();
        u64::from_str_radix(line.split_whitespace().nth(1).unwrap(), 16).unwrap()
    }

    fn this_tid() -> String {
        let link = std::fs::read_link("/proc/thread-self").unwrap();
        link.file_name().unwrap().to_string_lossy().into_owned()
    }

    #[test]
    fn the_spawned_thread_blocks_every_signal_and_the_spawner_is_restored() {
        let before = blocked_mask(&this_tid());
        let (tx, rx) = std::sync::mpsc::channel();
        let handle = with_signals_blocked(|| {
            std::thread::spawn(move || {
                tx.send(blocked_mask(&this_tid())).unwrap();
            })
        });
        let child = rx.recv().unwrap();
        handle.join().unwrap();
        assert_ne!(
            child & (1 << (libc::SIGTERM - 1)),
            0,
            "SIGTERM not blocked: {child:x}"
        );
        assert_ne!(
            child & (1 << (libc::SIGINT - 1)),
            0,
            "SIGINT not blocked: {child:x}"
        );
        assert_eq!(blocked_mask(&this_tid()), before);
    }
}
