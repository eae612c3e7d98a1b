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

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use zeekstd::{EncodeOptions, FrameSizePolicy};

use crate::create::create_replacing;
use crate::error::{ErrorKind, Result, TraceStreamError};

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
}

/// Handle to the writer thread of one events file.
pub struct BackgroundFile {
    path: PathBuf,
    sender: Option<SyncSender<Message>>,
    handle: Option<JoinHandle<std::result::Result<u64, String>>>,
    /// Chunks the writer thread is done with, emptied, for reuse.
    spare: Receiver<Vec<u8>>,
    due: Arc<AtomicBool>,
}

impl BackgroundFile {
    /// Creates `path` as a new file of `mode` (replacing what is there without following a
    /// symlink, see [`crate::create`]) and starts the writer thread.
    pub fn create(path: &Path, encoding: FileEncoding, mode: u32) -> Result<Self> {
        let mut file = create_replacing(path, mode)?;
        if encoding == FileEncoding::SeekableZstd {
            file.write_all(&HEADER_V1)
                .map_err(|e| TraceStreamError::io("cannot write", path, e))?;
        }
        let (sender, receiver) = sync_channel(QUEUE_DEPTH);
        let (give_back, spare) = sync_channel(QUEUE_DEPTH + 1);
        let due = Arc::new(AtomicBool::new(false));
        let chunks = Chunks {
            receiver,
            give_back,
            due: Arc::clone(&due),
        };
        let handle = std::thread::Builder::new()
            .name("codetracer-writer".into())
            .spawn(move || run(file, encoding, chunks))
            .map_err(|e| TraceStreamError::io("cannot start the writer thread for", path, e))?;
        Ok(Self {
            path: path.to_path_buf(),
            sender: Some(sender),
            handle: Some(handle),
            spare,
            due,
        })
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
        if sync {
            self.due.store(false, Ordering::Relaxed);
        }
        self.post(Message::Chunk { bytes, sync })
    }

    /// Pushes everything handed over so far into the file and waits until it is there.
    pub fn flush(&mut self) -> Result<()> {
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
        match self.handle.take().map(JoinHandle::join) {
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
        self.sender = None; // closing the channel tells the thread to finish
        match self.handle.take().map(JoinHandle::join) {
            Some(Ok(Ok(bytes))) => Ok(bytes),
            Some(Ok(Err(msg))) => Err(TraceStreamError::io("cannot write", &self.path, msg)),
            Some(Err(_)) => Err(TraceStreamError::new(
                ErrorKind::Writer,
                format!("the writer thread of {} panicked", self.path.display()),
            )),
            None => Err(self.closed()),
        }
    }
}

impl Drop for BackgroundFile {
    fn drop(&mut self) {
        self.sender = None;
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

/// The writer thread's ends of the channels and the tick flag.
struct Chunks {
    receiver: Receiver<Message>,
    give_back: SyncSender<Vec<u8>>,
    due: Arc<AtomicBool>,
}

/// What the writer thread got next.
enum Next {
    Message(Message),
    /// A tick passed with no message.
    Tick,
    /// The recording side closed the stream.
    End,
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
}

/// The file side: write bytes, make them durable, finish.
trait Output {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<()>;
    /// Ends what is open (a zstd frame) and pushes it to the OS.
    fn sync(&mut self) -> std::io::Result<()>;
}

struct PlainOutput(BufWriter<File>);

impl Output for PlainOutput {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.0.write_all(bytes)
    }
    fn sync(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

struct ZstdOutput {
    encoder: zeekstd::Encoder<'static, BufWriter<File>>,
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

fn pump(out: &mut dyn Output, chunks: &Chunks) -> std::io::Result<()> {
    loop {
        match chunks.next() {
            Next::Message(Message::Chunk { bytes, sync }) => {
                out.write(&bytes)?;
                chunks.recycle(bytes);
                if sync {
                    out.sync()?;
                }
            }
            Next::Message(Message::Flush(done)) => {
                out.sync()?;
                let _ = done.send(());
            }
            Next::Tick => chunks.tick(),
            Next::End => return Ok(()),
        }
    }
}

fn run(file: File, encoding: FileEncoding, chunks: Chunks) -> std::result::Result<u64, String> {
    // The size is read from this handle, never by path (the name may be replaced meanwhile).
    let probe = file.try_clone().map_err(|e| e.to_string())?;
    let writer = BufWriter::with_capacity(1 << 16, file);
    match encoding {
        FileEncoding::Plain => {
            let mut out = PlainOutput(writer);
            pump(&mut out, &chunks).map_err(|e| e.to_string())?;
            out.0.flush().map_err(|e| e.to_string())?;
            out.0.get_ref().sync_data().map_err(|e| e.to_string())?;
        }
        FileEncoding::SeekableZstd => {
            let opts = EncodeOptions::new()
                .checksum_flag(false)
                .compression_level(COMPRESSION_LEVEL)
                .frame_size_policy(FrameSizePolicy::Uncompressed(FRAME_BYTES));
            let encoder = opts.into_encoder(writer).map_err(|e| e.to_string())?;
            let mut out = ZstdOutput {
                encoder,
                frame_open: false,
            };
            pump(&mut out, &chunks).map_err(|e| e.to_string())?;
            // Writes the last frame and the seek table.
            let ZstdOutput { encoder, .. } = out;
            encoder.finish().map_err(|e| e.to_string())?;
        }
    }
    probe.metadata().map(|m| m.len()).map_err(|e| e.to_string())
}
