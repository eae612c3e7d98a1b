//! [`ThreadStacks`]: one recorded call stack per thread, and the thread records of the trace.
//!
//! A single-threaded trace contains no thread records (older CodeTracer readers reject them).
//! When a second thread produces its first event, the stream gains `ThreadStart` for it and
//! `ThreadSwitch` whenever the recording thread changes; a thread whose recorded stack
//! empties gets `ThreadExit` (and a new `ThreadStart` if it records again).

use super::id_hash::IdHashMap;
use crate::errors::RecorderFailure;
use codetracer_trace_stream::TraceWriter;

/// One recorded (open) call.
#[derive(Debug, Clone, Copy)]
pub struct OpenCall {
    /// Address of the code object.
    pub code: usize,
    /// Whether recording ends when this call returns.
    pub activation: bool,
}

/// Per-thread stacks of open calls.
pub struct ThreadStacks {
    main: u64,
    current: u64,
    multi: bool,
    stacks: IdHashMap<u64, Vec<OpenCall>>,
}

impl ThreadStacks {
    /// Starts with `main` as the recording thread.
    pub fn new(main: u64) -> Self {
        let mut stacks = IdHashMap::default();
        stacks.insert(main, Vec::new());
        Self {
            main,
            current: main,
            multi: false,
            stacks,
        }
    }

    /// Makes `tid` the current thread, writing thread records if it changed.
    #[inline]
    pub fn switch_to(&mut self, tid: u64, rec: &mut TraceWriter) -> Result<(), RecorderFailure> {
        if tid == self.current {
            return Ok(());
        }
        if !self.stacks.contains_key(&tid) {
            self.multi = true;
            self.stacks.insert(tid, Vec::new());
            rec.thread_start(tid)?;
        }
        if self.multi {
            rec.thread_switch(tid)?;
        }
        self.current = tid;
        Ok(())
    }

    /// The current thread's stack.
    #[inline]
    pub fn stack(&mut self) -> &mut Vec<OpenCall> {
        self.stacks.entry(self.current).or_default()
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
            rec.thread_exit(self.current)?;
            self.stacks.remove(&self.current);
        }
        Ok(())
    }

    /// Threads other than `main` that still have open calls, and the main thread last.
    pub fn open_threads(&self) -> Vec<u64> {
        let mut v: Vec<u64> = self
            .stacks
            .iter()
            .filter(|(t, s)| **t != self.main && !s.is_empty())
            .map(|(t, _)| *t)
            .collect();
        v.sort_unstable();
        v.push(self.main);
        v
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
}
