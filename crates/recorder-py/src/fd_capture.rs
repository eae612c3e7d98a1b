//! `proxies+fd`: raw writes to fds 1 and 2 (`os.write`, C extensions, child processes that
//! inherit the fds) captured through a pipe per fd.
//!
//! At start each fd is duplicated (the original kept) and replaced by the write end of a
//! pipe; a reader thread per fd forwards every byte it reads to the original fd at once and
//! records what the stream proxies did not already record as an IO event. The proxies
//! announce the bytes they record ([`expect`]); the reader takes announced bytes off the
//! front of what it reads in order, so a `print` is recorded once, at its line, however the
//! program's buffering delays its bytes. [`stop`] puts the original fds back, lets the
//! readers drain and end (a child still holding the pipe open is left to a reader that only
//! forwards from then on), and never waits with the GIL held. Unix only.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::runtime::tracer::IoStream;

/// Most announced bytes kept per fd (announcements that never reach the fd are dropped
/// oldest first beyond this).
const MAX_PENDING: usize = 1 << 20;
/// How long [`stop`] waits for a reader to drain.
const DRAIN_WAIT: Duration = Duration::from_secs(2);

/// Bytes announced by the proxies for one fd, not yet seen in the pipe.
type Pending = Arc<Mutex<VecDeque<u8>>>;

struct Redirect {
    fd: i32,
    saved: i32,
    pending: Pending,
    /// Set by the reader when it ends.
    done: Arc<(Mutex<bool>, Condvar)>,
}

/// Whether readers may still record (cleared at stop: afterwards they only forward).
static RECORDING: AtomicBool = AtomicBool::new(false);
static ACTIVE: Mutex<Vec<Redirect>> = Mutex::new(Vec::new());

fn active() -> MutexGuard<'static, Vec<Redirect>> {
    ACTIVE.lock().unwrap_or_else(PoisonError::into_inner)
}

fn lock(p: &Pending) -> MutexGuard<'_, VecDeque<u8>> {
    p.lock().unwrap_or_else(PoisonError::into_inner)
}

fn stream_of(fd: i32) -> IoStream {
    if fd == 2 {
        IoStream::Stderr
    } else {
        IoStream::Stdout
    }
}

/// Whether fd capture is running.
pub fn is_active() -> bool {
    !active().is_empty()
}

/// The proxies recorded `bytes` on the stream of `fd`: they will come through the pipe and
/// must not be recorded again.
pub fn expect(fd: i32, bytes: &[u8]) {
    let guard = active();
    let Some(r) = guard.iter().find(|r| r.fd == fd) else {
        return;
    };
    let mut pending = lock(&r.pending);
    pending.extend(bytes);
    while pending.len() > MAX_PENDING {
        pending.pop_front();
    }
}

/// Takes the announced bytes off `data` in order; what is left was written past the proxies.
fn unannounced(pending: &Pending, data: &[u8]) -> Vec<u8> {
    let mut pending = lock(pending);
    let mut raw = Vec::new();
    for &b in data {
        if pending.front() == Some(&b) {
            pending.pop_front();
        } else {
            raw.push(b);
        }
    }
    raw
}

/// Text of raw bytes: UTF-8 kept, every invalid byte written `\xNN` (lossless, marked).
/// An incomplete sequence at the end stays in `carry` for the next read.
fn decode(carry: &mut Vec<u8>, data: &[u8]) -> String {
    carry.extend_from_slice(data);
    let mut text = String::new();
    let mut rest: &[u8] = &[];
    let bytes = std::mem::take(carry);
    let mut chunks = bytes.utf8_chunks().peekable();
    while let Some(chunk) = chunks.next() {
        text.push_str(chunk.valid());
        let invalid = chunk.invalid();
        let last = chunks.peek().is_none();
        // An invalid tail shorter than a full sequence may be the start of one.
        if last && !invalid.is_empty() && invalid.len() < 4 && bytes.ends_with(invalid) {
            rest = invalid;
            break;
        }
        for b in invalid {
            text.push_str(&format!("\\x{b:02x}"));
        }
    }
    *carry = rest.to_vec();
    text
}

#[cfg(unix)]
mod sys {
    //! The few libc calls fd capture needs, each retried on `EINTR`.

    /// `read`, retried on EINTR; 0 at end of file, negative on error.
    pub fn read(fd: i32, buf: &mut [u8]) -> isize {
        loop {
            // SAFETY: `buf` is a valid writable buffer of `buf.len()` bytes.
            let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
            if n >= 0 || std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
                return n;
            }
        }
    }

    /// Writes all of `data` (drops the rest on an error other than EINTR).
    pub fn write_all(fd: i32, mut data: &[u8]) {
        while !data.is_empty() {
            // SAFETY: `data` is a valid readable buffer of `data.len()` bytes.
            let n = unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) };
            if n < 0 {
                if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                return;
            }
            data = data.get(n.unsigned_abs()..).unwrap_or(&[]);
        }
    }

    /// `dup2`, retried on EINTR.
    pub fn dup2(from: i32, to: i32) -> std::io::Result<()> {
        loop {
            // SAFETY: plain fd syscall; invalid fds are reported as errors.
            if unsafe { libc::dup2(from, to) } >= 0 {
                return Ok(());
            }
            let e = std::io::Error::last_os_error();
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
    }

    /// `dup` with close-on-exec (the saved fd must not leak into children).
    pub fn dup_cloexec(fd: i32) -> std::io::Result<i32> {
        // SAFETY: plain fd syscall.
        let n = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
        if n < 0 {
            Err(std::io::Error::last_os_error())
        } else {
            Ok(n)
        }
    }

    /// A close-on-exec pipe `(read, write)`.
    pub fn pipe() -> std::io::Result<(i32, i32)> {
        let mut fds = [0i32; 2];
        // SAFETY: `fds` has room for the two descriptors.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok((fds[0], fds[1]))
    }

    /// `close`, errors ignored.
    pub fn close(fd: i32) {
        // SAFETY: plain fd syscall on an fd this module owns.
        unsafe { libc::close(fd) };
    }
}

