//! Every loader error names the file, line, column and key, and says what is allowed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::PathBuf;

use codetracer_trace_filter::{load_chain, load_source, FilterError, FilterSource};

const META: &str = "[meta]\nname = \"t\"\nversion = 1\n";

/// Writes `text` to a temp file and loads it; returns (error message, path, error).
fn load_err(text: &str) -> (String, String, FilterError) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    fs::write(&path, text).unwrap();
    let err = load_source(&FilterSource::File(path.clone())).unwrap_err();
    (err.to_string(), path.display().to_string(), err)
}

fn assert_located(text: &str, line: u32, needles: &[&str]) -> FilterError {
    let (msg, path, err) = load_err(text);
    assert!(
        msg.starts_with(&format!("{path}:{line}:")),
        "expected {path}:{line}: in {msg}"
    );
    for needle in needles {
        assert!(msg.contains(needle), "expected {needle:?} in {msg}");
    }
    assert_eq!(err.code(), "ERR_INVALID_FILTER");
    assert_eq!(err.location().unwrap().line, line);
    err
}

#[test]
fn malformed_toml_has_line_and_column() {
    let err = assert_located(
        "[meta]\nname = \"t\"\nversion = = 1\n",
        3,
        &["invalid TOML"],
    );
    assert!(matches!(err, FilterError::Toml { .. }));
    assert!(err.location().unwrap().column > 1);
}

#[test]
fn missing_meta() {
    let err = assert_located(
        "[scope]\ndefault_exec = \"trace\"\n",
        1,
        &["missing required key `meta`"],
    );
    assert!(matches!(err, FilterError::MissingKey { key: "meta", .. }));
}

#[test]
fn missing_name_and_version() {
    assert_located("[meta]\nversion = 1\n", 1, &["`name`", "[meta]"]);
    assert_located("\n[meta]\nname = \"x\"\n", 2, &["`version`", "[meta]"]);
    assert_located(
        "[meta]\nname = \"\"\nversion = 1\n",
        2,
        &["meta.name", "non-empty string"],
    );
}

#[test]
fn version_zero_and_wrong_type() {
    assert_located(
        "[meta]\nname = \"t\"\nversion = 0\n",
        3,
        &["`meta.version`", "invalid value 0", "an integer >= 1"],
    );
    assert_located(
        "[meta]\nname = \"t\"\nversion = \"1\"\n",
        3,
        &["`meta.version`", "an integer >= 1"],
    );
}

#[test]
fn unknown_top_level_and_meta_keys() {
    assert_located(
        &format!("{META}[extra]\nx = 1\n"),
        4,
        &[
            "unknown key `extra`",
            "the top level",
            "allowed keys: meta, scope",
        ],
    );
    assert_located(
        "[meta]\nname = \"t\"\nversion = 1\nauthor = \"me\"\n",
        4,
        &[
            "unknown key `author`",
            "[meta]",
            "name, version, description",
        ],
    );
    assert_located(
        &format!("{META}[scope]\ndefault = \"trace\"\n"),
        5,
        &["unknown key `default`", "[scope]", "default_exec"],
    );
}

#[test]
fn unknown_rule_and_pattern_keys() {
    let text = format!(
        "{META}[[scope.rules]]\nselector = \"pkg:a\"\n\n[[scope.rules]]\nselector = \"pkg:b\"\nskip = true\n"
    );
    assert_located(
        &text,
        9,
        &[
            "unknown key `skip`",
            "[[scope.rules]] #2",
            "selector, exec, value_default, reason, value_patterns",
        ],
    );
    let text = format!(
        "{META}[[scope.rules]]\nselector = \"pkg:a\"\n[[scope.rules.value_patterns]]\nselector = \"local:x\"\naction = \"allow\"\nwhy = \"?\"\n"
    );
    assert_located(
        &text,
        9,
        &[
            "unknown key `why`",
            "scope.rules[1].value_patterns[1]",
            "selector, action",
        ],
    );
}

