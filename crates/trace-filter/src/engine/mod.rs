//! The compiled decision engine: scope decisions cached per caller key, value decisions
//! from the scope's accumulated value patterns, counters and the metadata summary.
//!
//! Typical use by a recorder: on the first event of a code object call
//! [`FilterEngine::decide_scope`] with a key derived from the code object (its address) and
//! disable the code's events when the result is [`Exec::Skip`]; for every value recorded in
//! traced code ask [`FilterEngine::decide_value`] (pure) or [`FilterEngine::value_action`]
//! (cached and counted).

mod compile;
mod hash;

use std::path::PathBuf;
use std::sync::Arc;

pub use hash::{FxHashMap, FxHasher};

use crate::loader::FilterChain;
use crate::model::{Exec, ValueAction, ValueKind};
use crate::summary::{FilterCounters, FilterSummary};
use compile::Compiled;

/// What the engine needs to know about the interpreter and the project (it cannot ask
/// Python itself).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilterEnv {
    /// Standard library folders (`sysconfig` `stdlib`/`platstdlib`, e.g. `/usr/lib/python3.12`).
    pub stdlib_dirs: Vec<PathBuf>,
    /// site-packages / dist-packages folders (`site.getsitepackages()`, user site, venv);
    /// files under them are never "standard library" even inside a stdlib folder.
    pub site_packages_dirs: Vec<PathBuf>,
    /// Folders of installed third-party packages for `env:libraries` (usually the
    /// site-packages folders; empty when the user asked to record libraries too).
    pub library_dirs: Vec<PathBuf>,
    /// The project root (see [`crate::loader::find_project_root`]); `file` selectors match
    /// paths relative to it.
    pub project_root: Option<PathBuf>,
}

/// The scope being decided: one code object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScopeInput<'a> {
    /// Dotted module name, when known (`pkg` and `obj` selectors never match without it).
    pub module: Option<&'a str>,
    /// Absolute file path (`co_filename`) or a synthetic name like `<string>`.
    pub file: &'a str,
    /// `co_qualname` (`Class.method`, `outer.<locals>.inner`, `<module>`).
    pub qualname: &'a str,
}

/// Which rule decided a scope's `exec` (filter index in the chain, rule index in the file;
/// both 0-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RuleRef {
    /// Index of the filter in the chain.
    pub filter: usize,
    /// Index of the rule in that filter.
    pub rule: usize,
}

/// The accumulated value patterns of a scope, per kind, earliest-applicable first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValuePlan {
    by_kind: [Vec<u32>; 5],
}

impl ValuePlan {
    /// How many patterns apply to `kind`.
    pub fn len(&self, kind: ValueKind) -> usize {
        self.by_kind[kind.index()].len()
    }
}

/// The decision for one scope. Cheap to clone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeDecision {
    /// Trace or skip.
    pub exec: Exec,
    /// The action for values no pattern matches.
    pub value_default: ValueAction,
    /// The rule that set `exec`, `None` when it comes from the filters' defaults.
    pub exec_rule: Option<RuleRef>,
    /// The value patterns, later rules first.
    pub values: Arc<ValuePlan>,
}

impl ScopeDecision {
    /// Whether the scope is traced.
    pub fn is_traced(&self) -> bool {
        self.exec == Exec::Trace
    }

    /// A fingerprint of everything that decides the values of `kind` in this scope (its
    /// default action and its patterns of that kind): two decisions of one engine with the
    /// same fingerprint give every name of that kind the same action. Never 0, so callers can
    /// use 0 for "no filtering".
    pub fn value_fingerprint(&self, kind: ValueKind) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = FxHasher::default();
        self.value_default.hash(&mut h);
        self.values.by_kind[kind.index()].hash(&mut h);
        h.finish() | 1
    }
}

/// A compiled chain with its caches and counters.
#[derive(Debug)]
pub struct FilterEngine {
    chain: FilterChain,
    env: FilterEnv,
    /// Shared by the engines [`FilterEngine::fresh`] makes (compiled once, immutable).
    compiled: Arc<Compiled>,
    scopes: FxHashMap<u64, ScopeDecision>,
    values: FxHashMap<(u64, ValueKind), FxHashMap<Box<str>, ValueAction>>,
    counters: FilterCounters,
}

