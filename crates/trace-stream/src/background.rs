//! The events file's background writer thread.
//!
//! The recording thread only serialises records into an in-memory chunk; full chunks are
//! handed over a bounded channel to this thread, which compresses (binary format) or copies
//! (JSON) them into the file. The channel holds at most [`QUEUE_DEPTH`] chunks, so memory stays
//! bounded however long the program runs: if the disk is slower than the program, the program
//! waits at the hand-over instead of the writer buffering without limit. Written chunks go
//! back over a second channel and are filled again (a fresh 256 KiB buffer per chunk costs a
//! page fault per 4 KiB written).
//!
//! **Surviving a kill.** Every [`TICK`] this thread raises a flag ([`BackgroundFile::due`])
//! that the recording thread reads (one relaxed atomic load per record) and answers by
//! handing over its partial chunk marked "sync"; this thread then ends the zstd frame and
//! pushes the bytes to the OS. So what was recorded more than about one tick ago is in
//! complete frames in the file, without any thread but the recording one touching the chunk
//! (or the interpreter).
//!
//! The thread runs with every signal blocked, so signals meant for the program never land on
//! it ([`crate::signals`]).
//!
//! **Surviving a fork.** [`BackgroundFile::park`] ends this thread with its whole state (the
//! open file, the zstd encoder, the channel ends) handed back, so the process has no recorder
//! thread at the moment it forks; [`BackgroundFile::resume`] starts a new thread with that
//! state and the stream continues as if nothing happened. A forked child inherits a copy of
//! the state but is not its owner: every operation there fails with an error instead of
//! waiting for a thread that does not exist, and dropping it closes the child's copy of the file
//! without writing a byte (buffered bytes are the parent's).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use zeekstd::{EncodeOptions, FrameSizePolicy};

use crate::create::create_replacing;
use crate::error::{ErrorKind, Result, TraceStreamError};
use crate::spawn::{spawn_writer, WriterHandle};

/// Chunks in flight between the recording thread and the writer thread.
pub const QUEUE_DEPTH: usize = 4;

/// How often recorded data is made durable against a kill.
pub const TICK: Duration = Duration::from_millis(200);

/// zstd level. On value-heavy code this thread is as busy as the recording thread: level 1
/// compressed ~10 % faster end to end than zstd's default level 3 for ~5 % more bytes.
const COMPRESSION_LEVEL: i32 = 1;

/// Chunks that grew beyond this are freed rather than reused.
const MAX_RECYCLED_CAPACITY: usize = 4 << 20;

/// Uncompressed bytes per zstd frame at most.
const FRAME_BYTES: u32 = 1 << 20;

/// The 8-byte header of the Binary v1 format (`C0 DE 72 AC E2`, version 1).
pub const HEADER_V1: [u8; 8] = [0xC0, 0xDE, 0x72, 0xAC, 0xE2, 0x01, 0x00, 0x00];

static TICK_HOOK: OnceLock<fn()> = OnceLock::new();

/// Sets a function every writer thread calls about once per [`TICK`], busy or idle (the
/// first call wins; later ones are ignored). It runs on the writer thread, must return
/// quickly and must not write to a trace. A recorder uses it to act on things a signal
/// handler could only note (see `codetracer-recorder-py`'s handling of `SIGTERM`).
pub fn on_every_tick(hook: fn()) {
    let _ = TICK_HOOK.set(hook);
}

/// Calls the hook set by [`on_every_tick`] (each writer thread, about once per [`TICK`]).
pub(crate) fn run_tick_hook() {
    if let Some(hook) = TICK_HOOK.get() {
        hook();
    }
}

/// How the writer thread turns chunks into file bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileEncoding {
    /// Header + seekable zstd stream (the Binary v1 container).
    SeekableZstd,
    /// Bytes go to the file as they are.
    Plain,
}

enum Message {
    /// Bytes to write; `sync`: then make everything so far durable (end the frame).
    Chunk { bytes: Vec<u8>, sync: bool },
    /// Make everything so far durable, then answer.
    Flush(SyncSender<()>),
    /// Wakes the thread to look at its park flag (see [`BackgroundFile::park`]); stale once
    /// the flag was answered.
    Park,
}

/// How the writer thread ended.
enum Ended {
    /// The stream is complete; the file's size in bytes.
    Finished(u64),
    /// Parked: everything it needs to go on, for the next thread.
    Parked(Box<Writer>),
}

