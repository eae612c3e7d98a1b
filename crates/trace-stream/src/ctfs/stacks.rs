//! [`CallStacks`]: the open calls of every thread, replayed from the journal (its thread
//! markers, starts and exits) to give each call its key, parent and depth.
//!
//! The first thread's id is not known until execution switches back to it (a legacy trace
//! names a thread only when it switches to it), so its stack is kept aside as "unnamed"
//! while other threads run and is taken by the first switch to a thread that was never
//! started.

use std::collections::HashMap;

/// Per-thread stacks of open call keys.
#[derive(Debug, Default)]
pub struct CallStacks {
    stack: Vec<u64>,
    thread: Option<u64>,
    parked: HashMap<u64, Vec<u64>>,
    unnamed: Option<Vec<u64>>,
}

impl CallStacks {
    /// No thread, no call.
    pub fn new() -> Self {
        Self::default()
    }

    /// The current thread (`None`: the first thread, before any switch named it).
    pub fn thread(&self) -> Option<u64> {
        self.thread
    }

    /// The current thread's innermost open call.
    pub fn top(&self) -> Option<u64> {
        self.stack.last().copied()
    }

    /// Open calls on the current thread.
    pub fn depth(&self) -> usize {
        self.stack.len()
    }

    /// A call enters on the current thread.
    pub fn push(&mut self, key: u64) {
        self.stack.push(key);
    }

    /// The current thread's innermost call returns.
    pub fn pop(&mut self) -> Option<u64> {
        self.stack.pop()
    }

    /// Thread `id` starts recording (an empty stack).
    pub fn start(&mut self, id: u64) {
        if self.thread != Some(id) {
            self.parked.entry(id).or_default();
        }
    }

    /// Thread `id` stopped recording.
    pub fn exit(&mut self, id: u64) {
        if self.thread == Some(id) {
            self.stack.clear();
        } else {
            self.parked.remove(&id);
        }
    }

    /// Execution continues on thread `id`.
    pub fn switch(&mut self, id: u64) {
        if self.thread == Some(id) {
            return;
        }
        let current = std::mem::take(&mut self.stack);
        match self.thread {
            Some(t) => {
                self.parked.insert(t, current);
            }
            None => self.unnamed = Some(current),
        }
        self.stack = self
            .parked
            .remove(&id)
            .or_else(|| self.unnamed.take())
            .unwrap_or_default();
        self.thread = Some(id);
    }

    /// Every call still open, innermost first per thread.
    pub fn drain_open(&mut self) -> Vec<u64> {
        let mut open: Vec<u64> = self.stack.drain(..).rev().collect();
        for (_, s) in self.parked.drain() {
            open.extend(s.into_iter().rev());
        }
        if let Some(s) = self.unnamed.take() {
            open.extend(s.into_iter().rev());
        }
        open
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_thread_is_found_again_by_its_first_switch() {
        let mut s = CallStacks::new();
        s.push(0);
        s.push(1);
        s.start(7);
        s.switch(7);
        assert_eq!((s.top(), s.depth()), (None, 0));
        s.push(2);
        s.switch(1); // never started: the first thread
        assert_eq!(s.top(), Some(1));
        s.switch(7);
        assert_eq!(s.pop(), Some(2));
        s.exit(7);
        s.switch(1);
        assert_eq!(s.depth(), 2);
        let mut open = s.drain_open();
        open.sort_unstable();
        assert_eq!(open, [0, 1]);
    }
}
