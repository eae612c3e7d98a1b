//! [`CtfsWriter`]: the recording thread's side of a `.ct` container — the encoder behind
//! [`crate::TraceWriter`] for [`crate::TraceFormat::Ctfs`].
//!
//! Each record goes where the debugger looks for it: a step into `steps.dat` (its position
//! from the path's line table, [`super::lines`]), the values of a step into that step's
//! `values.dat` record (written when the next step starts, since it is prefixed by its
//! count), names into the interning tables, events into `events.dat`. Everything else of
//! the legacy record sequence — declarations, calls, returns, thread starts and exits —
//! goes into the journal with the number of filler records before it ([`super::journal`]),
//! a call or return with its step (as a delta) and, when it is on another thread than the
//! previous one, that thread; keys, parents and depths are derived from them when
//! `calls.dat` is built ([`super::calls`]).
//!
//! A step's variables are written straight into the values chunk behind a three-byte
//! placeholder for the record's length, tag and count, which the step's end fills in (moving
//! the variables only when the length or count needs more than one byte).
//!
//! Memory is bounded: one raw chunk per stream and the pending table bytes; full chunks leave for the writer thread ([`super::output`]) at once, and
//! at every tick the partial ones are copied over as the tail.

use std::path::Path;

use codetracer_trace_types::{TypeRecord, VariableId};

use super::journal::{self, put_head};
use super::lines::{LineTable, PositionSpace};
use super::meta::{MetaDat, FLAGS};
use super::output::{Batch, Finish, Pipe};
use super::records::{
    put_framed, EventRecord, MAX_DELTA, TAG_ABSOLUTE, TAG_DELTA, TAG_STEP_VALUES, TAG_THREAD_SWITCH,
};
use super::tail::{Tail, TailPart};
use super::varint;
use super::{
    Stream, Table, BATCH_BYTES, JOURNAL_CHUNK_BYTES, VALUES_MAX_RECORDS, VALUES_TARGET_BYTES,
};
use crate::error::{ErrorKind, Result, TraceStreamError};

/// Who recorded what, for `meta.dat`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordingInfo {
    /// The program recorded.
    pub program: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// The working directory.
    pub workdir: String,
    /// The recorder (`name/version`).
    pub recorder_id: String,
}

/// One raw chunk being filled.
#[derive(Debug, Default)]
struct Chunk {
    raw: Vec<u8>,
    records: u32,
}

#[derive(Debug, Default)]
struct PendingTable {
    dat: Vec<u8>,
    off: Vec<u8>,
    /// Bytes of the table's `.dat` (sent and pending).
    size: u64,
}

/// The encoder of one `.ct` container.
pub struct CtfsWriter {
    pipe: Pipe,
    meta: MetaDat,
    space: PositionSpace,
    /// Records of the legacy stream written (the binary format's record count).
    records: u64,
    /// Filler records since the last journal entry.
    skip: u64,
    /// `steps.dat` records (line steps and thread switches).
    steps: u64,
    /// Line steps among them.
    line_steps: u64,
    /// The previous position in the current steps chunk.
    last_position: Option<u64>,
    steps_chunk: Chunk,
    values_chunk: Chunk,
    events_chunk: Chunk,
    journal: Vec<u8>,
    /// Where the open step's values record starts in the values chunk (its placeholder,
    /// [`OPEN_RECORD`] bytes, then `name id, length, CBOR` per variable) once it has a
    /// variable, and how many.
    current_start: usize,
    current_count: u64,
    /// Whether a steps record is open (its values record is not written yet).
    step_open: bool,
    tables: [PendingTable; 4],
    /// Chunks sealed since the last batch, with their record counts, and their bytes.
    sealed: Vec<(Stream, Vec<u8>, u32)>,
    sealed_bytes: usize,
    events: u64,
    /// The current thread (`None`: the first thread, before any switch names it).
    thread: Option<u64>,
    /// The thread of the last call or return in the journal.
    journal_thread: Option<u64>,
    /// The step of the last call or return in the journal.
    journal_step: u64,
    /// Records per values chunk, fixed by the first sealed chunk (the first of
    /// `VALUES_MAX_RECORDS` records or `VALUES_TARGET_BYTES` bytes).
    values_chunk_records: Option<u32>,
    /// Paths of `meta` already handed over (the writer thread republishes `meta.dat` with
    /// the new ones at the next tick).
    paths_sent: usize,
    scratch: Vec<u8>,
}