type ThreadResult = std::result::Result<Ended, String>;

/// Handle to the writer thread of one events file.
pub struct BackgroundFile {
    path: PathBuf,
    sender: Option<SyncSender<Message>>,
    handle: Option<WriterHandle<ThreadResult>>,
    /// The thread's state while it is parked (or not started yet, see `deferred`).
    parked: Option<Box<Writer>>,
    /// The thread has not been started yet: chunks wait in the queue while there is room
    /// ([`create_deferred`](Self::create_deferred)).
    deferred: bool,
    /// Chunks the writer thread is done with, emptied, for reuse.
    spare: Receiver<Vec<u8>>,
    due: Arc<AtomicBool>,
    /// Raised by [`park`](Self::park), answered by the thread.
    park_flag: Arc<AtomicBool>,
    /// The process that created the file (a forked child must not touch it).
    owner: u32,
}

impl BackgroundFile {
    /// Creates `path` as a new file of `mode` (replacing what is there without following a
    /// symlink, see [`crate::create`]) and starts the writer thread.
    pub fn create(path: &Path, encoding: FileEncoding, mode: u32) -> Result<Self> {
        Self::open(path, encoding, mode, false)
    }

    /// As [`create`](Self::create), but the writer thread starts only when it is needed: when
    /// the queue is full, at a [`flush`](Self::flush), or never — [`finish`](Self::finish)
    /// then writes the queued chunks on the calling thread. For many short streams (one per
    /// test): no thread started and joined for each. Without a thread there are no ticks, so
    /// nothing is pushed to the file before the queue fills or a flush: a killed process
    /// leaves such a file with its header only.
    pub fn create_deferred(path: &Path, encoding: FileEncoding, mode: u32) -> Result<Self> {
        Self::open(path, encoding, mode, true)
    }

    fn open(path: &Path, encoding: FileEncoding, mode: u32, deferred: bool) -> Result<Self> {
        let mut file = OwnedFile::new(create_replacing(path, mode)?);
        if encoding == FileEncoding::SeekableZstd {
            // Straight to the file: a reader of the live file finds a header at once.
            file.write_all(&HEADER_V1)
                .and_then(|()| file.flush())
                .map_err(|e| TraceStreamError::io("cannot write", path, e))?;
        }
        let out = match encoding {
            FileEncoding::Plain => Out::Plain(file),
            FileEncoding::SeekableZstd => {
                let opts = EncodeOptions::new()
                    .checksum_flag(false)
                    .compression_level(COMPRESSION_LEVEL)
                    .frame_size_policy(FrameSizePolicy::Uncompressed(FRAME_BYTES));
                let encoder = opts.into_encoder(file).map_err(|e| {
                    TraceStreamError::io("cannot start compressing", path, e.to_string())
                })?;
                Out::Zstd(ZstdOutput {
                    encoder,
                    frame_open: false,
                })
            }
        };
        let (sender, receiver) = sync_channel(QUEUE_DEPTH);
        let (give_back, spare) = sync_channel(QUEUE_DEPTH + 1);
        let due = Arc::new(AtomicBool::new(false));
        let park_flag = Arc::new(AtomicBool::new(false));
        let writer = Box::new(Writer {
            out,
            chunks: Chunks {
                receiver,
                give_back,
                due: Arc::clone(&due),
                park: Arc::clone(&park_flag),
            },
            path: path.to_path_buf(),
            pending: None,
        });
        let (handle, parked) = if deferred {
            (None, Some(writer))
        } else {
            (Some(spawn(writer, path)?), None)
        };
        Ok(Self {
            path: path.to_path_buf(),
            sender: Some(sender),
            handle,
            parked,
            deferred,
            spare,
            due,
            park_flag,
            owner: std::process::id(),
        })
    }

    /// Ends the writer thread, keeping its state (open file, encoder, channels), so that the
    /// process can `fork()` without a recorder thread: call before `fork()` and
    /// [`resume`](Self::resume) afterwards in the parent. The thread stops within the slice
    /// it is writing (the rest of that chunk and the chunks still queued wait for the next
    /// thread), so parking costs one slice's compression, not a queue's. Returns when the
    /// thread has exited; a no-op when already parked.
    pub fn park(&mut self) -> Result<()> {
        self.check_owner()?;
        if self.handle.is_none() {
            return Ok(());
        }
        self.park_flag.store(true, Ordering::SeqCst);
        if let Some(sender) = &self.sender {
            // Wakes a thread waiting for work; a full queue means it is busy and sees the
            // flag after its current chunk. A closed channel: it ended; join says why.
            let _ = sender.try_send(Message::Park);
        }
        match self.handle.take().map(WriterHandle::join) {
            Some(Ok(Ok(Ended::Parked(writer)))) => {
                self.parked = Some(writer);
                Ok(())
            }
            other => {
                self.sender = None;
                Err(self.thread_error(other))
            }
        }
    }

