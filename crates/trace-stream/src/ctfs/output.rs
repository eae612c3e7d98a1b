//! The container's writer thread and its handle ([`Pipe`]).
//!
//! The recording thread sends [`Batch`]es: interning-table bytes (always first, so every id
//! a chunk uses is in the container no later than the chunk), sealed raw chunks and, at each
//! tick, the unsealed chunks as a [`Tail`]. This thread compresses the chunks, appends them
//! and their index entries to the container, writes the tail into the tail file not listed
//! now, and publishes the directory — so the published container is always a consistent
//! cut: sealed chunks, tables and tail of one moment. The channel holds at most
//! [`crate::writer_thread::QUEUE_DEPTH`] batches (the recording thread waits if the disk is slower), and emptied
//! chunk buffers go back for reuse, as for `trace.bin`.
//!
//! Journal chunks also feed the [`CallsBuilder`] before they are compressed; at each tick
//! [`CallsLayout`] republishes `calls.dat` up to the last sealed step, and `meta.dat` is
//! republished when paths were declared. **Finishing**: after the last chunks, `calls.dat`
//! is completed (the layout's pieces, or written whole when no tick published calls),
//! `meta.dat` is written with the path list, the tail is dropped from the directory, and the
//! directory is published.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{sync_channel, RecvTimeoutError, SyncSender};
use std::time::Instant;

use super::calls::CallsBuilder;
use super::calls_layout::CallsLayout;
use super::container::{Container, FileId};
use super::meta::MetaDat;
use super::records::idx_header;
use super::tail::Tail;
use super::{Stream, Table, CALLS, LEVEL, META, TAIL};
use crate::background::{run_tick_hook, TICK};
use crate::error::{Result, TraceStreamError};
use crate::writer_thread::{Ended, Outcome, ThreadEnds, WriterThread};

/// What the recording thread hands over.
#[derive(Debug, Default)]
pub struct Batch {
    /// Per table: new record bytes for `.dat`, new offsets for `.off`.
    pub tables: Vec<(Table, Vec<u8>, Vec<u8>)>,
    /// Sealed raw chunks, in order per stream, with the records each holds.
    pub chunks: Vec<(Stream, Vec<u8>, u32)>,
    /// Paths declared since the last batch (for `meta.dat`).
    pub paths: Vec<String>,
    /// The unsealed chunks (a tick or a flush): write them and publish.
    pub tail: Option<Tail>,
    /// Answer here once published (a flush).
    pub reply: Option<SyncSender<()>>,
}

/// The end of the recording.
#[derive(Debug)]
pub struct Finish {
    /// The final `meta.dat`.
    pub meta: MetaDat,
    /// Records in `steps.dat`.
    pub steps: u64,
}

enum Message {
    Batch(Batch),
    Finish(Finish),
    /// End the thread, keeping the state (before a `fork()`).
    Park,
}

/// The recording thread's handle on the writer thread.
pub struct Pipe {
    thread: WriterThread<Message, Box<Output>>,
}

struct StreamFiles {
    dat: FileId,
    idx: FileId,
    /// Whether `idx` has its chunk-size header (written by the first chunk when the
    /// stream's chunk size is not fixed in advance).
    header: bool,
}

/// The writer thread's state: the container and its files.
struct Output {
    c: Container,
    /// Two `meta.dat` files: the one listed, and the one the next paths are written into.
    metas: [FileId; 2],
    meta_listed: usize,
    /// `meta.dat` as listed, with the paths declared up to then.
    meta: MetaDat,
    /// Whether paths were declared since `meta.dat` was last written.
    meta_stale: bool,
    tables: Vec<(FileId, FileId)>,
    streams: Vec<StreamFiles>,
    tails: [FileId; 2],
    /// The tail file listed now.
    tail_listed: Option<usize>,
    compressor: zstd::bulk::Compressor<'static>,
    calls: CallsBuilder,
    /// `calls.dat` as published at the ticks.
    layout: CallsLayout,
    ends: Option<ThreadEnds<Message>>,
    /// When the last tail was written (ticks count from it, across a park too).
    last_tail: Instant,
}

