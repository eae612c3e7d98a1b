//! Engine semantics: selector kinds, precedence, inherit, accumulation, builtins, caching,
//! counters and the summary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use codetracer_trace_filter::*;

fn inline(name: &str, body: &str) -> FilterSource {
    FilterSource::Inline {
        name: name.into(),
        toml: format!("[meta]\nname = \"{name}\"\nversion = 1\n{body}"),
    }
}

fn env() -> FilterEnv {
    FilterEnv {
        stdlib_dirs: vec![PathBuf::from("/usr/lib/python3.12")],
        site_packages_dirs: vec![PathBuf::from("/usr/lib/python3.12/site-packages")],
        library_dirs: vec![PathBuf::from("/usr/lib/python3.12/site-packages")],
        project_root: Some(PathBuf::from("/proj")),
    }
}

fn engine(sources: &[FilterSource]) -> FilterEngine {
    FilterEngine::new(load_chain(sources).unwrap(), env())
}

fn with_default(extra: &[FilterSource]) -> FilterEngine {
    let mut sources = vec![FilterSource::Builtin(BUILTIN_DEFAULT.into())];
    sources.extend_from_slice(extra);
    engine(&sources)
}

fn scope<'a>(module: Option<&'a str>, file: &'a str, qualname: &'a str) -> ScopeInput<'a> {
    ScopeInput {
        module,
        file,
        qualname,
    }
}

fn exec(e: &FilterEngine, module: Option<&str>, file: &str, qualname: &str) -> Exec {
    e.resolve_scope(&scope(module, file, qualname)).exec
}

#[test]
fn pkg_file_obj_selectors() {
    let e = engine(&[inline(
        "f",
        r#"
[[scope.rules]]
selector = "pkg:app.vendor.*"
exec = "skip"
[[scope.rules]]
selector = "file:generated/**"
exec = "skip"
[[scope.rules]]
selector = "obj:app.models.Model.*"
exec = "skip"
[[scope.rules]]
selector = "file:/opt/ext/*.py"
exec = "skip"
"#,
    )]);
    let t = |m: Option<&str>, f: &str, q: &str| exec(&e, m, f, q);
    assert_eq!(
        t(Some("app.vendor.six"), "/proj/app/vendor/six.py", "f"),
        Exec::Skip
    );
    assert_eq!(
        t(Some("app.vendor.x.y"), "/proj/app/vendor/x/y.py", "f"),
        Exec::Trace
    );
    assert_eq!(t(None, "/proj/generated/a/b.py", "f"), Exec::Skip);
    assert_eq!(t(None, "/proj/src/generated.py", "f"), Exec::Trace);
    assert_eq!(
        t(Some("app.models"), "/proj/app/models.py", "Model.save"),
        Exec::Skip
    );
    assert_eq!(
        t(
            Some("app.models"),
            "/proj/app/models.py",
            "Model.save.<locals>.f"
        ),
        Exec::Trace
    );
    assert_eq!(
        t(None, "/proj/app/models.py", "Model.save"),
        Exec::Trace,
        "obj needs a module"
    );
    assert_eq!(
        t(None, "/opt/ext/mod.py", "f"),
        Exec::Skip,
        "outside the root: absolute"
    );
}

#[test]
fn later_rules_override_field_by_field() {
    let e = engine(&[inline(
        "f",
        r#"
[scope]
default_exec = "trace"
default_value_action = "allow"
[[scope.rules]]
selector = "pkg:app.**"
exec = "skip"
value_default = "redact"
[[scope.rules]]
selector = "pkg:app.core.*"
exec = "trace"
[[scope.rules]]
selector = "pkg:app.core.db"
value_default = "inherit"
exec = "inherit"
"#,
    )]);
    let d = e.resolve_scope(&scope(Some("app.core.db"), "/proj/app/core/db.py", "q"));
    assert_eq!(d.exec, Exec::Trace, "second rule overrides exec");
    assert_eq!(
        d.value_default,
        ValueAction::Redact,
        "first rule's value_default survives"
    );
    assert_eq!(d.exec_rule, Some(RuleRef { filter: 0, rule: 1 }));
    let d = e.resolve_scope(&scope(Some("app.ui"), "/proj/app/ui.py", "q"));
    assert_eq!((d.exec, d.value_default), (Exec::Skip, ValueAction::Redact));
    let d = e.resolve_scope(&scope(Some("other"), "/proj/other.py", "q"));
    assert_eq!((d.exec, d.value_default), (Exec::Trace, ValueAction::Allow));
    assert_eq!(d.exec_rule, None);
}

#[test]
fn inherit_defaults_take_the_previous_filter() {
    let first = inline(
        "a",
        "[scope]\ndefault_exec = \"skip\"\ndefault_value_action = \"drop\"\n",
    );
    let second = inline(
        "b",
        "[scope]\ndefault_exec = \"inherit\"\ndefault_value_action = \"redact\"\n",
    );
    let third = inline("c", ""); // no [scope]: inherits both
    let e = engine(&[first, second, third]);
    let d = e.resolve_scope(&scope(Some("m"), "/proj/m.py", "f"));
    assert_eq!((d.exec, d.value_default), (Exec::Skip, ValueAction::Redact));
}

#[test]
fn later_filter_defaults_do_not_undo_earlier_rules() {
    let e = with_default(&[inline("user", "[scope]\ndefault_exec = \"trace\"\n")]);
    assert_eq!(
        exec(
            &e,
            Some("json"),
            "/usr/lib/python3.12/json/__init__.py",
            "<module>"
        ),
        Exec::Skip
    );
    // ... but a later rule does.
    let e = with_default(&[inline(
        "user",
        "[[scope.rules]]\nselector = \"pkg:json.**\"\nexec = \"trace\"\n",
    )]);
    assert_eq!(
        exec(
            &e,
            Some("json.decoder"),
            "/usr/lib/python3.12/json/decoder.py",
            "f"
        ),
        Exec::Trace
    );
}