/// Bytes held for a values record's length, tag and count until the step ends.
const OPEN_RECORD: usize = 3;

/// Fills in the placeholder of the values record at `start` of `raw` (its variables follow
/// the placeholder up to the end of `raw`) for `count` variables, moving them when the
/// length or the count takes more than one byte.
fn close_record(raw: &mut Vec<u8>, start: usize, count: u64) {
    let body = start + OPEN_RECORD;
    let entries = raw.len() - body;
    let len = 1 + varint::len(count) + entries;
    let mut head = [0u8; 1 + 2 * varint::MAX_LEN];
    let mut at = varint::write(&mut head, len as u64);
    head[at] = TAG_STEP_VALUES;
    at += 1;
    at += varint::write(&mut head[at..], count);
    if at > OPEN_RECORD {
        let end = raw.len();
        raw.resize(end + at - OPEN_RECORD, 0);
        raw.copy_within(body..end, start + at);
    }
    raw[start..start + at].copy_from_slice(&head[..at]);
}

fn too_big(what: &str) -> TraceStreamError {
    TraceStreamError::new(
        ErrorKind::Encode,
        format!("{what} does not fit the CTFS format"),
    )
}

impl CtfsWriter {
    /// Creates the container at `path` and starts its writer thread.
    pub fn create(path: &Path, mode: u32, info: &RecordingInfo) -> Result<Self> {
        let meta = MetaDat {
            flags: FLAGS,
            recording_id: super::uuid::new_v7(),
            program: info.program.clone(),
            args: info.args.clone(),
            workdir: info.workdir.clone(),
            recorder_id: info.recorder_id.clone(),
            paths: Vec::new(),
        };
        let pipe = Pipe::create(path, mode, &meta)?;
        Ok(Self {
            pipe,
            meta,
            space: PositionSpace::new(),
            records: 0,
            skip: 0,
            steps: 0,
            line_steps: 0,
            last_position: None,
            steps_chunk: Chunk::default(),
            values_chunk: Chunk::default(),
            events_chunk: Chunk::default(),
            journal: Vec::new(),
            current_start: 0,
            current_count: 0,
            step_open: false,
            tables: Default::default(),
            sealed: Vec::new(),
            sealed_bytes: 0,
            events: 0,
            thread: None,
            journal_thread: None,
            journal_step: 0,
            values_chunk_records: None,
            paths_sent: 0,
            scratch: Vec::new(),
        })
    }

    /// Records of the legacy stream written so far.
    #[inline]
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Line steps written so far.
    pub fn line_steps(&self) -> u64 {
        self.line_steps
    }

    /// The current step id (0 before the first).
    #[inline]
    fn step_id(&self) -> u64 {
        self.steps.saturating_sub(1)
    }

    fn table(&mut self, table: Table, record: &[u8]) {
        let t = &mut self.tables[table as usize];
        t.dat.extend_from_slice(record);
        t.size += record.len() as u64;
        t.off.extend_from_slice(&t.size.to_le_bytes());
    }

    /// Starts a journal entry (the fillers before it are counted into it).
    #[inline]
    fn entry(&mut self, kind: u8) {
        put_head(&mut self.journal, self.skip, kind);
        self.skip = 0;
        self.records += 1;
    }

    /// A filler record (Step, ThreadSwitch, Value).
    #[inline]
    fn filler(&mut self) {
        self.skip += 1;
        self.records += 1;
    }

    /// Declares the next path; `lines_hint` sizes its table when its text cannot be read.
    pub fn path(&mut self, path: &str, lines_hint: u32) -> Result<()> {
        let table = LineTable::read_source(Path::new(path))
            .unwrap_or_else(|| LineTable::conventional(lines_hint));
        let record = table.record(path);
        self.table(Table::Paths, &record);
        self.space.push(&table);
        self.meta.paths.push(path.to_owned());
        self.entry(journal::PATH);
        self.after_record()
    }