    /// Starts a new writer thread with the state [`park`](Self::park) kept (a no-op when not
    /// parked). Every operation that needs the thread (`send`, `flush`, `finish`) resumes a
    /// parked writer itself.
    pub fn resume(&mut self) -> Result<()> {
        self.check_owner()?;
        if let Some(writer) = self.parked.take() {
            self.handle = Some(spawn(writer, &self.path)?);
            self.deferred = false;
        }
        Ok(())
    }

    /// Whether the writer thread is parked.
    pub fn is_parked(&self) -> bool {
        self.parked.is_some()
    }

    /// Asks for a resume at the next record rather than now: raises the [`due`](Self::due)
    /// flag, so the recording side hands its partial chunk over at its next record, and that
    /// [`send`](Self::send) starts the thread (for a caller that must not start a thread
    /// at this moment).
    pub fn resume_at_next_record(&self) {
        if self.parked.is_some() {
            self.due.store(true, Ordering::Relaxed);
        }
    }

    /// Fails in a process that did not create the file (a forked child).
    fn check_owner(&self) -> Result<()> {
        crate::writer_thread::check_owner(self.owner, &self.path)
    }

    /// Whether the writer thread asks for the partial chunk (a tick passed). Cheap: one
    /// relaxed load.
    #[inline]
    pub fn due(&self) -> bool {
        self.due.load(Ordering::Relaxed)
    }

    /// An emptied chunk the writer thread has finished with, if one is waiting.
    pub fn spare_chunk(&self) -> Option<Vec<u8>> {
        self.spare.try_recv().ok()
    }

    /// Hands a chunk to the writer thread (blocks while the queue is full); `sync` asks it to
    /// make everything so far durable afterwards.
    pub fn send(&mut self, bytes: Vec<u8>, sync: bool) -> Result<()> {
        self.check_owner()?;
        if sync {
            self.due.store(false, Ordering::Relaxed);
        }
        let message = Message::Chunk { bytes, sync };
        let message = match (&self.sender, self.deferred) {
            // Not started yet: the chunk waits in the queue while there is room.
            (Some(sender), true) => match sender.try_send(message) {
                Ok(()) => return Ok(()),
                Err(TrySendError::Full(message) | TrySendError::Disconnected(message)) => message,
            },
            _ => message,
        };
        self.resume()?;
        self.post(message)
    }

    /// Pushes everything handed over so far into the file and waits until it is there.
    pub fn flush(&mut self) -> Result<()> {
        self.check_owner()?;
        self.resume()?;
        let (done, wait) = sync_channel(1);
        self.post(Message::Flush(done))?;
        if wait.recv().is_err() {
            self.sender = None;
            return Err(self.join_error());
        }
        Ok(())
    }

    fn post(&mut self, message: Message) -> Result<()> {
        let Some(sender) = &self.sender else {
            return Err(self.closed());
        };
        if sender.send(message).is_err() {
            // The thread ended early: it failed. Collect its error.
            self.sender = None;
            return Err(self.join_error());
        }
        Ok(())
    }

    fn closed(&self) -> TraceStreamError {
        TraceStreamError::new(
            ErrorKind::Writer,
            format!("the events file {} is already closed", self.path.display()),
        )
        .at(&self.path)
    }

    fn join_error(&mut self) -> TraceStreamError {
        let ended = self.handle.take().map(WriterHandle::join);
        self.thread_error(ended)
    }

    /// The error to report for a thread that ended other than as asked.
    fn thread_error(&self, ended: Option<std::thread::Result<ThreadResult>>) -> TraceStreamError {
        match ended {
            Some(Ok(Err(msg))) => TraceStreamError::io("cannot write", &self.path, msg),
            Some(Err(_)) => TraceStreamError::new(
                ErrorKind::Writer,
                format!("the writer thread of {} panicked", self.path.display()),
            ),
            _ => TraceStreamError::io("cannot write", &self.path, "the writer thread stopped"),
        }
    }

