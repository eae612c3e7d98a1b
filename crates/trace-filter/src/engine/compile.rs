//! A chain compiled into matchers, and the pure (uncached) scope resolution.
//!
//! Resolution: start from `trace` / `allow`; each filter's non-`inherit` defaults replace
//! them in chain order; then every rule of every filter, in chain and file order, that
//! matches the scope overrides `exec` and `value_default` field by field (absent or
//! `inherit` fields change nothing), and its value patterns are prepended to the scope's
//! list (later rules first, file order within a rule).

use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;

use crate::loader::FilterChain;
use crate::model::{Exec, ValueAction, ValueKind};
use crate::selector::{Matcher, SelectorKind};

use super::{FilterEnv, RuleRef, ScopeDecision, ScopeInput, ValuePlan};

#[derive(Debug)]
pub(super) struct CompiledRule {
    kind: SelectorKind,
    matcher: Matcher,
    exec: Option<Exec>,
    value_default: Option<ValueAction>,
    /// Indexes into `Compiled::patterns`, file order.
    patterns: Vec<u32>,
    origin: RuleRef,
}

#[derive(Debug)]
pub(super) struct CompiledPattern {
    pub(super) kind: ValueKind,
    pub(super) matcher: Matcher,
    pub(super) action: ValueAction,
}

#[derive(Debug)]
pub(super) struct Compiled {
    default_exec: Exec,
    default_value: ValueAction,
    rules: Vec<CompiledRule>,
    pub(super) patterns: Vec<CompiledPattern>,
    needs_obj: bool,
    needs_file: bool,
}

impl Compiled {
    /// Whether `rule` is an `env:libraries` rule (the "just my code" skip).
    pub(super) fn is_libraries_rule(&self, rule: RuleRef) -> bool {
        self.rules
            .iter()
            .any(|r| r.origin == rule && matches!(r.matcher, Matcher::Libraries))
    }

    /// Compiles every selector. Selectors were validated by the loader, so a compile
    /// failure here (only possible for hand-built chains) makes the rule/pattern inert and
    /// is logged.
    pub(super) fn new(chain: &FilterChain) -> Self {
        let mut compiled = Compiled {
            default_exec: Exec::Trace,
            default_value: ValueAction::Allow,
            rules: Vec::new(),
            patterns: Vec::new(),
            needs_obj: false,
            needs_file: false,
        };
        for (f, filter) in chain.filters().iter().enumerate() {
            if let Some(exec) = filter.default_exec.resolve() {
                compiled.default_exec = exec;
            }
            if let Some(action) = filter.default_value_action.resolve() {
                compiled.default_value = action;
            }
            for (r, rule) in filter.rules.iter().enumerate() {
                let Some(matcher) = compile_logged(&rule.selector) else {
                    continue;
                };
                let mut patterns = Vec::with_capacity(rule.value_patterns.len());
                for pattern in &rule.value_patterns {
                    let (SelectorKind::Value(kind), Some(matcher)) =
                        (pattern.selector.kind, compile_logged(&pattern.selector))
                    else {
                        continue;
                    };
                    patterns.push(compiled.patterns.len() as u32);
                    compiled.patterns.push(CompiledPattern {
                        kind,
                        matcher,
                        action: pattern.action,
                    });
                }
                compiled.needs_obj |= rule.selector.kind == SelectorKind::Obj;
                compiled.needs_file |= rule.selector.kind == SelectorKind::File;
                compiled.rules.push(CompiledRule {
                    kind: rule.selector.kind,
                    matcher,
                    exec: rule.exec.and_then(|e| e.resolve()),
                    value_default: rule.value_default.and_then(|v| v.resolve()),
                    patterns,
                    origin: RuleRef { filter: f, rule: r },
                });
            }
        }
        compiled
    }

    /// Resolves one scope against every rule.
    pub(super) fn resolve(&self, env: &FilterEnv, scope: &ScopeInput<'_>) -> ScopeDecision {
        let file = if self.needs_file {
            relative_file(env, scope.file)
        } else {
            Cow::Borrowed(scope.file)
        };
        let obj = match (self.needs_obj, scope.module) {
            (true, Some(module)) => Some(format!("{module}.{}", scope.qualname)),
            _ => None,
        };
        let mut exec = self.default_exec;
        let mut value_default = self.default_value;
        let mut exec_rule = None;
        let mut matched: Vec<&CompiledRule> = Vec::new();
        for rule in &self.rules {
            let hit = match (&rule.kind, &rule.matcher) {
                (_, Matcher::Stdlib) => is_stdlib(env, scope.file),
                (_, Matcher::Synthetic) => is_synthetic(scope.file),
                (_, Matcher::Libraries) => is_library(env, scope.file),
                (SelectorKind::Pkg, m) => scope.module.is_some_and(|module| m.is_match(module)),
                (SelectorKind::File, m) => m.is_match(&file),
                (SelectorKind::Obj, m) => obj.as_deref().is_some_and(|o| m.is_match(o)),
                (SelectorKind::Env | SelectorKind::Value(_), _) => false,
            };
            if !hit {
                continue;
            }
            if let Some(e) = rule.exec {
                exec = e;
                exec_rule = Some(rule.origin);
            }
            if let Some(v) = rule.value_default {
                value_default = v;
            }
            if !rule.patterns.is_empty() {
                matched.push(rule);
            }
        }
        let mut plan = ValuePlan::default();
        for rule in matched.iter().rev() {
            for &index in &rule.patterns {
                if let Some(p) = self.patterns.get(index as usize) {
                    plan.by_kind[p.kind.index()].push(index);
                }
            }
        }
        ScopeDecision {
            exec,
            value_default,
            exec_rule,
            values: Arc::new(plan),
        }
    }
}

fn compile_logged(selector: &crate::selector::Selector) -> Option<Matcher> {
    match selector.compile() {
        Ok(m) => Some(m),
        Err(e) => {
            log::warn!("trace filter selector `{}` ignored: {e}", selector.raw);
            None
        }
    }
}

/// The `file` selector target: relative to the project root when under it, `/`-separated.
fn relative_file<'a>(env: &FilterEnv, file: &'a str) -> Cow<'a, str> {
    let rel = env
        .project_root
        .as_deref()
        .and_then(|root| Path::new(file).strip_prefix(root).ok());
    let text = match rel {
        Some(rel) => rel.to_string_lossy(),
        None => Cow::Borrowed(file),
    };
    if cfg!(windows) && text.contains('\\') {
        Cow::Owned(text.replace('\\', "/"))
    } else {
        text
    }
}

/// `<string>`, `<stdin>`, `<frozen importlib._bootstrap>`, ...
pub(super) fn is_synthetic(file: &str) -> bool {
    file.starts_with('<') && file.ends_with('>')
}

/// Under one of the installed-library folders.
pub(super) fn is_library(env: &FilterEnv, file: &str) -> bool {
    let path = Path::new(file);
    env.library_dirs.iter().any(|dir| path.starts_with(dir))
}

/// Under a stdlib dir and not under a site-packages dir (which often lives inside it).
pub(super) fn is_stdlib(env: &FilterEnv, file: &str) -> bool {
    let path = Path::new(file);
    env.stdlib_dirs.iter().any(|dir| path.starts_with(dir))
        && !env
            .site_packages_dirs
            .iter()
            .any(|dir| path.starts_with(dir))
}
