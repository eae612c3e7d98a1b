//! The `trace_filter` block of `trace_metadata.json`: the chain that was applied and the
//! counters of what it did.
//!
//! ```json
//! {"filters": [{"name": "builtin-default", "version": 1,
//!               "path": "<inline:builtin-default>", "sha256": "…"}],
//!  "stats": {"scopes_skipped": 3, "libraries_skipped": 1,
//!            "value_redactions": {"local": 1, "global": 0, "arg": 0, "ret": 0, "attr": 0},
//!            "value_drops": {"local": 0, "global": 0, "arg": 0, "ret": 0, "attr": 0}}}
//! ```

use serde::Serialize;

use crate::loader::FilterChain;
use crate::model::{ValueAction, ValueKind};

/// One filter of the applied chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FilterEntry {
    /// `[meta].name`.
    pub name: String,
    /// `[meta].version`.
    pub version: u32,
    /// The file path, or `<inline:NAME>` for builtin and inline filters.
    pub path: String,
    /// Lowercase hex SHA-256 of the source text.
    pub sha256: String,
}

/// Plain `u64` counters per value kind; bump through `&mut` from the hot path.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct KindCounts {
    /// `local` values.
    pub local: u64,
    /// `global` values.
    pub global: u64,
    /// `arg` values.
    pub arg: u64,
    /// `ret` values.
    pub ret: u64,
    /// `attr` values.
    pub attr: u64,
}

impl KindCounts {
    /// The counter of `kind`.
    pub fn get(&self, kind: ValueKind) -> u64 {
        match kind {
            ValueKind::Local => self.local,
            ValueKind::Global => self.global,
            ValueKind::Arg => self.arg,
            ValueKind::Return => self.ret,
            ValueKind::Attr => self.attr,
        }
    }

    /// The counter of `kind`, mutably.
    pub fn get_mut(&mut self, kind: ValueKind) -> &mut u64 {
        match kind {
            ValueKind::Local => &mut self.local,
            ValueKind::Global => &mut self.global,
            ValueKind::Arg => &mut self.arg,
            ValueKind::Return => &mut self.ret,
            ValueKind::Attr => &mut self.attr,
        }
    }

    /// The sum over all kinds.
    pub fn total(&self) -> u64 {
        ValueKind::ALL.iter().map(|k| self.get(*k)).sum()
    }
}

/// What the filters did during a recording.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FilterCounters {
    /// Scopes (code objects) decided `skip`.
    pub scopes_skipped: u64,
    /// Of those, scopes skipped by an `env:libraries` rule: the installed third-party
    /// code "just my code" left out (not the recorder's own, skipped by its own rule).
    pub libraries_skipped: u64,
    /// Values recorded as redacted, per kind.
    pub value_redactions: KindCounts,
    /// Values dropped, per kind.
    pub value_drops: KindCounts,
}

impl FilterCounters {
    /// Counts one recorded value: bumps `value_redactions` / `value_drops` of `kind`
    /// (nothing for `Allow`).
    #[inline]
    pub fn record_value(&mut self, kind: ValueKind, action: ValueAction) {
        match action {
            ValueAction::Allow => {}
            ValueAction::Redact => *self.value_redactions.get_mut(kind) += 1,
            ValueAction::Drop => *self.value_drops.get_mut(kind) += 1,
        }
    }
}

/// The whole `trace_filter` metadata block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FilterSummary {
    /// The chain, earliest first.
    pub filters: Vec<FilterEntry>,
    /// The counters.
    pub stats: FilterCounters,
}

impl FilterSummary {
    /// The summary of `chain` with `stats`.
    pub fn new(chain: &FilterChain, stats: FilterCounters) -> Self {
        let filters = chain
            .filters()
            .iter()
            .map(|f| FilterEntry {
                name: f.meta.name.clone(),
                version: f.meta.version,
                path: f.origin.to_string(),
                sha256: f.sha256.clone(),
            })
            .collect();
        FilterSummary { filters, stats }
    }
}