    /// Closes the stream, waits for the thread and returns the file size in bytes.
    pub fn finish(mut self) -> Result<u64> {
        self.check_owner()?;
        self.sender = None; // closing the channel tells the thread to finish
        if let Some(writer) = self.parked.take() {
            // No thread (parked, or never started): write the rest here.
            return match run(writer) {
                Ok(Ended::Finished(bytes)) => Ok(bytes),
                other => Err(self.thread_error(Some(Ok(other)))),
            };
        }
        match self.handle.take().map(WriterHandle::join) {
            Some(Ok(Ok(Ended::Finished(bytes)))) => Ok(bytes),
            None => Err(self.closed()),
            other => Err(self.thread_error(other)),
        }
    }
}

impl Drop for BackgroundFile {
    fn drop(&mut self) {
        self.sender = None;
        if std::process::id() != self.owner {
            // A forked child: the thread exists only in the parent; never wait for it. The
            // parked state (if any) drops without writing (see `OwnedFile`).
            std::mem::forget(self.handle.take());
            return;
        }
        // A parked writer ends through a thread like any other: the file gets its ending.
        if self.resume().is_ok() {
            if let Some(handle) = self.handle.take() {
                let _ = handle.join();
            }
        }
    }
}

/// The writer thread's ends of the channels, the tick flag and the park flag.
struct Chunks {
    receiver: Receiver<Message>,
    give_back: SyncSender<Vec<u8>>,
    due: Arc<AtomicBool>,
    park: Arc<AtomicBool>,
}

/// What the writer thread got next.
enum Next {
    Message(Message),
    /// A tick passed with no message.
    Tick,
    /// The recording side closed the stream.
    End,
}

/// Why [`pump`] returned.
enum Stop {
    /// The stream ended: finish the file.
    End,
    /// [`Message::Park`]: hand the state back.
    Park,
}

impl Chunks {
    fn next(&self) -> Next {
        match self.receiver.recv_timeout(TICK) {
            Ok(m) => Next::Message(m),
            Err(RecvTimeoutError::Timeout) => Next::Tick,
            Err(RecvTimeoutError::Disconnected) => Next::End,
        }
    }

    /// Returns a written chunk for reuse (dropped when enough are waiting already, or when
    /// one huge record made it grow far beyond the usual size).
    fn recycle(&self, mut chunk: Vec<u8>) {
        if chunk.capacity() <= MAX_RECYCLED_CAPACITY {
            chunk.clear();
            // A full queue or a finished sink just means this chunk is freed instead.
            let _ = self.give_back.try_send(chunk);
        }
    }

    /// Asks the recording thread for its partial chunk.
    fn tick(&self) {
        self.due.store(true, Ordering::Relaxed);
    }

    /// Whether the thread was asked to park (and the request is now answered).
    fn park_requested(&self) -> bool {
        self.park.swap(false, Ordering::SeqCst)
    }
}

/// The events file as the writer writes it: buffered, and owned by the process that opened
/// it. Dropped in another process (a forked child holding a copy), it closes that copy
/// without writing what is buffered: those bytes are the parent's to write.
struct OwnedFile {
    buf: Option<BufWriter<File>>,
    owner: u32,
}

impl OwnedFile {
    fn new(file: File) -> Self {
        Self {
            buf: Some(BufWriter::with_capacity(1 << 16, file)),
            owner: std::process::id(),
        }
    }

    fn buf(&mut self) -> std::io::Result<&mut BufWriter<File>> {
        self.buf
            .as_mut()
            .ok_or_else(|| std::io::Error::other("the events file is closed"))
    }

    /// Flushes and makes the bytes durable.
    fn sync_all(&mut self) -> std::io::Result<()> {
        let buf = self.buf()?;
        buf.flush()?;
        buf.get_ref().sync_data()
    }
}

impl Write for OwnedFile {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buf()?.write(bytes)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.buf()?.flush()
    }
}

impl Drop for OwnedFile {
    fn drop(&mut self) {
        if std::process::id() != self.owner {
            if let Some(buf) = self.buf.take() {
                let (file, _parents_bytes) = buf.into_parts();
                drop(file);
            }
        }
    }
}

/// The file side: write bytes, make them durable, finish.
trait Output {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<()>;
    /// Ends what is open (a zstd frame) and pushes it to the OS.
    fn sync(&mut self) -> std::io::Result<()>;
}

