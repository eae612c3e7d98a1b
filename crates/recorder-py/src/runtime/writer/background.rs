//! The trace file's background writer thread.
//!
//! The interpreter thread only serialises records into an in-memory chunk; full chunks are
//! handed over a bounded channel to this thread, which compresses (binary format) or copies
//! (JSON) them into the file. The channel holds at most [`QUEUE_DEPTH`] chunks, so memory stays
//! bounded however long the program runs: if the disk is slower than the program, the program
//! waits at the hand-over instead of the recorder buffering without limit. Written chunks go
//! back to the interpreter thread over a second channel and are filled again: allocating a
//! fresh 256 KiB buffer per chunk cost a page fault per 4 KiB written (~15 % of the
//! interpreter thread's time on value-heavy code).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

use zeekstd::{EncodeOptions, FrameSizePolicy};

use crate::errors::RecorderFailure;

/// Chunks in flight between the interpreter thread and the writer thread.
pub const QUEUE_DEPTH: usize = 4;

/// zstd level. On value-heavy code (the strings benchmark, ~9 KiB of records per step) this
/// thread is as busy as the interpreter thread: level 1 compressed it ~10 % faster end to end
/// than zstd's default level 3 for ~5 % more bytes (negative levels: no faster, up to 1.9x
/// the bytes).
const COMPRESSION_LEVEL: i32 = 1;

/// Chunks that grew beyond this are freed rather than reused.
const MAX_RECYCLED_CAPACITY: usize = 4 << 20;

/// Uncompressed bytes per zstd frame: a killed process loses at most the frame in progress.
const FRAME_BYTES: u32 = 1 << 20;

/// How the writer thread turns chunks into file bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileEncoding {
    /// Header + seekable zstd stream (runtime_tracing's Binary v1 container).
    SeekableZstd,
    /// Bytes go to the file as they are.
    Plain,
}

enum Message {
    Chunk(Vec<u8>),
    /// Push everything written so far to the OS (ends the current zstd frame), then answer.
    Flush(std::sync::mpsc::SyncSender<()>),
}

/// Handle to the writer thread of one trace file.
pub struct BackgroundFile {
    path: PathBuf,
    sender: Option<SyncSender<Message>>,
    handle: Option<JoinHandle<Result<u64, String>>>,
    /// Chunks the writer thread is done with, emptied, for reuse.
    spare: Receiver<Vec<u8>>,
}

/// The 8-byte header of runtime_tracing's Binary v1 format (`C0 DE 72 AC E2`, version 1).
pub const HEADER_V1: [u8; 8] = [0xC0, 0xDE, 0x72, 0xAC, 0xE2, 0x01, 0x00, 0x00];

impl BackgroundFile {
    /// Creates `path` and starts the writer thread.
    pub fn create(path: &Path, encoding: FileEncoding) -> Result<Self, RecorderFailure> {
        let mut file =
            File::create(path).map_err(|e| RecorderFailure::io("cannot create", path, e))?;
        if encoding == FileEncoding::SeekableZstd {
            file.write_all(&HEADER_V1)
                .map_err(|e| RecorderFailure::io("cannot write", path, e))?;
        }
        let (sender, receiver) = sync_channel(QUEUE_DEPTH);
        let (give_back, spare) = sync_channel(QUEUE_DEPTH + 1);
        let thread_path = path.to_path_buf();
        let chunks = Chunks {
            receiver,
            give_back,
        };
        let handle = std::thread::Builder::new()
            .name("codetracer-writer".into())
            .spawn(move || run(file, encoding, chunks, &thread_path))
            .map_err(|e| RecorderFailure::io("cannot start the writer thread for", path, e))?;
        Ok(Self {
            path: path.to_path_buf(),
            sender: Some(sender),
            handle: Some(handle),
            spare,
        })
    }

    /// An emptied chunk the writer thread has finished with, if one is waiting.
    pub fn spare_chunk(&self) -> Option<Vec<u8>> {
        self.spare.try_recv().ok()
    }

    /// Hands a full chunk to the writer thread (blocks while the queue is full).
    pub fn send(&mut self, chunk: Vec<u8>) -> Result<(), RecorderFailure> {
        self.post(Message::Chunk(chunk))
    }