impl Output {
    /// Creates the container with every file of a recording and `meta` (before the thread).
    fn create(path: &Path, mode: u32, meta: &MetaDat) -> std::io::Result<Self> {
        let mut c = Container::create(path, mode)?;
        let metas = [c.add_file(META, true)?, c.add_file(META, true)?];
        c.rewrite(metas[0], &meta.encode())?;
        c.unlist(metas[1]);
        let mut tables = Vec::new();
        for t in Table::ALL {
            let (dat, off) = t.files();
            let dat = c.add_file(dat, false)?;
            let off = c.add_file(off, false)?;
            c.append(off, &0u64.to_le_bytes())?;
            tables.push((dat, off));
        }
        let mut streams = Vec::new();
        for s in Stream::ALL {
            let (dat, idx) = s.files();
            let dat = c.add_file(dat, false)?;
            let idx = c.add_file(idx, false)?;
            if let Some(n) = s.chunk_records() {
                c.append(idx, &idx_header(n))?;
            }
            streams.push(StreamFiles {
                dat,
                idx,
                header: s.chunk_records().is_some(),
            });
        }
        let mut tails = [c.add_file(TAIL, true)?, c.add_file(TAIL, true)?];
        for t in &mut tails {
            c.unlist(*t);
        }
        let layout = CallsLayout::new(&mut c)?;
        c.publish()?;
        Ok(Self {
            c,
            metas,
            meta_listed: 0,
            meta: meta.clone(),
            meta_stale: false,
            tables,
            streams,
            tails,
            tail_listed: None,
            compressor: zstd::bulk::Compressor::new(LEVEL)?,
            calls: CallsBuilder::new(path)?,
            layout,
            ends: None,
            last_tail: Instant::now(),
        })
    }

    /// Writes `meta` into the `meta.dat` not listed and lists it instead of the other (so
    /// the published one is never written).
    fn write_meta(
        c: &mut Container,
        metas: [FileId; 2],
        listed: &mut usize,
        meta: &MetaDat,
    ) -> std::io::Result<()> {
        let next = 1 - *listed;
        c.rewrite(metas[next], &meta.encode())?;
        c.relist(metas[next]);
        c.unlist(metas[*listed]);
        *listed = next;
        Ok(())
    }

    fn batch(&mut self, batch: Batch, ends: &ThreadEnds<Message>) -> std::io::Result<()> {
        if !batch.paths.is_empty() {
            self.meta.paths.extend(batch.paths);
            self.meta_stale = true;
        }
        if self.meta_stale && (batch.tail.is_some() || batch.reply.is_some()) {
            // Published with the tick: the killed container's `meta.dat` names its paths.
            Self::write_meta(&mut self.c, self.metas, &mut self.meta_listed, &self.meta)?;
            self.meta_stale = false;
        }
        for (table, dat, off) in batch.tables {
            let (d, o) = self.tables[table as usize];
            self.c.append(d, &dat)?;
            self.c.append(o, &off)?;
        }
        for (stream, raw, records) in batch.chunks {
            if stream == Stream::Journal {
                self.calls.feed(&raw)?;
            }
            let files = &mut self.streams[stream.index()];
            let (dat, idx) = (files.dat, files.idx);
            if !files.header {
                files.header = true;
                self.c.append(idx, &idx_header(records.max(1)))?;
            }
            let offset = self.c.size(dat);
            let compressed = self.compressor.compress(&raw)?;
            self.c.append(dat, &compressed)?;
            self.c.append(idx, &offset.to_le_bytes())?;
            ends.recycle(raw);
        }
        if let Some(tail) = batch.tail {
            // The calls entered before the last sealed step, as the debugger can show them.
            self.layout
                .update(&mut self.c, &mut self.calls, tail.steps.sealed)?;
            let next = self.tail_listed.map_or(0, |i| 1 - i);
            self.c.rewrite(self.tails[next], &tail.encode(LEVEL)?)?;
            self.c.relist(self.tails[next]);
            if let Some(now) = self.tail_listed {
                self.c.unlist(self.tails[now]);
            }
            self.tail_listed = Some(next);
            self.c.publish()?;
            self.layout.after_publish();
        }
        if let Some(reply) = batch.reply {
            self.c.publish()?;
            let _ = reply.send(());
        }
        Ok(())
    }

    fn finish(mut self, finish: Finish) -> std::io::Result<u64> {
        for files in self.streams.iter().filter(|f| !f.header) {
            // No chunk at all (no step was recorded): a header all the same.
            self.c.append(files.idx, &idx_header(1))?;
        }
        if self.layout.published() {
            self.calls.close_all(finish.steps)?;
            self.layout.finish(&mut self.c, &self.calls)?;
        } else {
            let dat = self.c.add_file(CALLS.0, false)?;
            let idx = self.c.add_file(CALLS.1, false)?;
            self.calls.finish(&mut self.c, dat, idx, finish.steps)?;
        }
        Self::write_meta(&mut self.c, self.metas, &mut self.meta_listed, &finish.meta)?;
        for t in self.tails {
            self.c.unlist(t);
        }
        // Published, not fsynced: like `trace.bin`, the container is complete in the OS once
        // the directory is written (an fsync here cost the recorded program up to a second
        // at exit on a busy disk, and only a power loss would tell the difference).
        self.c.publish()?;
        Ok(self.c.len())
    }
}