impl FilterEngine {
    /// Compiles `chain` once for `env`.
    pub fn new(chain: FilterChain, env: FilterEnv) -> Self {
        let compiled = Arc::new(Compiled::new(&chain));
        FilterEngine {
            chain,
            env,
            compiled,
            scopes: FxHashMap::default(),
            values: FxHashMap::default(),
            counters: FilterCounters::default(),
        }
    }

    /// A new engine for the same chain and environment with empty caches and zero counters,
    /// sharing this one's compiled matchers (no recompilation): what a process that records
    /// many times with one chain (one trace per test) starts each recording from.
    pub fn fresh(&self) -> Self {
        FilterEngine {
            chain: self.chain.clone(),
            env: self.env.clone(),
            compiled: Arc::clone(&self.compiled),
            scopes: FxHashMap::default(),
            values: FxHashMap::default(),
            counters: FilterCounters::default(),
        }
    }

    /// The decision for the scope identified by `key` (e.g. a code object address): resolved
    /// on first sight (bumping `scopes_skipped` when skipped), then served from the cache.
    /// The caller guarantees that one key always denotes the same scope.
    #[inline]
    pub fn decide_scope(&mut self, key: u64, scope: &ScopeInput<'_>) -> &ScopeDecision {
        let compiled = &self.compiled;
        let env = &self.env;
        let counters = &mut self.counters;
        self.scopes.entry(key).or_insert_with(|| {
            let decision = compiled.resolve(env, scope);
            if decision.exec == Exec::Skip {
                counters.scopes_skipped += 1;
                if decision
                    .exec_rule
                    .is_some_and(|rule| compiled.is_libraries_rule(rule))
                {
                    counters.libraries_skipped += 1;
                }
            }
            decision
        })
    }

    /// Resolves a scope without the cache and without counting.
    pub fn resolve_scope(&self, scope: &ScopeInput<'_>) -> ScopeDecision {
        self.compiled.resolve(&self.env, scope)
    }

    /// The cached decision of `key`, if [`FilterEngine::decide_scope`] saw it.
    pub fn cached_scope(&self, key: u64) -> Option<&ScopeDecision> {
        self.scopes.get(&key)
    }

    /// The action for value `name` of `kind` in a scope: the first of the scope's patterns
    /// (later rules first) of that kind matching `name`, else the scope's `value_default`.
    /// Pure: no cache, no counting.
    #[inline]
    pub fn decide_value(
        &self,
        decision: &ScopeDecision,
        kind: ValueKind,
        name: &str,
    ) -> ValueAction {
        decision.values.by_kind[kind.index()]
            .iter()
            .filter_map(|&i| self.compiled.patterns.get(i as usize))
            .find(|p| p.matcher.is_match(name))
            .map_or(decision.value_default, |p| p.action)
    }

    /// Like [`FilterEngine::decide_value`] for the scope cached under `scope_key`, cached per
    /// `(scope_key, kind, name)`, and counted in the counters (call it once per recorded
    /// value). `None` when `scope_key` was never decided.
    pub fn value_action(
        &mut self,
        scope_key: u64,
        kind: ValueKind,
        name: &str,
    ) -> Option<ValueAction> {
        let cached = self
            .values
            .get(&(scope_key, kind))
            .and_then(|per_scope| per_scope.get(name))
            .copied();
        let action = match cached {
            Some(action) => action,
            None => {
                let action = self.decide_value(self.scopes.get(&scope_key)?, kind, name);
                self.values
                    .entry((scope_key, kind))
                    .or_default()
                    .insert(name.into(), action);
                action
            }
        };
        self.counters.record_value(kind, action);
        Some(action)
    }

    /// Forgets every cached decision (counters are kept).
    pub fn clear_cache(&mut self) {
        self.scopes.clear();
        self.values.clear();
    }

    /// The counters so far.
    pub fn counters(&self) -> &FilterCounters {
        &self.counters
    }

    /// The counters, for a caller that counts recorded values itself
    /// ([`FilterCounters::record_value`]).
    pub fn counters_mut(&mut self) -> &mut FilterCounters {
        &mut self.counters
    }

    /// The chain this engine was compiled from.
    pub fn chain(&self) -> &FilterChain {
        &self.chain
    }

    /// The environment this engine was compiled for.
    pub fn env(&self) -> &FilterEnv {
        &self.env
    }

    /// The `trace_filter` metadata block: the chain and the current counters.
    pub fn summary(&self) -> FilterSummary {
        FilterSummary::new(&self.chain, self.counters)
    }
}