    /// Declares the next function.
    pub fn function(&mut self, name: &str, path_id: usize, line: i64) -> Result<()> {
        self.table(Table::Funcs, name.as_bytes());
        self.entry(journal::FUNCTION);
        varint::put(&mut self.journal, path_id as u64);
        varint::put(&mut self.journal, u64::try_from(line.max(1)).unwrap_or(1));
        self.after_record()
    }

    /// Declares the next type.
    pub fn type_record(&mut self, record: &TypeRecord) -> Result<()> {
        self.table(Table::Types, record.lang_type.as_bytes());
        let cbor = cbor4ii::serde::to_vec(Vec::new(), record).map_err(|e| {
            TraceStreamError::new(
                ErrorKind::Encode,
                format!("cannot encode a type record: {e}"),
            )
        })?;
        self.entry(journal::TYPE);
        varint::put_bytes(&mut self.journal, &cbor);
        self.after_record()
    }

    /// Declares the next variable name.
    pub fn variable(&mut self, name: &str) -> Result<()> {
        self.table(Table::Varnames, name.as_bytes());
        self.entry(journal::VARIABLE);
        self.after_record()
    }

    /// Writes the values record of the open steps record.
    fn close_values(&mut self) -> Result<()> {
        if !self.step_open {
            return Ok(());
        }
        self.step_open = false;
        let raw = &mut self.values_chunk.raw;
        if self.current_count == 0 {
            raw.push(0);
        } else {
            close_record(raw, self.current_start, self.current_count);
            self.current_count = 0;
        }
        self.values_chunk.records += 1;
        let full = match self.values_chunk_records {
            Some(n) => self.values_chunk.records == n,
            None => {
                self.values_chunk.records == VALUES_MAX_RECORDS
                    || self.values_chunk.raw.len() >= VALUES_TARGET_BYTES
            }
        };
        if full {
            self.values_chunk_records = Some(self.values_chunk.records);
            self.seal(Stream::Values);
        }
        Ok(())
    }

    fn chunk_of(&mut self, stream: Stream) -> Option<&mut Chunk> {
        match stream {
            Stream::Steps => Some(&mut self.steps_chunk),
            Stream::Values => Some(&mut self.values_chunk),
            Stream::Events => Some(&mut self.events_chunk),
            Stream::Journal => None,
        }
    }

    fn seal(&mut self, stream: Stream) {
        let spare = self.pipe.spare().unwrap_or_default();
        let (raw, records) = match self.chunk_of(stream) {
            Some(chunk) => {
                let records = std::mem::take(&mut chunk.records);
                (std::mem::replace(&mut chunk.raw, spare), records)
            }
            None => (std::mem::replace(&mut self.journal, spare), 0),
        };
        if stream == Stream::Steps {
            self.last_position = None;
        }
        self.sealed_bytes += raw.len();
        self.sealed.push((stream, raw, records));
    }

    /// Opens the next steps record.
    fn open_step(&mut self) -> Result<()> {
        self.close_values()?;
        self.steps += 1;
        self.step_open = true;
        self.filler();
        Ok(())
    }

    fn after_step_record(&mut self) -> Result<()> {
        self.steps_chunk.records += 1;
        if Some(self.steps_chunk.records) == Stream::Steps.chunk_records() {
            self.seal(Stream::Steps);
        }
        self.after_record()
    }

    /// A step at `column` (0-based byte offset) of `line` of path `path_id`.
    #[inline]
    pub fn step(&mut self, path_id: usize, line: i64, column: u32) -> Result<()> {
        let position = self
            .space
            .position(path_id, line, column)
            .ok_or_else(|| too_big("a step in an undeclared path"))?;
        self.open_step()?;
        self.line_steps += 1;
        let raw = &mut self.steps_chunk.raw;
        match self.last_position {
            Some(last) if (position as i64 - last as i64).abs() <= MAX_DELTA => {
                raw.push(TAG_DELTA);
                varint::put_signed(raw, position as i64 - last as i64);
            }
            _ => {
                raw.push(TAG_ABSOLUTE);
                varint::put(raw, position);
            }
        }
        self.last_position = Some(position);
        self.after_step_record()
    }

