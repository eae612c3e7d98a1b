//! [`WriterThread`]: the recording thread's handle on the `trace.ct` writer thread
//! ([`crate::ctfs::output`] defines its messages and loop) — the bounded channel of messages
//! (at most [`QUEUE_DEPTH`] in flight), the channel of emptied buffers coming back for reuse,
//! the tick flag the writer thread raises, the join that turns the thread's failure into an
//! error, and parking across `fork()`.
//!
//! **Parking.** [`WriterThread::park`] hands the thread a park message; the thread answers
//! it after the messages queued before it and ends, returning its whole state (the open
//! container, compressors, its channel ends), which the handle keeps; the process then has no
//! recorder thread when it forks. [`WriterThread::resume`] starts a new thread with that
//! state. A forked child inherits a copy of the handle but is not its owner: every operation
//! there fails instead of waiting for a thread that does not exist, and dropping it closes the
//! child's copy of the file without writing a byte.
//!
//! The thread runs with every signal blocked ([`crate::signals`]).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;

use crate::error::{ErrorKind, Result, TraceStreamError};
use crate::spawn::{spawn_writer, WriterHandle};

/// Messages in flight between the recording thread and the writer thread.
pub const QUEUE_DEPTH: usize = 4;

/// Emptied buffers larger than this are freed rather than reused.
const MAX_RECYCLED_CAPACITY: usize = 4 << 20;

/// The writer thread's ends: its messages, where emptied buffers go back, the tick flag.
pub struct ThreadEnds<M> {
    /// The messages.
    pub receiver: Receiver<M>,
    /// Emptied buffers for the recording thread to fill again.
    pub give_back: SyncSender<Vec<u8>>,
    /// Raised when the recording thread should hand over its partial data.
    pub due: Arc<AtomicBool>,
}

impl<M> ThreadEnds<M> {
    /// Returns a written buffer for reuse (dropped when enough are waiting already, or when
    /// one huge record made it grow far beyond the usual size).
    pub fn recycle(&self, mut buf: Vec<u8>) {
        if buf.capacity() <= MAX_RECYCLED_CAPACITY {
            buf.clear();
            // A full queue or a finished recording just means this buffer is freed instead.
            let _ = self.give_back.try_send(buf);
        }
    }
}

/// How the writer thread ended: the file is complete (its size in bytes), or it parked
/// with everything it needs to go on.
pub enum Ended<S> {
    /// The file is finished; its size in bytes.
    Finished(u64),
    /// Parked: the state for the next thread.
    Parked(S),
}

/// The writer thread's result: how it ended, or what failed.
pub type Outcome<S> = std::result::Result<Ended<S>, String>;

/// The recording thread's end; `S` is the writer thread's state (it owns its [`ThreadEnds`]).
pub struct WriterThread<M: Send + 'static, S: Send + 'static> {
    path: PathBuf,
    sender: Option<SyncSender<M>>,
    handle: Option<WriterHandle<Outcome<S>>>,
    /// The thread's state while it is parked.
    parked: Option<S>,
    run: fn(S) -> Outcome<S>,
    spare: Receiver<Vec<u8>>,
    due: Arc<AtomicBool>,
    /// The process that started the thread (a forked child must not touch the file).
    owner: u32,
}

/// Fails unless this process is `owner`, the one that created the events file at `path` (a
/// forked child must not write its parent's file).
pub(crate) fn check_owner(owner: u32, path: &Path) -> Result<()> {
    if std::process::id() == owner {
        return Ok(());
    }
    Err(TraceStreamError::new(
        ErrorKind::Writer,
        format!(
            "the events file {} belongs to process {owner}; this process (a fork of it) must not write it",
            path.display(),
        ),
    )
    .at(path))
}

fn spawn<S: Send + 'static>(
    path: &Path,
    run: fn(S) -> Outcome<S>,
    state: S,
) -> Result<WriterHandle<Outcome<S>>> {
    spawn_writer(path, move || run(state))
}

impl<M: Send + 'static, S: Send + 'static> WriterThread<M, S> {
    /// Builds the thread's state from its channel ends (`make`) and starts `run` with it on
    /// a thread named `codetracer-writer` for the file at `path`.
    pub fn spawn(
        path: &Path,
        make: impl FnOnce(ThreadEnds<M>) -> S,
        run: fn(S) -> Outcome<S>,
    ) -> Result<Self> {
        let (sender, receiver) = sync_channel(QUEUE_DEPTH);
        let (give_back, spare) = sync_channel(QUEUE_DEPTH + 2);
        let due = Arc::new(AtomicBool::new(false));
        let ends = ThreadEnds {
            receiver,
            give_back,
            due: Arc::clone(&due),
        };
        let handle = spawn(path, run, make(ends))?;
        Ok(Self {
            path: path.to_path_buf(),
            sender: Some(sender),
            handle: Some(handle),
            parked: None,
            run,
            spare,
            due,
            owner: std::process::id(),
        })
    }

