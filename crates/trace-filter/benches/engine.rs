//! Criterion benches of the filter hot paths: scope resolution and value decisions, for a
//! baseline chain (builtin-default only), a glob-heavy chain (+50 glob rules) and a
//! regex-heavy chain (+50 regex rules), uncached and cached. Each iteration is exactly one
//! decision, so criterion's "time" is the cost per decision.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use codetracer_trace_filter::*;
use criterion::{criterion_group, criterion_main, Criterion};

const RULES: usize = 50;

fn glob_rules() -> String {
    let mut out = String::new();
    for i in 0..RULES {
        let (selector, exec) = match i % 3 {
            0 => (format!("pkg:app.mod{i}.*"), "skip"),
            1 => (format!("file:src/mod{i}/**/*.py"), "trace"),
            _ => (format!("obj:app.mod{i}.Class*.method_?"), "skip"),
        };
        out.push_str(&format!(
            "[[scope.rules]]\nselector = \"{selector}\"\nexec = \"{exec}\"\n\
             [[scope.rules.value_patterns]]\nselector = \"local:tmp{i}_*\"\naction = \"drop\"\n"
        ));
    }
    out
}

fn regex_rules() -> String {
    let mut out = String::new();
    for i in 0..RULES {
        let (selector, exec) = match i % 3 {
            0 => (format!("pkg:regex:^app\\\\.mod{i}(\\\\.|$)"), "skip"),
            1 => (format!("file:regex:^src/mod{i}/.*\\\\.py$"), "trace"),
            _ => (
                format!("obj:regex:^app\\\\.mod{i}\\\\.Class\\\\w*\\\\.method_\\\\d$"),
                "skip",
            ),
        };
        out.push_str(&format!(
            "[[scope.rules]]\nselector = \"{selector}\"\nexec = \"{exec}\"\n\
             [[scope.rules.value_patterns]]\nselector = \"local:regex:^tmp{i}_\\\\w+$\"\naction = \"drop\"\n"
        ));
    }
    out
}

fn engine(extra: Option<String>) -> FilterEngine {
    let mut sources = vec![FilterSource::Builtin(BUILTIN_DEFAULT.into())];
    if let Some(rules) = extra {
        sources.push(FilterSource::Inline {
            name: "bench".into(),
            toml: format!("[meta]\nname = \"bench\"\nversion = 1\n{rules}"),
        });
    }
    let env = FilterEnv {
        stdlib_dirs: vec![PathBuf::from("/usr/lib/python3.12")],
        site_packages_dirs: vec![PathBuf::from("/usr/lib/python3.12/site-packages")],
        library_dirs: vec![PathBuf::from("/usr/lib/python3.12/site-packages")],
        project_root: Some(PathBuf::from("/home/user/proj")),
    };
    FilterEngine::new(load_chain(&sources).unwrap(), env)
}

/// (module, file, qualname) triples: project code, stdlib, site-packages, synthetic.
fn scopes() -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for i in 0..64 {
        let (module, file) = match i % 4 {
            0 => (
                format!("app.mod{i}.sub"),
                format!("/home/user/proj/src/mod{i}/sub.py"),
            ),
            1 => (
                format!("json.mod{i}"),
                format!("/usr/lib/python3.12/json/mod{i}.py"),
            ),
            2 => (
                format!("requests.mod{i}"),
                format!("/usr/lib/python3.12/site-packages/requests/mod{i}.py"),
            ),
            _ => ("<string>".to_string(), "<string>".to_string()),
        };
        out.push((module, file, format!("Class{i}.method_{}", i % 10)));
    }
    out
}

const NAMES: [&str; 8] = [
    "self",
    "result",
    "db_password",
    "tmp3_buf",
    "userToken",
    "items",
    "company_name",
    "x",
];

fn bench_chain(c: &mut Criterion, label: &str, extra: Option<String>) {
    let inputs = scopes();
    let inputs: Vec<ScopeInput<'_>> = inputs
        .iter()
        .map(|(m, f, q)| ScopeInput {
            module: if m.starts_with('<') { None } else { Some(m) },
            file: f,
            qualname: q,
        })
        .collect();
    let mut group = c.benchmark_group(label);

    let mut e = engine(extra.clone());
    let mut i = 0usize;
    group.bench_function("scope_uncached", |b| {
        b.iter(|| {
            i = (i + 1) % inputs.len();
            black_box(e.resolve_scope(black_box(&inputs[i])).exec)
        })
    });
    for (key, input) in inputs.iter().enumerate() {
        e.decide_scope(key as u64, input);
    }
    group.bench_function("scope_cached", |b| {
        b.iter(|| {
            i = (i + 1) % inputs.len();
            black_box(e.decide_scope(black_box(i as u64), &inputs[i]).exec)
        })
    });

    let decision = e.resolve_scope(&inputs[0]);
    group.bench_function("value_uncached", |b| {
        b.iter(|| {
            i = (i + 1) % NAMES.len();
            black_box(e.decide_value(&decision, ValueKind::Local, black_box(NAMES[i])))
        })
    });
    for name in NAMES {
        e.value_action(0, ValueKind::Local, name);
    }
    group.bench_function("value_cached", |b| {
        b.iter(|| {
            i = (i + 1) % NAMES.len();
            black_box(e.value_action(0, ValueKind::Local, black_box(NAMES[i])))
        })
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    bench_chain(c, "baseline", None);
    bench_chain(c, "glob50", Some(glob_rules()));
    bench_chain(c, "regex50", Some(regex_rules()));
}

criterion_group! {
    name = filter;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(700));
    targets = benches
}
criterion_main!(filter);
