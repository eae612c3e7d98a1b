//! [`WriterThread`]: the recording thread's handle on a background writer thread — the
//! bounded channel of messages (at most [`QUEUE_DEPTH`] in flight), the channel of emptied
//! buffers coming back for reuse, the tick flag the writer thread raises, and the join that
//! turns the thread's failure into an error. Shared by the `trace.bin`/`trace.json` writer
//! ([`crate::background`]) and the `trace.ct` writer ([`crate::ctfs::output`]), which define
//! their own messages and loops.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

use crate::error::{ErrorKind, Result, TraceStreamError};

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

/// The writer thread's result: the bytes of the file it wrote, or what failed.
type Outcome = std::result::Result<u64, String>;

/// The recording thread's end.
pub struct WriterThread<M> {
    path: PathBuf,
    sender: Option<SyncSender<M>>,
    handle: Option<JoinHandle<Outcome>>,
    spare: Receiver<Vec<u8>>,
    due: Arc<AtomicBool>,
}

impl<M: Send + 'static> WriterThread<M> {
    /// Starts `run` on a thread named `codetracer-writer` for the file at `path`.
    pub fn spawn(
        path: &Path,
        run: impl FnOnce(ThreadEnds<M>) -> Outcome + Send + 'static,
    ) -> Result<Self> {
        let (sender, receiver) = sync_channel(QUEUE_DEPTH);
        let (give_back, spare) = sync_channel(QUEUE_DEPTH + 2);
        let due = Arc::new(AtomicBool::new(false));
        let ends = ThreadEnds {
            receiver,
            give_back,
            due: Arc::clone(&due),
        };
        let handle = std::thread::Builder::new()
            .name("codetracer-writer".into())
            .spawn(move || run(ends))
            .map_err(|e| TraceStreamError::io("cannot start the writer thread for", path, e))?;
        Ok(Self {
            path: path.to_path_buf(),
            sender: Some(sender),
            handle: Some(handle),
            spare,
            due,
        })
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

    /// Sends `message` (blocks while the queue is full); a thread that ended early failed,
    /// and its error is returned.
    pub fn post(&mut self, message: M) -> Result<()> {
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
        match self.handle.take().map(JoinHandle::join) {
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

    /// Closes the channel (the thread finishes the file), waits for the thread and returns
    /// the file's size in bytes.
    pub fn finish(mut self) -> Result<u64> {
        self.sender = None;
        match self.handle.take().map(JoinHandle::join) {
            Some(Ok(Ok(bytes))) => Ok(bytes),
            Some(Ok(Err(msg))) => Err(TraceStreamError::io("cannot write", &self.path, msg)),
            Some(Err(_)) => Err(self.panicked()),
            None => Err(TraceStreamError::new(
                ErrorKind::Writer,
                format!("the writer thread of {} is gone", self.path.display()),
            )),
        }
    }
}

impl<M> Drop for WriterThread<M> {
    fn drop(&mut self) {
        self.sender = None;
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}
