//! [`CtfsEvents`]: the records of a `.ct` container written by this crate, in the order and
//! shapes of the binary format, read one chunk of each stream at a time.
//!
//! The journal says where each of its entries goes among the filler records (a `steps.dat`
//! record becomes a `Step` or `ThreadSwitch`, and its `values.dat` record the `Value`s
//! after it); names come from the interning tables, events from `events.dat`. The sealed
//! chunks of a killed recording are followed by the tail of its last tick when it matches
//! them. The read ends [`ReadMode::Complete`] when the writer finished the container (it
//! has `calls.dat` and no tail) and every stream ended together, else
//! [`ReadMode::Prefix`].

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use codetracer_trace_types::{
    CallRecord, EventLogKind, FullValueRecord, FunctionId, FunctionRecord, Line, PathId,
    RecordEvent, ReturnRecord, StepRecord, ThreadId, TraceLowLevelEvent, TypeRecord, ValueRecord,
    VariableId,
};

use super::chunks::ChunkedFile;
use super::container_read::ContainerReader;
use super::journal::{next_entry, EntryKind};
use super::lines::{LineTable, PositionSpace};
use super::records::{decode_steps, decode_values_record, split_framed, EventRecord, StepEvent};
use super::tail::Tail;
use super::varint::Cursor;
use super::{Stream, Table, CALLS, TAIL};
use crate::error::{Result, TraceStreamError};
use crate::reader::ReadMode;

/// The raw chunks of one stream: the sealed ones, then the tail's part.
struct RawChunks {
    file: Option<ChunkedFile>,
    next: usize,
    tail: Option<Vec<u8>>,
    /// Whether a chunk could not be read (the stream ends there).
    failed: bool,
}

impl RawChunks {
    fn next(&mut self, reader: &ContainerReader) -> Option<Vec<u8>> {
        if self.failed {
            return None;
        }
        if let Some(f) = &self.file {
            if self.next < f.chunks() {
                self.next += 1;
                let chunk = f.read(reader, self.next - 1).ok();
                self.failed = chunk.is_none();
                return chunk;
            }
        }
        self.tail.take()
    }

    fn sealed_records(&self) -> u64 {
        self.file
            .as_ref()
            .map_or(0, |f| f.chunks() as u64 * u64::from(f.chunk_size()))
    }
}

/// One interning table, read whole (of a container cut short: its readable records).
fn read_table(reader: &ContainerReader, table: Table) -> Vec<Vec<u8>> {
    let (dat, off) = table.files();
    let data = reader.read_prefix(dat);
    let offsets = reader.read_prefix(off);
    let mut c = Cursor::new(&offsets);
    let mut ends = Vec::new();
    while let Some(o) = c.u64_le() {
        ends.push(o as usize);
    }
    let mut records = Vec::new();
    for w in ends.windows(2) {
        match data.get(w[0]..w[1]) {
            Some(r) => records.push(r.to_vec()),
            None => break, // a record whose bytes are not there: the table ends before it
        }
    }
    records
}