#[test]
fn value_patterns_accumulate_later_first() {
    let e = with_default(&[inline(
        "user",
        r#"
[[scope.rules]]
selector = "pkg:app.**"
value_default = "allow"
[[scope.rules.value_patterns]]
selector = "local:regex:^(metric|masked)_\\w+$"
action = "allow"
[[scope.rules.value_patterns]]
selector = "local:tmp_*"
action = "drop"
[[scope.rules]]
selector = "pkg:app.secure"
[[scope.rules.value_patterns]]
selector = "local:literal:masked_token"
action = "drop"
[[scope.rules.value_patterns]]
selector = "arg:*"
action = "redact"
"#,
    )]);
    let d = e.resolve_scope(&scope(Some("app.secure"), "/proj/app/secure.py", "f"));
    assert_eq!(
        d.values.len(ValueKind::Local),
        4,
        "2 + 1 user patterns + 1 builtin"
    );
    let v = |kind, name| e.decide_value(&d, kind, name);
    assert_eq!(
        v(ValueKind::Local, "masked_token"),
        ValueAction::Drop,
        "latest rule first"
    );
    assert_eq!(v(ValueKind::Local, "metric_count"), ValueAction::Allow);
    assert_eq!(v(ValueKind::Local, "tmp_x"), ValueAction::Drop);
    assert_eq!(
        v(ValueKind::Local, "api_key"),
        ValueAction::Redact,
        "builtin redaction survives"
    );
    assert_eq!(v(ValueKind::Local, "user"), ValueAction::Allow);
    assert_eq!(v(ValueKind::Arg, "anything"), ValueAction::Redact);
    assert_eq!(v(ValueKind::Global, "password"), ValueAction::Redact);
    assert_eq!(
        v(ValueKind::Global, "tmp_x"),
        ValueAction::Allow,
        "kinds do not mix"
    );
    // An explicit later pattern may allow a secret on purpose.
    let e = with_default(&[inline(
        "user",
        "[[scope.rules]]\nselector = \"file:**\"\n[[scope.rules.value_patterns]]\nselector = \"local:literal:token\"\naction = \"allow\"\n",
    )]);
    let d = e.resolve_scope(&scope(None, "/proj/a.py", "f"));
    assert_eq!(
        e.decide_value(&d, ValueKind::Local, "token"),
        ValueAction::Allow
    );
    assert_eq!(
        e.decide_value(&d, ValueKind::Local, "access_token"),
        ValueAction::Redact
    );
}

#[test]
fn scope_cache_and_counters() {
    let mut e = with_default(&[]);
    let skipped = scope(Some("os"), "/usr/lib/python3.12/os.py", "f");
    assert_eq!(e.decide_scope(1, &skipped).exec, Exec::Skip);
    assert_eq!(e.decide_scope(1, &skipped).exec, Exec::Skip);
    // The key decides: same key, other input → cached answer.
    assert_eq!(
        e.decide_scope(1, &scope(Some("app"), "/proj/app.py", "f"))
            .exec,
        Exec::Skip
    );
    assert_eq!(e.counters().scopes_skipped, 1);
    assert_eq!(
        e.decide_scope(2, &scope(Some("app"), "/proj/app.py", "f"))
            .exec,
        Exec::Trace
    );
    assert!(e.cached_scope(2).unwrap().is_traced());

    assert_eq!(
        e.value_action(2, ValueKind::Local, "password"),
        Some(ValueAction::Redact)
    );
    assert_eq!(
        e.value_action(2, ValueKind::Local, "password"),
        Some(ValueAction::Redact)
    );
    assert_eq!(
        e.value_action(2, ValueKind::Arg, "x"),
        Some(ValueAction::Allow)
    );
    assert_eq!(e.value_action(99, ValueKind::Arg, "x"), None);
    e.counters_mut()
        .record_value(ValueKind::Attr, ValueAction::Drop);
    let c = *e.counters();
    assert_eq!(c.value_redactions.local, 2);
    assert_eq!(c.value_redactions.total(), 2);
    assert_eq!(c.value_drops.attr, 1);

    e.clear_cache();
    assert!(e.cached_scope(1).is_none());
    assert_eq!(e.counters().scopes_skipped, 1, "counters survive the cache");
}

#[test]
fn summary_serializes_to_the_metadata_shape() {
    let mut e = with_default(&[inline("mine", "")]);
    e.decide_scope(7, &scope(None, "<string>", "<module>"));
    e.counters_mut()
        .record_value(ValueKind::Return, ValueAction::Redact);
    let json = serde_json::to_value(e.summary()).unwrap();
    let filters = json["filters"].as_array().unwrap();
    assert_eq!(filters.len(), 2);
    assert_eq!(filters[0]["name"], "builtin-default");
    assert_eq!(filters[0]["version"], 1);
    assert_eq!(filters[0]["path"], "<inline:builtin-default>");
    assert_eq!(filters[1]["path"], "<inline:mine>");
    let sha = filters[1]["sha256"].as_str().unwrap();
    assert_eq!(sha.len(), 64);
    assert!(sha.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(json["stats"]["scopes_skipped"], 1);
    assert_eq!(json["stats"]["value_redactions"]["ret"], 1);
    assert_eq!(json["stats"]["value_drops"]["local"], 0);
    let kinds: Vec<_> = json["stats"]["value_drops"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(kinds.len(), 5);
}