    /// Ends the thread, keeping its state, so that the process can `fork()` without a
    /// recorder thread: `message` (the thread's park message) is queued after what is in
    /// flight, and this returns once the thread wrote those and exited. A no-op when parked.
    pub fn park(&mut self, message: M) -> Result<()> {
        self.check_owner()?;
        if self.handle.is_none() {
            return Ok(());
        }
        self.post(message)?;
        match self.handle.take().map(WriterHandle::join) {
            Some(Ok(Ok(Ended::Parked(state)))) => {
                self.parked = Some(state);
                Ok(())
            }
            Some(Ok(Ok(Ended::Finished(_)))) => {
                self.sender = None;
                Err(TraceStreamError::new(
                    ErrorKind::Writer,
                    format!(
                        "the writer thread of {} ended instead of parking",
                        self.path.display()
                    ),
                ))
            }
            Some(Ok(Err(msg))) => {
                self.sender = None;
                Err(TraceStreamError::io("cannot write", &self.path, msg))
            }
            Some(Err(_)) => {
                self.sender = None;
                Err(self.panicked())
            }
            None => Err(self.gone()),
        }
    }

    /// Starts a new thread with the state [`park`](Self::park) kept (a no-op when not
    /// parked). Every operation that needs the thread resumes a parked one itself.
    pub fn resume(&mut self) -> Result<()> {
        self.check_owner()?;
        if let Some(state) = self.parked.take() {
            self.handle = Some(spawn(&self.path, self.run, state)?);
        }
        Ok(())
    }

    /// Asks for a resume at the next record rather than now: raises the tick flag, so the
    /// recording side hands its data over at its next record and that hand-over starts the
    /// thread (for a caller that must not start a thread at this moment).
    pub fn resume_at_next_record(&self) {
        if self.parked.is_some() {
            self.due.store(true, Ordering::Relaxed);
        }
    }

    /// Fails in a process that did not start the thread (a forked child).
    fn check_owner(&self) -> Result<()> {
        check_owner(self.owner, &self.path)
    }

    /// Whether the writer thread asks for the partial data (a tick passed). Cheap: one
    /// relaxed load.
    #[inline]
    pub fn due(&self) -> bool {
        self.due.load(Ordering::Relaxed)
    }

    /// Lowers the tick flag (the partial data is being handed over).
    pub fn clear_due(&self) {
        self.due.store(false, Ordering::Relaxed);
    }

    /// An emptied buffer the writer thread has finished with, if one is waiting.
    pub fn spare(&self) -> Option<Vec<u8>> {
        self.spare.try_recv().ok()
    }

    /// Sends `message` (blocks while the queue is full), resuming a parked thread first; a
    /// thread that ended early failed, and its error is returned.
    pub fn post(&mut self, message: M) -> Result<()> {
        self.check_owner()?;
        self.resume()?;
        let Some(sender) = &self.sender else {
            return Err(TraceStreamError::new(
                ErrorKind::Writer,
                format!("the trace file {} is already closed", self.path.display()),
            )
            .at(&self.path));
        };
        if sender.send(message).is_err() {
            self.sender = None;
            return Err(self.join_error());
        }
        Ok(())
    }

    /// Waits for the writer thread's answer on `wait` (a flush).
    pub fn wait(&mut self, wait: &Receiver<()>) -> Result<()> {
        if wait.recv().is_err() {
            self.sender = None;
            return Err(self.join_error());
        }
        Ok(())
    }

    fn join_error(&mut self) -> TraceStreamError {
        match self.handle.take().map(WriterHandle::join) {
            Some(Ok(Ok(Ended::Parked(state)))) => {
                // Cannot happen (parking is answered only to `park`): keep the state anyway.
                self.parked = Some(state);
                TraceStreamError::io("cannot write", &self.path, "the writer thread parked")
            }
            Some(Ok(Err(msg))) => TraceStreamError::io("cannot write", &self.path, msg),
            Some(Err(_)) => self.panicked(),
            _ => TraceStreamError::io("cannot write", &self.path, "the writer thread stopped"),
        }
    }

    fn panicked(&self) -> TraceStreamError {
        TraceStreamError::new(
            ErrorKind::Writer,
            format!("the writer thread of {} panicked", self.path.display()),
        )
    }

    fn gone(&self) -> TraceStreamError {
        TraceStreamError::new(
            ErrorKind::Writer,
            format!("the writer thread of {} is gone", self.path.display()),
        )
    }

    /// Closes the channel (the thread finishes the file), waits for the thread and returns
    /// the file's size in bytes.
    pub fn finish(mut self) -> Result<u64> {
        self.check_owner()?;
        self.resume()?;
        self.sender = None;
        match self.handle.take().map(WriterHandle::join) {
            Some(Ok(Ok(Ended::Finished(bytes)))) => Ok(bytes),
            Some(Ok(Ok(Ended::Parked(_)))) => Err(self.gone()),
            Some(Ok(Err(msg))) => Err(TraceStreamError::io("cannot write", &self.path, msg)),
            Some(Err(_)) => Err(self.panicked()),
            None => Err(self.gone()),
        }
    }
}

impl<M: Send + 'static, S: Send + 'static> Drop for WriterThread<M, S> {
    fn drop(&mut self) {
        self.sender = None;
        if std::process::id() != self.owner {
            // A forked child: the thread exists only in the parent; never wait for it. The
            // parked state (if any) drops without writing a byte.
            std::mem::forget(self.handle.take());
            return;
        }
        // A parked thread is restarted so that the file gets its ending (the closed channel
        // tells it to publish what it has).
        if let Some(state) = self.parked.take() {
            if let Ok(handle) = spawn(&self.path, self.run, state) {
                self.handle = Some(handle);
            }
        }
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}