    /// A variable's value at the current step.
    #[inline]
    pub fn value(&mut self, variable_id: usize, value: &[u8]) -> Result<()> {
        if self.steps == 0 {
            self.entry(journal::VALUE);
            varint::put(&mut self.journal, variable_id as u64);
            varint::put_bytes(&mut self.journal, value);
            return self.after_record();
        }
        let raw = &mut self.values_chunk.raw;
        if self.current_count == 0 {
            self.current_start = raw.len();
            raw.extend_from_slice(&[0; OPEN_RECORD]);
        }
        varint::put(raw, variable_id as u64);
        varint::put_bytes(raw, value);
        self.current_count += 1;
        self.filler();
        self.after_record()
    }

    /// The thread marker and step delta of the next call or return entry.
    fn call_context(&mut self) -> (Option<u64>, u64) {
        let thread = (self.thread != self.journal_thread)
            .then_some(self.thread)
            .flatten();
        self.journal_thread = self.thread;
        let step = self.step_id();
        let delta = step - self.journal_step;
        self.journal_step = step;
        (thread, delta)
    }

    /// A call of `function_id` with `args` on the current thread.
    pub fn call(&mut self, function_id: usize, args: &[(VariableId, &[u8])]) -> Result<()> {
        let (thread, delta) = self.call_context();
        journal::put_call(
            &mut self.journal,
            self.skip,
            thread,
            function_id as u64,
            delta,
            args,
        );
        self.skip = 0;
        self.records += 1;
        self.after_record()
    }

    /// The return of the current thread's innermost call (by an exception when `unwind`).
    pub fn ret(&mut self, value: &[u8], unwind: bool) -> Result<()> {
        let (thread, delta) = self.call_context();
        journal::put_return(&mut self.journal, self.skip, thread, unwind, delta, value);
        self.skip = 0;
        self.records += 1;
        self.after_record()
    }

    /// An event at the current step.
    pub fn event(&mut self, kind: u8, metadata: &str, content: &str) -> Result<()> {
        let step = self.step_id();
        put_framed(&mut self.events_chunk.raw, &mut self.scratch, |out| {
            EventRecord::encode_parts(out, kind, step, metadata.as_bytes(), content.as_bytes());
        });
        self.events += 1;
        self.events_chunk.records += 1;
        if Some(self.events_chunk.records) == Stream::Events.chunk_records() {
            self.seal(Stream::Events);
        }
        self.entry(journal::EVENT);
        self.after_record()
    }

    /// A thread starts recording.
    pub fn thread_start(&mut self, id: u64) -> Result<()> {
        self.entry(journal::THREAD_START);
        varint::put(&mut self.journal, id);
        self.after_record()
    }

    /// Execution switches to thread `id` (a `steps.dat` record of its own).
    pub fn thread_switch(&mut self, id: u64) -> Result<()> {
        self.open_step()?;
        self.thread = Some(id);
        let raw = &mut self.steps_chunk.raw;
        raw.push(TAG_THREAD_SWITCH);
        varint::put(raw, id);
        self.after_step_record()
    }

    /// Thread `id` stopped recording (its stack is empty).
    pub fn thread_exit(&mut self, id: u64) -> Result<()> {
        self.entry(journal::THREAD_EXIT);
        varint::put(&mut self.journal, id);
        self.after_record()
    }

    /// After every record: hand over what was sealed, and the tail when a tick passed.
    #[inline]
    fn after_record(&mut self) -> Result<()> {
        if self.journal.len() >= JOURNAL_CHUNK_BYTES {
            self.seal(Stream::Journal);
        }
        if self.pipe.due() {
            self.hand_over(true, false)
        } else if self.sealed_bytes >= BATCH_BYTES {
            self.hand_over(false, false)
        } else {
            Ok(())
        }
    }

