//! Event sets and the event constants of the running interpreter (`sys.monitoring.events`).
//!
//! Constants are read from the interpreter once and cached: nothing here hard-codes CPython's
//! bit assignments.

use std::ops::{BitAnd, BitAndAssign, BitOr, BitOrAssign, Not};

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

use crate::api::monitoring_module;
use crate::error::MonitoringError;

/// A set of `sys.monitoring` events, as the bit mask CPython uses.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct EventSet(u32);

impl EventSet {
    /// No events (`sys.monitoring.events.NO_EVENTS`).
    pub const EMPTY: EventSet = EventSet(0);

    /// The raw bit mask.
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// Wraps a raw bit mask (as returned by `sys.monitoring.get_events`).
    pub const fn from_bits(bits: u32) -> EventSet {
        EventSet(bits)
    }

    /// `true` if every event in `other` is in `self` (and `other` is not empty).
    pub const fn contains(self, other: EventSet) -> bool {
        other.0 != 0 && self.0 & other.0 == other.0
    }

    /// `true` if `self` and `other` share at least one event.
    pub const fn intersects(self, other: EventSet) -> bool {
        self.0 & other.0 != 0
    }

    /// `true` if the set has no events.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The events in `self` or `other`.
    pub const fn union(self, other: EventSet) -> EventSet {
        EventSet(self.0 | other.0)
    }

    /// The events in `self` but not in `other`.
    pub const fn difference(self, other: EventSet) -> EventSet {
        EventSet(self.0 & !other.0)
    }

    /// Number of events in the set.
    pub const fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// Iterates over the single-event sets contained in `self`, lowest bit first.
    pub fn iter(self) -> impl Iterator<Item = EventSet> {
        let mut rest = self.0;
        std::iter::from_fn(move || {
            if rest == 0 {
                return None;
            }
            let low = rest & rest.wrapping_neg();
            rest &= !low;
            Some(EventSet(low))
        })
    }
}

impl BitOr for EventSet {
    type Output = EventSet;
    fn bitor(self, rhs: EventSet) -> EventSet {
        EventSet(self.0 | rhs.0)
    }
}

impl BitOrAssign for EventSet {
    fn bitor_assign(&mut self, rhs: EventSet) {
        self.0 |= rhs.0;
    }
}

impl BitAnd for EventSet {
    type Output = EventSet;
    fn bitand(self, rhs: EventSet) -> EventSet {
        EventSet(self.0 & rhs.0)
    }
}

impl BitAndAssign for EventSet {
    fn bitand_assign(&mut self, rhs: EventSet) {
        self.0 &= rhs.0;
    }
}

impl Not for EventSet {
    type Output = EventSet;
    fn not(self) -> EventSet {
        EventSet(!self.0)
    }
}

impl FromIterator<EventSet> for EventSet {
    fn from_iter<I: IntoIterator<Item = EventSet>>(iter: I) -> EventSet {
        iter.into_iter().fold(EventSet::EMPTY, BitOr::bitor)
    }
}

/// The event constants of the running interpreter, read from `sys.monitoring.events`.
///
/// Obtain it with [`MonitoringEvents::load`]; it is read once per process and cached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonitoringEvents {
    /// `PY_START`: a Python function starts (after the call).
    pub py_start: EventSet,
    /// `PY_RESUME`: a generator or coroutine resumes (except via `throw`).
    pub py_resume: EventSet,
    /// `PY_RETURN`: a Python function returns.
    pub py_return: EventSet,
    /// `PY_YIELD`: a generator or coroutine yields.
    pub py_yield: EventSet,
    /// `PY_UNWIND`: a Python function exits by an exception.
    pub py_unwind: EventSet,
    /// `PY_THROW`: a generator or coroutine resumes via `throw`.
    pub py_throw: EventSet,
    /// `CALL`: a call is about to be made from Python code.
    pub call: EventSet,
    /// `C_RETURN`: a callable that is not a Python function returned.
    pub c_return: EventSet,
    /// `C_RAISE`: a callable that is not a Python function raised.
    pub c_raise: EventSet,
    /// `RAISE`: an exception is raised (except those causing `STOP_ITERATION`).
    pub raise: EventSet,
    /// `RERAISE`: an exception is re-raised (e.g. at the end of a `finally`).
    pub reraise: EventSet,
    /// `EXCEPTION_HANDLED`: an exception is caught.
    pub exception_handled: EventSet,
    /// `LINE`: an instruction on a new line is about to run.
    pub line: EventSet,
    /// `INSTRUCTION`: a VM instruction is about to run.
    pub instruction: EventSet,
    /// `JUMP`: an unconditional jump in the control flow graph.
    pub jump: EventSet,
    /// `BRANCH`: a conditional branch is taken or not (deprecated in 3.14).
    pub branch: EventSet,
    /// `STOP_ITERATION`: an artificial `StopIteration` is raised.
    pub stop_iteration: EventSet,
    /// `BRANCH_LEFT` (CPython 3.14+): a conditional branch goes left.
    pub branch_left: Option<EventSet>,
    /// `BRANCH_RIGHT` (CPython 3.14+): a conditional branch goes right.
    pub branch_right: Option<EventSet>,
}

