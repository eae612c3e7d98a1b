//! Specs, chain assembly and project-root / project-filter discovery.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::PathBuf;

use codetracer_trace_filter::*;

#[test]
fn parses_specs() {
    assert_eq!(
        parse_filter_spec("a.toml::builtin-pytest:: ::dir/b.toml::"),
        vec![
            FilterSource::File(PathBuf::from("a.toml")),
            FilterSource::Builtin("builtin-pytest".into()),
            FilterSource::File(PathBuf::from("dir/b.toml")),
        ]
    );
    assert_eq!(
        parse_filter_spec("C:\\f\\x.toml::builtin-x.toml"),
        vec![
            FilterSource::File(PathBuf::from("C:\\f\\x.toml")),
            FilterSource::File(PathBuf::from("builtin-x.toml")),
        ]
    );
    assert!(parse_filter_spec("").is_empty());
}

#[test]
fn finds_project_root_and_filter() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("proj");
    let deep = root.join("src/pkg");
    fs::create_dir_all(&deep).unwrap();
    fs::write(deep.join("main.py"), "print(1)\n").unwrap();
    assert_eq!(find_project_root(&deep), None);
    assert_eq!(find_project_filter(&deep), None);

    fs::create_dir_all(root.join(".codetracer")).unwrap();
    assert_eq!(find_project_root(&deep), Some(root.clone()));
    assert_eq!(
        find_project_root(&deep.join("main.py")),
        Some(root.clone()),
        "a file works"
    );
    assert_eq!(find_project_root(&root), Some(root.clone()));
    assert_eq!(find_project_filter(&deep), None, "no trace-filter.toml yet");

    let filter = root.join(".codetracer/trace-filter.toml");
    fs::write(&filter, "[meta]\nname = \"project\"\nversion = 2\n").unwrap();
    assert_eq!(find_project_filter(&deep), Some(filter.clone()));
}

#[test]
fn chain_order_follows_the_spec() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    fs::create_dir_all(root.join(".codetracer")).unwrap();
    let project = root.join(".codetracer/trace-filter.toml");
    fs::write(&project, "[meta]\nname = \"project\"\nversion = 2\n").unwrap();
    let env_file = root.join("env.toml");
    fs::write(&env_file, "[meta]\nname = \"env\"\nversion = 1\n").unwrap();
    let explicit = [FilterSource::Inline {
        name: "api".into(),
        toml: "[meta]\nname = \"api\"\nversion = 1\n".into(),
    }];
    let env_spec = format!("{}", env_file.display());
    let sources = chain_sources(&ChainOptions {
        test_framework: Some(TestFramework::Pytest),
        project_start_dir: Some(root),
        env_spec: Some(&env_spec),
        explicit: &explicit,
    });
    assert_eq!(
        sources,
        vec![
            FilterSource::Builtin("builtin-default".into()),
            FilterSource::Builtin("builtin-pytest".into()),
            FilterSource::File(project.clone()),
            FilterSource::File(env_file.clone()),
            explicit[0].clone(),
        ]
    );
    let chain = load_chain(&sources).unwrap();
    let names: Vec<_> = chain
        .filters()
        .iter()
        .map(|f| f.meta.name.as_str())
        .collect();
    assert_eq!(
        names,
        ["builtin-default", "builtin-pytest", "project", "env", "api"]
    );
    let summary = FilterEngine::new(chain, FilterEnv::default()).summary();
    assert_eq!(summary.filters[2].path, project.display().to_string());
    assert_eq!(summary.filters[2].version, 2);

    let minimal = chain_sources(&ChainOptions {
        test_framework: Some(TestFramework::Unittest),
        ..ChainOptions::default()
    });
    assert_eq!(
        minimal,
        vec![
            FilterSource::Builtin("builtin-default".into()),
            FilterSource::Builtin("builtin-unittest".into()),
        ]
    );
}

#[test]
fn project_relative_file_selectors() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().to_path_buf();
    let chain = load_chain(&[FilterSource::Inline {
        name: "f".into(),
        toml: "[meta]\nname = \"f\"\nversion = 1\n[[scope.rules]]\nselector = \"file:scripts/*.py\"\nexec = \"skip\"\n".into(),
    }])
    .unwrap();
    let engine = FilterEngine::new(
        chain,
        FilterEnv {
            project_root: Some(root.clone()),
            ..FilterEnv::default()
        },
    );
    let inside = root.join("scripts/gen.py").display().to_string();
    let decision = engine.resolve_scope(&ScopeInput {
        module: None,
        file: &inside,
        qualname: "f",
    });
    assert_eq!(decision.exec, Exec::Skip);
    let decision = engine.resolve_scope(&ScopeInput {
        module: None,
        file: "/elsewhere/scripts/gen.py",
        qualname: "f",
    });
    assert_eq!(decision.exec, Exec::Trace);
}
