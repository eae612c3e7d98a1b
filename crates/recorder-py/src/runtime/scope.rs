//! [`Scope`]: which code objects are recorded and what happens to their values, decided by the
//! trace-filter engine (`codetracer-trace-filter`) once per code object.
//!
//! This module assembles the filter chain (SPEC §6: `builtin-default` → project default
//! `.codetracer/trace-filter.toml` → `CODETRACER_TRACE_FILTER` → explicit filters), describes
//! the interpreter to the engine (stdlib and site-packages directories) and turns decisions
//! into the per-variable actions the recorder applies.

use std::path::{Path, PathBuf};

use codetracer_trace_filter::{
    chain_sources, find_project_root, load_chain, parse_filter_spec, ChainOptions, FilterEngine,
    FilterEnv, FilterError, FilterSource, ScopeInput, TestFramework, ValueAction, ValueKind,
};
use pyo3::prelude::*;

use crate::errors::RecorderFailure;
use crate::runtime::scope_cache::{engine_for, EngineKey};

/// The compiled filters of one recording.
pub struct Scope {
    engine: FilterEngine,
    key: EngineKey,
}

/// Converts a filter error — a malformed file or one that cannot be read, both the user's
/// input — into `UsageError` (`ERR_INVALID_FILTER`), keeping the loader's message (file, line,
/// key, what is allowed).
pub fn filter_failure(err: &FilterError) -> RecorderFailure {
    RecorderFailure::usage(crate::errors::codes::INVALID_FILTER, format!("{err}"))
}

/// The interpreter's stdlib and site-packages directories; the site-packages ones are also
/// the installed-library folders "just my code" skips, unless `include_libraries`.
fn filter_env(
    py: Python<'_>,
    project_root: Option<PathBuf>,
    include_libraries: bool,
) -> PyResult<FilterEnv> {
    let sysconfig = py.import("sysconfig")?;
    let paths = sysconfig.call_method0("get_paths")?;
    let get = |key: &str| -> Option<PathBuf> {
        paths
            .get_item(key)
            .ok()
            .and_then(|v| v.extract::<String>().ok())
            .map(PathBuf::from)
    };
    let mut stdlib_dirs: Vec<PathBuf> = ["stdlib", "platstdlib"]
        .iter()
        .filter_map(|k| get(k))
        .collect();
    let mut site_packages_dirs: Vec<PathBuf> = ["purelib", "platlib"]
        .iter()
        .filter_map(|k| get(k))
        .collect();
    // The base interpreter's directories too (a venv's stdlib lives in the base prefix).
    if let Ok(site) = py.import("site") {
        if let Ok(list) = site
            .call_method0("getsitepackages")
            .and_then(|v| v.extract::<Vec<String>>())
        {
            site_packages_dirs.extend(list.into_iter().map(PathBuf::from));
        }
        // The user site (`pip install --user`) holds installed packages too.
        if let Ok(user) = site
            .call_method0("getusersitepackages")
            .and_then(|v| v.extract::<String>())
        {
            site_packages_dirs.push(PathBuf::from(user));
        }
    }
    let canon = |v: &mut Vec<PathBuf>| {
        let extra: Vec<PathBuf> = v.iter().filter_map(|p| p.canonicalize().ok()).collect();
        v.extend(extra);
        v.sort();
        v.dedup();
    };
    canon(&mut stdlib_dirs);
    canon(&mut site_packages_dirs);
    let library_dirs = if include_libraries {
        Vec::new()
    } else {
        site_packages_dirs.clone()
    };
    Ok(FilterEnv {
        stdlib_dirs,
        site_packages_dirs,
        library_dirs,
        project_root,
    })
}

/// What a recording's filter chain is made of.
pub struct ScopeRequest<'a> {
    /// The folder the project default filter is searched from (the script's folder).
    pub start_dir: Option<&'a Path>,
    /// `CODETRACER_TRACE_FILTER`, when the environment applies.
    pub env_spec: Option<&'a str>,
    /// Explicit filter specs (`--trace-filter` / `trace_filter=`), each possibly `a::b`.
    pub explicit: &'a [String],
    /// Record installed third-party packages too (policy `include_libraries`).
    pub include_libraries: bool,
    /// The test framework whose builtin filter follows `builtin-default` (`--pytest`).
    pub test_framework: Option<TestFramework>,
}