    /// Pushes everything handed over so far into the file and waits until it is there.
    pub fn flush(&mut self) -> Result<(), RecorderFailure> {
        let (done, wait) = sync_channel(1);
        self.post(Message::Flush(done))?;
        if wait.recv().is_err() {
            self.sender = None;
            return Err(self.join_error());
        }
        Ok(())
    }

    fn post(&mut self, message: Message) -> Result<(), RecorderFailure> {
        let Some(sender) = &self.sender else {
            return Err(RecorderFailure::io(
                "already closed:",
                &self.path,
                "writer finished",
            ));
        };
        if sender.send(message).is_err() {
            // The thread ended early: it failed. Collect its error.
            self.sender = None;
            return Err(self.join_error());
        }
        Ok(())
    }

    fn join_error(&mut self) -> RecorderFailure {
        match self.handle.take().map(JoinHandle::join) {
            Some(Ok(Err(msg))) => RecorderFailure::io("cannot write", &self.path, msg),
            Some(Err(_)) => RecorderFailure::internal(format!(
                "the writer thread of {} panicked",
                self.path.display()
            )),
            _ => RecorderFailure::io("cannot write", &self.path, "the writer thread stopped"),
        }
    }

    /// Closes the stream, waits for the thread and returns the file size in bytes.
    pub fn finish(mut self) -> Result<u64, RecorderFailure> {
        self.sender = None; // closing the channel tells the thread to finish
        match self.handle.take().map(JoinHandle::join) {
            Some(Ok(Ok(bytes))) => Ok(bytes),
            Some(Ok(Err(msg))) => Err(RecorderFailure::io("cannot write", &self.path, msg)),
            Some(Err(_)) => Err(RecorderFailure::internal(format!(
                "the writer thread of {} panicked",
                self.path.display()
            ))),
            None => Err(RecorderFailure::io(
                "already closed:",
                &self.path,
                "writer finished",
            )),
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

/// The writer thread's ends of the two channels.
struct Chunks {
    receiver: Receiver<Message>,
    give_back: SyncSender<Vec<u8>>,
}

impl Chunks {
    /// Returns a written chunk for reuse (dropped when enough are waiting already, or when
    /// one huge record made it grow far beyond the usual size).
    fn recycle(&self, mut chunk: Vec<u8>) {
        if chunk.capacity() <= MAX_RECYCLED_CAPACITY {
            chunk.clear();
            // A full queue or a finished sink just means this chunk is freed instead.
            let _ = self.give_back.try_send(chunk);
        }
    }
}

fn run(file: File, encoding: FileEncoding, chunks: Chunks, path: &Path) -> Result<u64, String> {
    match encoding {
        FileEncoding::Plain => run_plain(file, chunks).map_err(|e| e.to_string()),
        FileEncoding::SeekableZstd => run_zstd(file, chunks).map_err(|e| e.to_string()),
    }?;
    std::fs::metadata(path)
        .map(|m| m.len())
        .map_err(|e| e.to_string())
}

fn run_plain(file: File, chunks: Chunks) -> std::io::Result<()> {
    let mut out = BufWriter::with_capacity(1 << 16, file);
    for message in &chunks.receiver {
        match message {
            Message::Chunk(chunk) => {
                out.write_all(&chunk)?;
                chunks.recycle(chunk);
            }
            Message::Flush(done) => {
                out.flush()?;
                let _ = done.send(());
            }
        }
    }
    out.flush()?;
    out.get_ref().sync_data()
}

fn run_zstd(file: File, chunks: Chunks) -> Result<(), Box<dyn std::error::Error>> {
    let opts = EncodeOptions::new()
        .checksum_flag(false)
        .compression_level(COMPRESSION_LEVEL)
        .frame_size_policy(FrameSizePolicy::Uncompressed(FRAME_BYTES));
    let mut encoder = opts.into_encoder(BufWriter::with_capacity(1 << 16, file))?;
    let mut frame_open = false;
    for message in &chunks.receiver {
        match message {
            Message::Chunk(chunk) => {
                encoder.write_all(&chunk)?;
                chunks.recycle(chunk);
                frame_open = true;
            }
            Message::Flush(done) => {
                if frame_open {
                    // Ending the frame makes everything so far decodable by a reader that
                    // stops at the first incomplete frame (a killed process).
                    encoder.end_frame()?;
                    encoder.flush()?;
                    frame_open = false;
                }
                let _ = done.send(());
            }
        }
    }
    encoder.finish()?;
    Ok(())
}