fn run(mut out: Box<Output>) -> Outcome<Box<Output>> {
    let Some(ends) = out.ends.take() else {
        return Err("the writer thread has no channel".to_owned());
    };
    let ended = pump(&mut out, &ends);
    out.ends = Some(ends);
    match ended {
        Ok(Stop::Park) => Ok(Ended::Parked(out)),
        Ok(Stop::Finish(f)) => out
            .finish(f)
            .map(Ended::Finished)
            .map_err(|e| e.to_string()),
        Ok(Stop::Abandoned) => {
            // Abandoned without a finish: keep what was published.
            out.c.publish().map_err(|e| e.to_string())?;
            Ok(Ended::Finished(out.c.len()))
        }
        Err(e) => Err(e.to_string()),
    }
}

/// Why [`pump`] stopped.
enum Stop {
    Finish(Finish),
    Park,
    Abandoned,
}

fn pump(out: &mut Output, ends: &ThreadEnds<Message>) -> std::io::Result<Stop> {
    let due = &ends.due;
    let mut last_hook = Instant::now();
    loop {
        // Ticks are counted from the last tail, not from the last message: a busy recording
        // (chunks arriving more often than a tick) must still hand over its tail every tick.
        let wait = if due.load(Ordering::Relaxed) {
            TICK
        } else {
            TICK.saturating_sub(out.last_tail.elapsed())
        };
        match ends.receiver.recv_timeout(wait) {
            Ok(Message::Batch(b)) => {
                let tail = b.tail.is_some();
                out.batch(b, ends)?;
                if tail {
                    out.last_tail = Instant::now();
                }
            }
            Ok(Message::Finish(f)) => return Ok(Stop::Finish(f)),
            Ok(Message::Park) => return Ok(Stop::Park),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return Ok(Stop::Abandoned),
        }
        if out.last_tail.elapsed() >= TICK {
            due.store(true, Ordering::Relaxed);
        }
        if last_hook.elapsed() >= TICK {
            last_hook = Instant::now();
            run_tick_hook();
        }
    }
}

impl Pipe {
    /// Creates the container at `path` with `meta` and starts its writer thread.
    pub fn create(path: &Path, mode: u32, meta: &MetaDat) -> Result<Self> {
        let out = Output::create(path, mode, meta)
            .map_err(|e| TraceStreamError::io("cannot write", path, e))?;
        let make = move |ends| {
            let mut out = Box::new(out);
            out.ends = Some(ends);
            out
        };
        Ok(Self {
            thread: WriterThread::spawn(path, make, run)?,
        })
    }

    /// Whether a tick passed since the last tail (one relaxed load).
    #[inline]
    pub fn due(&self) -> bool {
        self.thread.due()
    }

    /// An emptied buffer to fill again, if one is waiting.
    pub fn spare(&self) -> Option<Vec<u8>> {
        self.thread.spare()
    }

    /// Hands a batch over (blocks while the queue is full).
    pub fn send(&mut self, batch: Batch) -> Result<()> {
        if batch.tail.is_some() {
            self.thread.clear_due();
        }
        self.thread.post(Message::Batch(batch))
    }

    /// Hands a batch over and waits until the writer thread published it.
    pub fn send_and_wait(&mut self, mut batch: Batch) -> Result<()> {
        let (reply, wait) = sync_channel(1);
        batch.reply = Some(reply);
        self.send(batch)?;
        self.thread.wait(&wait)
    }

    /// Ends the writer thread before a `fork()`, after the batches in flight (see
    /// [`WriterThread::park`]).
    pub fn park(&mut self) -> Result<()> {
        self.thread.park(Message::Park)
    }

    /// Restarts the writer thread after [`park`](Self::park), in the parent.
    pub fn resume(&mut self) -> Result<()> {
        self.thread.resume()
    }

    /// Restarts the writer thread at the next hand-over instead of now.
    pub fn resume_at_next_record(&self) {
        self.thread.resume_at_next_record();
    }

    /// Finishes the container; returns its size in bytes.
    pub fn finish(mut self, finish: Finish) -> Result<u64> {
        self.thread.post(Message::Finish(finish))?;
        self.thread.finish()
    }
}