impl Scope {
    /// Loads and compiles the chain (or reuses the engine of the previous recording made with
    /// the same chain, see [`crate::runtime::scope_cache`]); fails (before anything is
    /// written) on a bad filter.
    pub fn load(py: Python<'_>, request: &ScopeRequest<'_>) -> Result<Self, RecorderFailure> {
        let explicit: Vec<FilterSource> = request
            .explicit
            .iter()
            .flat_map(|s| parse_filter_spec(s))
            .map(absolute)
            .collect();
        let env_sources: Vec<FilterSource> = request
            .env_spec
            .map(parse_filter_spec)
            .unwrap_or_default()
            .into_iter()
            .map(absolute)
            .collect();
        // The same file named by the environment and explicitly is loaded once.
        let env_only: Vec<FilterSource> = env_sources
            .into_iter()
            .filter(|s| !explicit.contains(s))
            .collect();
        let env_spec = env_only
            .iter()
            .map(|s| match s {
                FilterSource::File(p) => p.display().to_string(),
                FilterSource::Builtin(n) => n.clone(),
                FilterSource::Inline { name, .. } => name.clone(),
            })
            .collect::<Vec<_>>()
            .join("::");
        let sources = chain_sources(&ChainOptions {
            test_framework: request.test_framework,
            project_start_dir: request.start_dir,
            env_spec: (!env_spec.is_empty()).then_some(env_spec.as_str()),
            explicit: &explicit,
        });
        let project_root = request.start_dir.and_then(find_project_root);
        let key = EngineKey::new(
            sources.clone(),
            project_root.clone(),
            request.include_libraries,
        );
        let engine = engine_for(key.clone(), || {
            let chain = load_chain(&sources).map_err(|e| filter_failure(&e))?;
            let env = filter_env(py, project_root, request.include_libraries).map_err(|e| {
                RecorderFailure::internal(format!("cannot read the interpreter's paths: {e}"))
            })?;
            Ok(FilterEngine::new(chain, env))
        })?;
        Ok(Self { engine, key })
    }

    /// Whether the code object `key` (file, qualname, module) is recorded.
    pub fn decide(&mut self, key: u64, module: Option<&str>, file: &str, qualname: &str) -> bool {
        self.engine
            .decide_scope(
                key,
                &ScopeInput {
                    module,
                    file,
                    qualname,
                },
            )
            .is_traced()
    }

    /// The action for a value of `kind` named `name` in the (already decided) scope `key`.
    pub fn value_action(&self, key: u64, kind: ValueKind, name: &str) -> ValueAction {
        match self.engine.cached_scope(key) {
            Some(decision) => self.engine.decide_value(decision, kind, name),
            None => ValueAction::Allow,
        }
    }

    /// What decides attributes and dict keys in the (already decided) scope `key`: scopes with
    /// the same fingerprint treat every name alike (never 0).
    pub fn attr_fingerprint(&self, key: u64) -> u64 {
        self.engine
            .cached_scope(key)
            .map_or(1, |d| d.value_fingerprint(ValueKind::Attr))
    }

    /// The action for an attribute (struct field) or `str` dict key named `name` in scope
    /// `key` (cached).
    pub fn attr_action(&mut self, key: u64, name: &str) -> ValueAction {
        self.engine
            .value_action(key, ValueKind::Attr, name)
            .unwrap_or(ValueAction::Allow)
    }

    /// Counts one recorded redaction / drop.
    #[inline]
    pub fn count(&mut self, kind: ValueKind, action: ValueAction) {
        if action != ValueAction::Allow {
            self.engine.counters_mut().record_value(kind, action);
        }
    }

    /// Zeroes the counters (the next recording of a series on the same decisions counts its
    /// own redactions, drops and first decisions).
    pub fn reset_counters(&mut self) {
        *self.engine.counters_mut() = codetracer_trace_filter::FilterCounters::default();
    }

    /// What the engine was made from (two recordings with equal keys decide alike).
    pub fn key(&self) -> &EngineKey {
        &self.key
    }

    /// The `trace_filter` block of `trace_metadata.json`.
    pub fn summary_json(&self) -> serde_json::Value {
        serde_json::to_value(self.engine.summary()).unwrap_or(serde_json::Value::Null)
    }
}

/// A file source with an absolute, canonical path (so one file named two ways is one entry,
/// and the metadata names it unambiguously); other sources unchanged.
fn absolute(source: FilterSource) -> FilterSource {
    match source {
        FilterSource::File(p) => {
            let abs = if p.is_absolute() {
                p
            } else {
                std::env::current_dir().map(|d| d.join(&p)).unwrap_or(p)
            };
            FilterSource::File(abs.canonicalize().unwrap_or(abs))
        }
        other => other,
    }
}

/// The stricter of two actions (drop > redact > allow).
pub fn stricter(a: ValueAction, b: ValueAction) -> ValueAction {
    let rank = |x: ValueAction| match x {
        ValueAction::Allow => 0,
        ValueAction::Redact => 1,
        ValueAction::Drop => 2,
    };
    if rank(a) >= rank(b) {
        a
    } else {
        b
    }
}