/// The records of one container.
pub struct CtfsEvents {
    reader: ContainerReader,
    space: PositionSpace,
    paths: Vec<String>,
    funcs: Vec<String>,
    types: Vec<String>,
    varnames: Vec<String>,
    declared: [usize; 4],
    steps: RawChunks,
    values: RawChunks,
    events: RawChunks,
    journal: RawChunks,
    step_queue: VecDeque<StepEvent>,
    /// The values chunk being read and its records.
    values_raw: Vec<u8>,
    value_records: VecDeque<std::ops::Range<usize>>,
    event_queue: VecDeque<EventRecord>,
    /// The journal chunk being read and how far.
    journal_raw: Vec<u8>,
    journal_pos: usize,
    /// Fillers of the current steps record not handed out yet.
    fillers: VecDeque<TraceLowLevelEvent>,
    /// The journal's next record, waiting for the fillers still due before it.
    waiting: Option<(u64, TraceLowLevelEvent)>,
    /// The column of the step at the head of `fillers`, and of the last step returned.
    head_column: Option<u32>,
    column: Option<u32>,
    finished: bool,
    done: Option<ReadMode>,
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn value(bytes: &[u8]) -> Option<ValueRecord> {
    cbor4ii::serde::from_slice(bytes).ok()
}

impl CtfsEvents {
    /// Opens the container at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        let reader = ContainerReader::open(path).map_err(|e| TraceStreamError::invalid(path, e))?;
        let invalid = |why: String| TraceStreamError::invalid(path, why);
        if !reader.has(Stream::Journal.files().0) {
            return Err(invalid(
                "this .ct container was not written by codetracer-trace-stream (it has no journal.dat); open it in CodeTracer".into(),
            ));
        }
        let mut space = PositionSpace::new();
        let mut paths = Vec::new();
        for record in read_table(&reader, Table::Paths) {
            let (p, table) = LineTable::parse_record(&record).ok_or_else(|| {
                invalid("paths.dat holds a record that is not column-aware".into())
            })?;
            space.push(&table);
            paths.push(p);
        }
        let names =
            |t: Table| -> Vec<String> { read_table(&reader, t).iter().map(|r| text(r)).collect() };
        let (funcs, types, varnames) = (
            names(Table::Funcs),
            names(Table::Types),
            names(Table::Varnames),
        );
        let open = |s: Stream| -> Result<RawChunks> {
            let file = ChunkedFile::open(&reader, s.files()).map_err(|e| invalid(e.to_string()))?;
            Ok(RawChunks {
                file,
                next: 0,
                tail: None,
                failed: false,
            })
        };
        let (mut steps, mut values, mut events) = (
            open(Stream::Steps)?,
            open(Stream::Values)?,
            open(Stream::Events)?,
        );
        let journal = open(Stream::Journal)?;
        let tail = reader
            .entry(TAIL)
            .and_then(|_| reader.read(TAIL).ok())
            .and_then(|b| Tail::decode(&b));
        if let Some(t) = tail {
            let fits = t.steps.sealed == steps.sealed_records()
                && t.values.sealed == values.sealed_records()
                && t.events.sealed == events.sealed_records();
            if fits {
                steps.tail = Some(t.steps.raw);
                values.tail = Some(t.values.raw);
                events.tail = Some(t.events.raw);
            }
        }
        let finished = reader.has(CALLS.0) && !reader.has(TAIL) && reader.is_intact();
        Ok(Self {
            reader,
            space,
            paths,
            funcs,
            types,
            varnames,
            declared: [0; 4],
            steps,
            values,
            events,
            journal,
            step_queue: VecDeque::new(),
            values_raw: Vec::new(),
            value_records: VecDeque::new(),
            event_queue: VecDeque::new(),
            journal_raw: Vec::new(),
            journal_pos: 0,
            fillers: VecDeque::new(),
            waiting: None,
            head_column: None,
            column: None,
            finished,
            done: None,
        })
    }

    /// The column (1-based) of the last `Step` returned: `trace.ct` keeps the column of
    /// every step, which the records of the binary format have no field for.
    pub fn last_column(&self) -> Option<u32> {
        self.column
    }

    /// `None` while records remain; then whether the container was complete.
    pub fn mode(&self) -> Option<ReadMode> {
        self.done
    }

    /// The next journal entry as `(fillers before it, its record)`; `None` at the end of the
    /// journal (or at a damaged entry).
    fn next_entry(&mut self) -> Option<(u64, TraceLowLevelEvent)> {
        while self.journal_pos >= self.journal_raw.len() {
            self.journal_raw = self.journal.next(&self.reader)?;
            self.journal_pos = 0;
        }
        let raw = std::mem::take(&mut self.journal_raw);
        let mut c = Cursor::new(raw.get(self.journal_pos..).unwrap_or(&[]));
        let entry = next_entry(&mut c);
        let consumed = raw.len() - self.journal_pos - c.rest().len();
        let record = entry.and_then(|e| Some((e.skip, self.record(e.kind)?)));
        self.journal_pos += consumed;
        self.journal_raw = raw;
        record
    }

    fn next_step_event(&mut self) -> Option<StepEvent> {
        while self.step_queue.is_empty() {
            let raw = self.steps.next(&self.reader)?;
            self.step_queue = decode_steps(&raw)?.into();
        }
        self.step_queue.pop_front()
    }

    /// The next values record as `(name id, CBOR)` pairs.
    fn next_values(&mut self) -> Option<Vec<(u64, Vec<u8>)>> {
        while self.value_records.is_empty() {
            self.values_raw = self.values.next(&self.reader)?;
            self.value_records = split_framed(&self.values_raw)?.into();
        }
        let record = self.value_records.pop_front()?;
        let vars = decode_values_record(&self.values_raw, record)?;
        Some(
            vars.into_iter()
                .map(|(name, r)| (name, self.values_raw.get(r).unwrap_or(&[]).to_vec()))
                .collect(),
        )
    }

    /// Refills `fillers` from the next steps record and its values record.
    fn refill(&mut self) -> Option<()> {
        loop {
            let event = self.next_step_event()?;
            let values = self.next_values()?;
            let head = match event {
                StepEvent::Position(p) => {
                    let (path, line, column) = self.space.locate(p)?;
                    self.head_column = Some(column);
                    TraceLowLevelEvent::Step(StepRecord {
                        path_id: PathId(path),
                        line: Line(line),
                    })
                }
                StepEvent::ThreadSwitch(id) => TraceLowLevelEvent::ThreadSwitch(ThreadId(id)),
                StepEvent::Other => continue,
            };
            self.fillers.push_back(head);
            for (name, bytes) in values {
                self.fillers
                    .push_back(TraceLowLevelEvent::Value(FullValueRecord {
                        variable_id: VariableId(name as usize),
                        value: value(&bytes)?,
                    }));
            }
            return Some(());
        }
    }