    /// The tail: a copy of each unsealed chunk (`values` with the open step's record).
    fn tail(&self) -> Tail {
        let mut values = self.values_chunk.raw.clone();
        let mut value_records = u64::from(self.values_chunk.records);
        if self.step_open {
            if self.current_count == 0 {
                values.push(0);
            } else {
                close_record(&mut values, self.current_start, self.current_count);
            }
            value_records += 1;
        }
        let closed_steps = self.steps - u64::from(self.step_open);
        Tail {
            steps: TailPart {
                sealed: self.steps - u64::from(self.steps_chunk.records),
                records: u64::from(self.steps_chunk.records),
                raw: self.steps_chunk.raw.clone(),
            },
            values: TailPart {
                sealed: closed_steps - u64::from(self.values_chunk.records),
                records: value_records,
                raw: values,
            },
            events: TailPart {
                sealed: self.events - u64::from(self.events_chunk.records),
                records: u64::from(self.events_chunk.records),
                raw: self.events_chunk.raw.clone(),
            },
        }
    }

    /// Sends the pending tables and sealed chunks; with `tail` also the journal so far and
    /// the tail; with `wait` until it is published.
    fn hand_over(&mut self, tail: bool, wait: bool) -> Result<()> {
        let mut batch = Batch::default();
        for table in Table::ALL {
            let t = &mut self.tables[table as usize];
            if !t.dat.is_empty() || !t.off.is_empty() {
                batch.tables.push((
                    table,
                    std::mem::take(&mut t.dat),
                    std::mem::take(&mut t.off),
                ));
            }
        }
        if tail && !self.journal.is_empty() {
            self.seal(Stream::Journal);
        }
        batch.chunks = std::mem::take(&mut self.sealed);
        self.sealed_bytes = 0;
        batch.paths = self.meta.paths[self.paths_sent..].to_vec();
        self.paths_sent = self.meta.paths.len();
        if tail {
            batch.tail = Some(self.tail());
        }
        if wait {
            self.pipe.send_and_wait(batch)
        } else {
            self.pipe.send(batch)
        }
    }

    /// Pushes everything written so far into the container and waits until it is published.
    pub fn flush(&mut self) -> Result<()> {
        self.hand_over(true, true)
    }

    /// Ends the writer thread before a `fork()` (records written meanwhile wait in their
    /// chunks; the next hand-over restarts it). See [`crate::writer_thread`].
    pub fn park(&mut self) -> Result<()> {
        self.pipe.park()
    }

    /// Restarts the writer thread after [`park`](Self::park), in the parent.
    pub fn resume(&mut self) -> Result<()> {
        self.pipe.resume()
    }

    /// Restarts the writer thread at the next record instead of now.
    pub fn resume_at_next_record(&self) {
        self.pipe.resume_at_next_record();
    }

    /// Ends the recording: seals every chunk, builds `calls.dat`, writes the final
    /// `meta.dat`; returns `(records, line steps, container bytes, paths)`.
    pub fn finish(mut self) -> Result<(u64, u64, u64, Vec<String>)> {
        self.close_values()?;
        for stream in [Stream::Steps, Stream::Values, Stream::Events] {
            if self.chunk_of(stream).is_some_and(|c| c.records > 0) {
                self.seal(stream);
            }
        }
        if !self.journal.is_empty() {
            self.seal(Stream::Journal);
        }
        self.hand_over(false, false)?;
        let paths = self.meta.paths.clone();
        let (records, steps) = (self.records, self.line_steps);
        let bytes = self.pipe.finish(Finish {
            meta: self.meta,
            steps: self.steps,
        })?;
        Ok((records, steps, bytes, paths))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The record as written before the in-place placeholder: length, tag, count, entries.
    fn framed(count: u64, entries: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        varint::put(&mut out, (1 + varint::len(count) + entries.len()) as u64);
        out.push(TAG_STEP_VALUES);
        varint::put(&mut out, count);
        out.extend_from_slice(entries);
        out
    }

    #[test]
    fn a_closed_record_is_framed_as_its_length_tag_and_count() {
        for (count, len) in [
            (1, 3),
            (2, 120),
            (3, 124),
            (5, 125),
            (7, 200),
            (130, 300),
            (200, 20_000),
        ] {
            let entries: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            let mut raw = b"before".to_vec();
            let start = raw.len();
            raw.extend_from_slice(&[0; OPEN_RECORD]);
            raw.extend_from_slice(&entries);
            close_record(&mut raw, start, count);
            let mut expected = b"before".to_vec();
            expected.extend_from_slice(&framed(count, &entries));
            assert_eq!(raw, expected, "{count} variables, {len} bytes");
        }
    }
}
