//! `codetracer-trace-filter`: the trace filter language of CodeTracer recorders.
//!
//! Filters are TOML files (see the crate README for the full reference) that decide, per
//! code object ("scope"), whether it is traced, and per recorded value whether it is kept,
//! redacted or dropped. This crate has no Python dependency: the caller describes the
//! interpreter with [`FilterEnv`] and each code object with [`ScopeInput`].
//!
//! ```
//! use codetracer_trace_filter::*;
//!
//! let mut sources = vec![FilterSource::Builtin("builtin-default".into())];
//! sources.push(FilterSource::Inline {
//!     name: "example".into(),
//!     toml: r#"
//!         [meta]
//!         name = "example"
//!         version = 1
//!         [[scope.rules]]
//!         selector = "pkg:app.vendor.**"
//!         exec = "skip"
//!     "#.into(),
//! });
//! let chain = load_chain(&sources)?;
//! let mut engine = FilterEngine::new(chain, FilterEnv::default());
//! let scope = ScopeInput { module: Some("app.main"), file: "/src/app/main.py", qualname: "run" };
//! let decision = engine.decide_scope(0x1000, &scope).clone();
//! assert_eq!(decision.exec, Exec::Trace);
//! assert_eq!(engine.decide_value(&decision, ValueKind::Local, "db_password"), ValueAction::Redact);
//! assert_eq!(engine.decide_value(&decision, ValueKind::Local, "author"), ValueAction::Allow);
//! # Ok::<(), FilterError>(())
//! ```

pub mod argv;
pub mod builtin;
pub mod engine;
pub mod error;
pub mod loader;
pub mod model;
pub mod parse;
pub mod selector;
pub mod summary;
pub mod words;

pub use argv::redact_argv;
pub use builtin::{BUILTIN_DEFAULT, BUILTIN_PYTEST, BUILTIN_UNITTEST};
pub use engine::{FilterEngine, FilterEnv, RuleRef, ScopeDecision, ScopeInput, ValuePlan};
pub use error::{FilterError, Location};
pub use loader::{
    chain_sources, find_project_filter, find_project_root, load_chain, load_source,
    parse_filter_spec, ChainOptions, FilterChain, FilterSource, TestFramework,
};
pub use model::{
    Exec, FilterFile, FilterOrigin, ValueAction, ValueKind, DROPPED_MARKER, REDACTED_MARKER,
};
pub use summary::{FilterCounters, FilterEntry, FilterSummary, KindCounts};