#[cfg(unix)]
fn reader(fd: i32, pipe: i32, saved: i32, pending: Pending, done: Arc<(Mutex<bool>, Condvar)>) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut carry = Vec::new();
    loop {
        let n = sys::read(pipe, &mut buf);
        let Some(data) = usize::try_from(n)
            .ok()
            .filter(|n| *n > 0)
            .and_then(|n| buf.get(..n))
        else {
            break;
        };
        sys::write_all(saved, data);
        if !RECORDING.load(Ordering::Acquire) {
            continue;
        }
        let raw = unannounced(&pending, data);
        if raw.is_empty() {
            continue;
        }
        let text = decode(&mut carry, &raw);
        if !text.is_empty() {
            pyo3::Python::attach(|py| {
                if RECORDING.load(Ordering::Acquire) {
                    crate::session::io::record(
                        py,
                        stream_of(fd),
                        crate::runtime::tracer::IoOrigin::Fd,
                        &text,
                    );
                }
            });
        }
    }
    sys::close(pipe);
    sys::close(saved);
    let (lock, cv) = &*done;
    *lock.lock().unwrap_or_else(PoisonError::into_inner) = true;
    cv.notify_all();
}

/// Redirects fds 1 and 2 into pipes read by forwarding threads.
#[cfg(unix)]
pub fn start() -> std::io::Result<()> {
    let mut guard = active();
    if !guard.is_empty() {
        return Ok(());
    }
    let mut made = Vec::new();
    for fd in [1, 2] {
        let saved = sys::dup_cloexec(fd)?;
        let (r, w) = match sys::pipe() {
            Ok(p) => p,
            Err(e) => {
                sys::close(saved);
                undo(&mut made);
                return Err(e);
            }
        };
        if let Err(e) = sys::dup2(w, fd) {
            sys::close(saved);
            sys::close(r);
            sys::close(w);
            undo(&mut made);
            return Err(e);
        }
        sys::close(w);
        let pending: Pending = Arc::default();
        let done: Arc<(Mutex<bool>, Condvar)> = Arc::default();
        let (p, d) = (pending.clone(), done.clone());
        let spawned = std::thread::Builder::new()
            .name(format!("codetracer-fd{fd}"))
            .spawn(move || reader(fd, r, saved, p, d));
        made.push(Redirect {
            fd,
            saved,
            pending,
            done,
        });
        if let Err(e) = spawned {
            sys::close(r);
            undo(&mut made);
            return Err(e);
        }
    }
    RECORDING.store(true, Ordering::Release);
    *guard = made;
    Ok(())
}

/// Puts the original fds back (the readers end once every copy of the pipe is closed).
#[cfg(unix)]
fn undo(made: &mut Vec<Redirect>) {
    for r in made.drain(..) {
        // `saved` stays open for the reader, which closes it when it ends.
        let _ = sys::dup2(r.saved, r.fd);
    }
}

/// Restores fds 1 and 2 and waits (at most [`DRAIN_WAIT`] per fd) for the readers to forward
/// and record what is still in the pipes. Call without the GIL held.
#[cfg(unix)]
pub fn stop() {
    let mut made = std::mem::take(&mut *active());
    let waits: Vec<_> = made.iter().map(|r| r.done.clone()).collect();
    undo(&mut made);
    for done in waits {
        let (lock, cv) = &*done;
        let guard = lock.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = cv.wait_timeout_while(guard, DRAIN_WAIT, |finished| !*finished);
    }
    RECORDING.store(false, Ordering::Release);
}

/// In a forked child: the readers live in the parent; the child's fds go back to the
/// originals directly, without waiting.
#[cfg(unix)]
pub fn after_fork_in_child() {
    RECORDING.store(false, Ordering::Release);
    let mut made = std::mem::take(&mut *active());
    undo(&mut made);
}

/// Not available on this platform.
#[cfg(not(unix))]
pub fn start() -> std::io::Result<()> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "fd capture needs a Unix system",
    ))
}

/// Nothing to restore on this platform.
#[cfg(not(unix))]
pub fn stop() {}

/// Nothing to restore on this platform.
#[cfg(not(unix))]
pub fn after_fork_in_child() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn announced_bytes_are_taken_off_in_order() {
        let p: Pending = Arc::default();
        lock(&p).extend(b"hello\n");
        assert_eq!(unannounced(&p, b"raw hel"), b"raw ".to_vec());
        assert_eq!(unannounced(&p, b"lo\nmore"), b"more".to_vec());
        assert!(lock(&p).is_empty());
    }

    #[test]
    fn decode_marks_invalid_bytes_and_carries_split_sequences() {
        let mut carry = Vec::new();
        assert_eq!(decode(&mut carry, b"a\xffb"), "a\\xffb");
        // "é" = C3 A9 split across two reads.
        assert_eq!(decode(&mut carry, b"x\xc3"), "x");
        assert_eq!(decode(&mut carry, b"\xa9!"), "é!");
        assert!(carry.is_empty());
    }
}