static EVENTS: PyOnceLock<MonitoringEvents> = PyOnceLock::new();

impl MonitoringEvents {
    /// Reads the constants from `sys.monitoring.events` (once per process; later calls return
    /// the cached value).
    pub fn load(py: Python<'_>) -> Result<&'static MonitoringEvents, MonitoringError> {
        EVENTS.get_or_try_init(py, || Self::read(py))
    }

    fn read(py: Python<'_>) -> Result<MonitoringEvents, MonitoringError> {
        let ns = monitoring_module(py)?.getattr(pyo3::intern!(py, "events"))?;
        let get = |name: &str| -> Result<EventSet, MonitoringError> {
            Ok(EventSet(ns.getattr(name)?.extract::<u32>()?))
        };
        let opt = |name: &str| -> Result<Option<EventSet>, MonitoringError> {
            if ns.hasattr(name)? {
                get(name).map(Some)
            } else {
                Ok(None)
            }
        };
        Ok(MonitoringEvents {
            py_start: get("PY_START")?,
            py_resume: get("PY_RESUME")?,
            py_return: get("PY_RETURN")?,
            py_yield: get("PY_YIELD")?,
            py_unwind: get("PY_UNWIND")?,
            py_throw: get("PY_THROW")?,
            call: get("CALL")?,
            c_return: get("C_RETURN")?,
            c_raise: get("C_RAISE")?,
            raise: get("RAISE")?,
            reraise: get("RERAISE")?,
            exception_handled: get("EXCEPTION_HANDLED")?,
            line: get("LINE")?,
            instruction: get("INSTRUCTION")?,
            jump: get("JUMP")?,
            branch: get("BRANCH")?,
            stop_iteration: get("STOP_ITERATION")?,
            branch_left: opt("BRANCH_LEFT")?,
            branch_right: opt("BRANCH_RIGHT")?,
        })
    }

    /// Every event this interpreter provides, with its `sys.monitoring.events` name.
    pub fn named(&self) -> impl Iterator<Item = (&'static str, EventSet)> + '_ {
        crate::callbacks::TABLE
            .iter()
            .filter_map(move |row| (row.select)(self).map(|set| (row.name, set)))
    }

    /// The union of every event this interpreter provides.
    pub fn all(&self) -> EventSet {
        self.named().map(|(_, set)| set).collect()
    }

    /// The `sys.monitoring.events` names of the events in `set`, lowest bit first
    /// (e.g. for log messages). Unknown bits are ignored.
    pub fn names(&self, set: EventSet) -> Vec<&'static str> {
        set.iter()
            .filter_map(|single| {
                self.named()
                    .find(|&(_, ev)| ev == single)
                    .map(|(name, _)| name)
            })
            .collect()
    }

    /// The events that CPython only lets a tool enable together: `CALL`, `C_RETURN`, `C_RAISE`.
    pub(crate) fn call_group(&self) -> EventSet {
        self.call | self.c_return | self.c_raise
    }

    /// Adjusts `set` to what `sys.monitoring.set_events` accepts: asking for `C_RETURN` or
    /// `C_RAISE` enables the whole `CALL | C_RETURN | C_RAISE` group (CPython refuses them
    /// alone). Only events with a registered callback are delivered, so the extra events cost
    /// nothing unless a callback for them is registered.
    pub fn normalize(&self, set: EventSet) -> EventSet {
        if set.intersects(self.c_return | self.c_raise) {
            set | self.call_group()
        } else {
            set
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_algebra() {
        let a = EventSet::from_bits(0b0101);
        let b = EventSet::from_bits(0b0100);
        assert!(a.contains(b));
        assert!(!b.contains(a));
        assert!(!a.contains(EventSet::EMPTY));
        assert_eq!((a & b).bits(), 0b0100);
        assert_eq!((a | EventSet::from_bits(2)).bits(), 0b0111);
        assert_eq!(a.difference(b).bits(), 1);
        assert_eq!(a.len(), 2);
        assert_eq!(a.iter().map(EventSet::bits).collect::<Vec<_>>(), vec![1, 4]);
        assert!(EventSet::default().is_empty());
        let mut c = EventSet::EMPTY;
        c |= b;
        c &= a;
        assert_eq!(c, b);
        assert_eq!([a, b].into_iter().collect::<EventSet>(), a);
    }
}