    fn filler(&mut self) -> Option<TraceLowLevelEvent> {
        if self.fillers.is_empty() {
            self.refill()?;
        }
        let next = self.fillers.pop_front()?;
        if matches!(next, TraceLowLevelEvent::Step(_)) {
            self.column = self.head_column.take();
        }
        Some(next)
    }

    fn next_event_record(&mut self) -> Option<EventRecord> {
        while self.event_queue.is_empty() {
            let raw = self.events.next(&self.reader)?;
            let records = split_framed(&raw)?;
            for r in records {
                self.event_queue
                    .push_back(EventRecord::decode(raw.get(r)?)?);
            }
        }
        self.event_queue.pop_front()
    }

    fn declared(&mut self, table: Table) -> Option<String> {
        let i = self.declared[table as usize];
        let list = match table {
            Table::Paths => &self.paths,
            Table::Funcs => &self.funcs,
            Table::Types => &self.types,
            Table::Varnames => &self.varnames,
        };
        let name = list.get(i)?.clone();
        self.declared[table as usize] += 1;
        Some(name)
    }

    /// The record of a journal entry.
    fn record(&mut self, kind: EntryKind<'_>) -> Option<TraceLowLevelEvent> {
        Some(match kind {
            EntryKind::Path => {
                TraceLowLevelEvent::Path(PathBuf::from(self.declared(Table::Paths)?))
            }
            EntryKind::Function { path_id, line } => TraceLowLevelEvent::Function(FunctionRecord {
                path_id: PathId(path_id as usize),
                line: Line(i64::try_from(line).ok()?),
                name: self.declared(Table::Funcs)?,
            }),
            EntryKind::Type(cbor) => {
                self.declared(Table::Types)?;
                TraceLowLevelEvent::Type(cbor4ii::serde::from_slice::<TypeRecord>(cbor).ok()?)
            }
            EntryKind::Variable => {
                TraceLowLevelEvent::VariableName(self.declared(Table::Varnames)?)
            }
            EntryKind::Call {
                function_id, args, ..
            } => {
                let args = args
                    .decode()?
                    .into_iter()
                    .map(|(name, bytes)| {
                        Some(FullValueRecord {
                            variable_id: VariableId(name as usize),
                            value: value(bytes)?,
                        })
                    })
                    .collect::<Option<Vec<_>>>()?;
                TraceLowLevelEvent::Call(CallRecord {
                    function_id: FunctionId(function_id as usize),
                    args,
                })
            }
            EntryKind::Return { value: bytes, .. } => TraceLowLevelEvent::Return(ReturnRecord {
                return_value: value(bytes)?,
            }),
            EntryKind::Event => {
                let e = self.next_event_record()?;
                let kind: EventLogKind =
                    serde_json::from_value(serde_json::Value::from(e.kind)).ok()?;
                TraceLowLevelEvent::Event(RecordEvent {
                    kind,
                    metadata: text(&e.metadata),
                    content: text(&e.content),
                })
            }
            EntryKind::ThreadStart(id) => TraceLowLevelEvent::ThreadStart(ThreadId(id)),
            EntryKind::ThreadExit(id) => TraceLowLevelEvent::ThreadExit(ThreadId(id)),
            EntryKind::Value {
                variable_id,
                value: bytes,
            } => TraceLowLevelEvent::Value(FullValueRecord {
                variable_id: VariableId(variable_id as usize),
                value: value(bytes)?,
            }),
        })
    }

    fn step(&mut self) -> Result<TraceLowLevelEvent, ReadMode> {
        loop {
            match self.waiting.take() {
                Some((0, record)) => return Ok(record),
                Some((due, record)) => {
                    let filler = self.filler().ok_or(ReadMode::Prefix)?;
                    self.waiting = Some((due - 1, record));
                    return Ok(filler);
                }
                None => match self.next_entry() {
                    Some(entry) => self.waiting = Some(entry),
                    None => {
                        // The journal ended (or broke off): what is left are fillers.
                        let whole = self.finished
                            && !self.journal.failed
                            && self.journal_pos >= self.journal_raw.len();
                        return self.filler().ok_or(if whole {
                            ReadMode::Complete
                        } else {
                            ReadMode::Prefix
                        });
                    }
                },
            }
        }
    }
}

impl Iterator for CtfsEvents {
    type Item = TraceLowLevelEvent;

    fn next(&mut self) -> Option<TraceLowLevelEvent> {
        if self.done.is_some() {
            return None;
        }
        match self.step() {
            Ok(e) => Some(e),
            Err(mode) => {
                self.done = Some(mode);
                None
            }
        }
    }
}
