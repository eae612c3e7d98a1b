//! [`ThreadStacks`]: one recorded call stack per thread lifetime, and the thread records of
//! the trace.
//!
//! A single-threaded trace contains no thread records (older CodeTracer readers reject them).
//! When a second thread produces its first event, the stream gains `ThreadStart` for it and
//! `ThreadSwitch` whenever the recording thread changes; a thread whose recorded stack
//! empties gets `ThreadExit`, and a new `ThreadStart` if it records again.
//!
//! Threads are told apart by their interpreter thread-state id (`PyThreadState_GetID`, never
//! reused while the interpreter lives), not by `threading.get_ident()`, which a new thread
//! gets back from a finished one: keyed by the ident, a new thread reusing it continued the
//! dead one's lifetime (no `ThreadStart`, its `ThreadExit` unpaired). The records still carry
//! the ident (what the program sees); since two live threads never share one, every
//! `ThreadStart`/`ThreadExit` pair is one lifetime.

use super::id_hash::IdHashMap;
use crate::errors::RecorderFailure;
use codetracer_trace_stream::types::{TypeId, ValueRecord};
use codetracer_trace_stream::TraceWriter;

/// One recorded (open) call.
#[derive(Debug, Clone, Copy)]
pub struct OpenCall {
    /// Address of the code object.
    pub code: usize,
    /// Whether recording ends when this call returns.
    pub activation: bool,
}

/// A thread lifetime: the ident its records carry and its open calls.
struct Lifetime {
    ident: u64,
    stack: Vec<OpenCall>,
}

/// `current` after the current thread's lifetime ended: no thread has this id.
const NO_THREAD: u64 = u64::MAX;

/// Per-thread stacks of open calls, keyed by thread-state id.
pub struct ThreadStacks {
    main: u64,
    current: u64,
    multi: bool,
    threads: IdHashMap<u64, Lifetime>,
}

impl ThreadStacks {
    /// Starts with the thread whose thread-state id is `main` (and ident `ident`) as the
    /// recording thread.
    pub fn new(main: u64, ident: u64) -> Self {
        let mut threads = IdHashMap::default();
        threads.insert(
            main,
            Lifetime {
                ident,
                stack: Vec::new(),
            },
        );
        Self {
            main,
            current: main,
            multi: false,
            threads,
        }
    }

    /// Makes the thread with thread-state id `id` current, writing thread records if it
    /// changed; `ident` gives the calling thread's ident (asked only for a thread not seen in
    /// this lifetime, which is always the calling one).
    #[inline]
    pub fn switch_to(
        &mut self,
        id: u64,
        ident: impl FnOnce() -> u64,
        rec: &mut TraceWriter,
    ) -> Result<(), RecorderFailure> {
        if id == self.current {
            return Ok(());
        }
        self.switch_slow(id, ident, rec)
    }

    fn switch_slow(
        &mut self,
        id: u64,
        ident: impl FnOnce() -> u64,
        rec: &mut TraceWriter,
    ) -> Result<(), RecorderFailure> {
        if !self.threads.contains_key(&id) {
            let ident = ident();
            // A finished thread whose calls never all returned (their returns were not seen)
            // left its lifetime open under the ident this thread reuses: close it first.
            let stale = self
                .threads
                .iter()
                .find(|(other, t)| **other != self.main && t.ident == ident)
                .map(|(other, _)| *other);
            if let Some(stale) = stale {
                self.switch_recorded(stale, rec)?;
                self.close_current(rec, |rec| {
                    Ok(rec.ret(ValueRecord::None { type_id: TypeId(0) })?)
                })?;
            }
            self.multi = true;
            self.threads.insert(
                id,
                Lifetime {
                    ident,
                    stack: Vec::new(),
                },
            );
            rec.thread_start(ident)?;
        }
        self.switch_recorded(id, rec)
    }

    /// Switches to the known thread `id`.
    fn switch_recorded(&mut self, id: u64, rec: &mut TraceWriter) -> Result<(), RecorderFailure> {
        if id == self.current {
            return Ok(());
        }
        if self.multi {
            if let Some(t) = self.threads.get(&id) {
                rec.thread_switch(t.ident)?;
            }
        }
        self.current = id;
        Ok(())
    }

    /// The current thread's stack.
    #[inline]
    pub fn stack(&mut self) -> &mut Vec<OpenCall> {
        &mut self
            .threads
            .entry(self.current)
            .or_insert_with(|| Lifetime {
                ident: 0,
                stack: Vec::new(),
            })
            .stack
    }

    /// Pops the current thread's top call if it runs `code`.
    #[inline]
    pub fn pop_if(&mut self, code: usize) -> Option<OpenCall> {
        let stack = self.stack();
        match stack.last() {
            Some(top) if top.code == code => stack.pop(),
            _ => None,
        }
    }

    /// After a pop: a secondary thread whose stack emptied is ended with `ThreadExit`.
    pub fn maybe_exit(&mut self, rec: &mut TraceWriter) -> Result<(), RecorderFailure> {
        if self.current != self.main && self.stack().is_empty() {
            self.end_current(rec)?;
        }
        Ok(())
    }

    /// Writes the current (secondary) thread's `ThreadExit` and forgets its lifetime.
    fn end_current(&mut self, rec: &mut TraceWriter) -> Result<(), RecorderFailure> {
        if let Some(t) = self.threads.remove(&self.current) {
            rec.thread_exit(t.ident)?;
        }
        self.current = NO_THREAD;
        Ok(())
    }

    /// The thread the last record was written for.
    #[inline]
    pub fn current(&self) -> u64 {
        self.current
    }

    /// The main (recording) thread.
    pub fn main(&self) -> u64 {
        self.main
    }

    /// Pops every open call of the current thread, writing its return with `ret`, then ends
    /// the thread's lifetime unless it is the main thread.
    pub fn close_current(
        &mut self,
        rec: &mut TraceWriter,
        mut ret: impl FnMut(&mut TraceWriter) -> Result<(), RecorderFailure>,
    ) -> Result<(), RecorderFailure> {
        while self.stack().pop().is_some() {
            ret(rec)?;
        }
        if self.current != self.main {
            self.end_current(rec)?;
        }
        Ok(())
    }

    /// Switches to each thread with open calls — the secondary ones first, the main thread
    /// last — and closes it ([`close_current`](Self::close_current)): the end of a recording.
    pub fn close_all(
        &mut self,
        rec: &mut TraceWriter,
        mut ret: impl FnMut(&mut TraceWriter) -> Result<(), RecorderFailure>,
    ) -> Result<(), RecorderFailure> {
        let mut open: Vec<(u64, u64)> = self
            .threads
            .iter()
            .filter(|(id, t)| **id != self.main && !t.stack.is_empty())
            .map(|(id, t)| (t.ident, *id))
            .collect();
        open.sort_unstable();
        open.push((0, self.main));
        for (_, id) in open {
            self.switch_recorded(id, rec)?;
            self.close_current(rec, &mut ret)?;
        }
        Ok(())
    }
}