impl Output for OwnedFile {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.write_all(bytes)
    }
    fn sync(&mut self) -> std::io::Result<()> {
        self.flush()
    }
}

struct ZstdOutput {
    encoder: zeekstd::Encoder<'static, OwnedFile>,
    frame_open: bool,
}

impl Output for ZstdOutput {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.frame_open |= !bytes.is_empty();
        self.encoder.write_all(bytes)
    }
    fn sync(&mut self) -> std::io::Result<()> {
        if self.frame_open {
            // An ended frame is decodable by a reader that stops at the first incomplete
            // frame (the file of a killed process).
            self.encoder.end_frame().map_err(std::io::Error::other)?;
            self.frame_open = false;
        }
        self.encoder.flush()
    }
}

/// The output of either encoding.
enum Out {
    Plain(OwnedFile),
    Zstd(ZstdOutput),
}

/// Everything the writer thread works with; moves between threads across a park.
struct Writer {
    out: Out,
    chunks: Chunks,
    path: PathBuf,
    /// The rest of a chunk a park interrupted.
    pending: Option<Pending>,
}

/// A chunk being written, `done` bytes of it so far.
struct Pending {
    bytes: Vec<u8>,
    done: usize,
    sync: bool,
}

/// A chunk is written in slices of this size, the park flag checked between them: parking
/// waits for one slice's compression (~0.1 ms), not a whole chunk's.
const SLICE_BYTES: usize = 64 * 1024;

/// Writes `chunk` slice by slice; returns what is left when a park was requested meanwhile.
fn write_chunk(
    out: &mut dyn Output,
    chunks: &Chunks,
    mut chunk: Pending,
) -> std::io::Result<Option<Pending>> {
    while chunk.done < chunk.bytes.len() {
        let end = (chunk.done + SLICE_BYTES).min(chunk.bytes.len());
        out.write(&chunk.bytes[chunk.done..end])?;
        chunk.done = end;
        if end < chunk.bytes.len() && chunks.park.load(Ordering::SeqCst) {
            return Ok(Some(chunk));
        }
    }
    let Pending { bytes, sync, .. } = chunk;
    chunks.recycle(bytes);
    if sync {
        out.sync()?;
    }
    Ok(None)
}

/// Starts a writer thread; it blocks every signal (see [`crate::signals`]).
fn spawn(writer: Box<Writer>, path: &Path) -> Result<WriterHandle<ThreadResult>> {
    spawn_writer(path, move || run(writer))
}

fn pump(
    out: &mut dyn Output,
    chunks: &Chunks,
    pending: &mut Option<Pending>,
) -> std::io::Result<Stop> {
    let mut last_tick = Instant::now();
    loop {
        if let Some(chunk) = pending.take() {
            *pending = write_chunk(out, chunks, chunk)?;
        }
        if chunks.park_requested() {
            return Ok(Stop::Park); // with the rest of an interrupted chunk in `pending`
        }
        let next = chunks.next();
        if matches!(next, Next::Tick) || last_tick.elapsed() >= TICK {
            last_tick = Instant::now();
            run_tick_hook();
        }
        match next {
            Next::Message(Message::Chunk { bytes, sync }) => {
                *pending = Some(Pending {
                    bytes,
                    done: 0,
                    sync,
                });
            }
            Next::Message(Message::Flush(done)) => {
                out.sync()?;
                let _ = done.send(());
            }
            Next::Message(Message::Park) => {}
            Next::Tick => chunks.tick(),
            Next::End => return Ok(Stop::End),
        }
    }
}

fn run(mut writer: Box<Writer>) -> ThreadResult {
    let Writer {
        out,
        chunks,
        pending,
        ..
    } = &mut *writer;
    let stop = match out {
        Out::Plain(out) => pump(out, chunks, pending),
        Out::Zstd(out) => pump(out, chunks, pending),
    }
    .map_err(|e| e.to_string())?;
    if let Stop::Park = stop {
        return Ok(Ended::Parked(writer));
    }
    let Writer { out, path, .. } = *writer;
    match out {
        Out::Plain(mut out) => out.sync_all().map_err(|e| e.to_string())?,
        Out::Zstd(out) => {
            // Writes the last frame and the seek table (and flushes the file's buffer).
            out.encoder.finish().map_err(|e| e.to_string())?;
        }
    }
    std::fs::metadata(&path)
        .map(|m| Ended::Finished(m.len()))
        .map_err(|e| e.to_string())
}