#[test]
fn selector_errors() {
    let rule = |sel: &str| format!("{META}[[scope.rules]]\nselector = \"{sel}\"\n");
    assert_located(
        &rule("module:a.b"),
        5,
        &[
            "`scope.rules[1].selector`",
            "unknown selector kind `module`",
            "pkg, file, obj",
        ],
    );
    assert_located(
        &rule("pkg:fuzzy:a"),
        5,
        &["unknown match kind `fuzzy`", "glob, regex, literal"],
    );
    assert_located(&rule("pkg:regex:(unclosed"), 5, &["invalid regex"]);
    assert_located(&rule("local:x"), 5, &["`local` is a value selector kind"]);
    assert_located(&rule("env:stdlib"), 5, &["unknown selector kind `env`"]);
    assert_located(&rule("pkg"), 5, &["kind:pattern"]);
    let pattern = |sel: &str| {
        format!(
            "{META}[[scope.rules]]\nselector = \"pkg:a\"\n[[scope.rules.value_patterns]]\nselector = \"{sel}\"\naction = \"allow\"\n"
        )
    };
    assert_located(
        &pattern("pkg:a"),
        7,
        &[
            "`pkg` is a scope selector kind",
            "local, global, arg, ret, attr",
        ],
    );
    assert_located(
        &pattern("local:words:token"),
        7,
        &["unknown match kind `words`"],
    );
}

#[test]
fn unknown_actions() {
    assert_located(
        &format!("{META}[scope]\ndefault_exec = \"maybe\"\n"),
        5,
        &[
            "`scope.default_exec`",
            "\"maybe\"",
            "\"trace\", \"skip\", \"inherit\"",
        ],
    );
    assert_located(
        &format!("{META}[scope]\ndefault_value_action = \"hide\"\n"),
        5,
        &[
            "`scope.default_value_action`",
            "\"allow\", \"redact\", \"drop\", \"inherit\"",
        ],
    );
    assert_located(
        &format!("{META}[[scope.rules]]\nselector = \"pkg:a\"\nvalue_default = \"mask\"\n"),
        6,
        &["`scope.rules[1].value_default`"],
    );
    assert_located(
        &format!(
            "{META}[[scope.rules]]\nselector = \"pkg:a\"\n[[scope.rules.value_patterns]]\nselector = \"local:a\"\naction = \"inherit\"\n"
        ),
        8,
        &["`scope.rules[1].value_patterns[1].action`", "\"allow\", \"redact\", \"drop\""],
    );
    assert_located(
        &format!("{META}[[scope.rules]]\nselector = \"pkg:a\"\nexec = true\n"),
        6,
        &["`scope.rules[1].exec`", "invalid value true"],
    );
}

#[test]
fn missing_file_and_directory_are_invalid_filters_like_malformed_ones() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.toml");
    let err = load_chain(&[FilterSource::File(missing.clone())]).unwrap_err();
    assert_eq!(err.code(), "ERR_INVALID_FILTER");
    assert!(matches!(err, FilterError::Io { ref path, .. } if *path == missing));
    assert!(err.to_string().contains(&missing.display().to_string()));

    let err = load_source(&FilterSource::File(dir.path().to_path_buf())).unwrap_err();
    assert_eq!(err.code(), "ERR_INVALID_FILTER");
    let msg = err.to_string();
    assert!(msg.contains("is a directory"), "{msg}");
    assert!(msg.contains(&dir.path().display().to_string()), "{msg}");
}

#[test]
fn inline_and_builtin_errors_name_their_source() {
    let err = load_source(&FilterSource::Inline {
        name: "cli".into(),
        toml: "[meta]\nname = \"x\"\nversion = 0\n".into(),
    })
    .unwrap_err();
    assert!(err.to_string().starts_with("<inline:cli>:3:"), "{err}");
    let err = load_source(&FilterSource::Builtin("builtin-nope".into())).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("builtin-nope") && msg.contains("builtin-default"),
        "{msg}"
    );
}

#[test]
fn chain_stops_at_first_error() {
    let dir = tempfile::tempdir().unwrap();
    let good: PathBuf = dir.path().join("good.toml");
    fs::write(&good, META).unwrap();
    let chain = load_chain(&[
        FilterSource::Builtin("builtin-default".into()),
        FilterSource::File(good.clone()),
    ])
    .unwrap();
    assert_eq!(chain.filters().len(), 2);
    assert!(load_chain(&[
        FilterSource::File(good),
        FilterSource::File(dir.path().join("x"))
    ])
    .is_err());
}
