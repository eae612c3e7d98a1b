//! The builtin filters: secrets, stdlib / site-packages / synthetic / recorder skipping,
//! pytest and unittest internals.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use codetracer_trace_filter::*;

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
fn builtin_default_redacts_whole_word_secrets() {
    let e = with_default(&[]);
    let d = e.resolve_scope(&scope(Some("app"), "/proj/app.py", "f"));
    for name in [
        "password",
        "PASSWORD",
        "db_password",
        "passwd",
        "client_secret",
        "SECRET_KEY",
        "token",
        "userToken",
        "api_key",
        "API-KEY",
        "apiKey",
        "APIKey",
        "apikey",
        "auth_token",
        "access_token",
        "refreshToken",
        "private_key",
        "credential",
        "aws_credentials",
        "cookie",
        "session_id",
        "sessionId",
        "ssn",
        "credit_card",
        "creditCard",
        "cvv",
        "iban",
        "jwt",
        "bearer",
        "Bearer-Token",
        "passwords",
        "tokens",
        "Authorization",
        "X-Api-Key",
        "AWS_SECRET_ACCESS_KEY",
        "password_confirmation",
        "token_value",
        "basic_auth",
        "auth_tokens",
    ] {
        for kind in ValueKind::ALL {
            assert_eq!(
                e.decide_value(&d, kind, name),
                ValueAction::Redact,
                "{kind} {name}"
            );
        }
    }
    for name in [
        "company_name",
        "span",
        "author",
        "tokenizer",
        "passage",
        "session",
        "key",
        "api",
        "secretary",
        "cookiecutter",
        "assn",
        "x",
        "max_tokens",
        "num_tokens",
        "token_count",
        "cookie_cutter",
        "password_strength",
        "auth_method",
    ] {
        assert_eq!(
            e.decide_value(&d, ValueKind::Local, name),
            ValueAction::Allow,
            "{name}"
        );
    }
}

#[test]
fn a_name_of_any_length_is_matched_by_its_last_words() {
    let e = with_default(&[]);
    let d = e.resolve_scope(&scope(Some("app"), "/proj/app.py", "f"));
    let long = format!("{}_password", vec!["word"; 40].join("_"));
    assert_eq!(
        e.decide_value(&d, ValueKind::Local, &long),
        ValueAction::Redact
    );
    let buried = format!("password_{}", vec!["word"; 40].join("_"));
    assert_eq!(
        e.decide_value(&d, ValueKind::Local, &buried),
        ValueAction::Allow
    );
}

#[test]
fn builtin_default_skips_stdlib_recorder_and_synthetic() {
    let e = with_default(&[]);
    assert_eq!(
        exec(&e, Some("os"), "/usr/lib/python3.12/os.py", "f"),
        Exec::Skip
    );
    assert_eq!(
        exec(&e, None, "/usr/lib/python3.12/json/decoder.py", "f"),
        Exec::Skip
    );
    assert_eq!(
        exec(
            &e,
            Some("requests"),
            "/usr/lib/python3.12/site-packages/requests/api.py",
            "get"
        ),
        Exec::Skip,
        "an installed package is not the user's code"
    );
    assert_eq!(
        exec(&e, None, "/usr/lib/python3.120/x.py", "f"),
        Exec::Trace,
        "component-wise"
    );
    for synthetic in ["<string>", "<stdin>", "<frozen importlib._bootstrap>"] {
        assert_eq!(
            exec(&e, None, synthetic, "<module>"),
            Exec::Skip,
            "{synthetic}"
        );
    }
    for module in [
        "codetracer_python_recorder",
        "codetracer_python_recorder.api",
        "codetracer_python_recorder_core._native",
    ] {
        assert_eq!(
            exec(&e, Some(module), "/somewhere/else.py", "f"),
            Exec::Skip,
            "{module}"
        );
    }
    assert_eq!(
        exec(&e, Some("codetracer_python_recorder_x"), "/p/x.py", "f"),
        Exec::Trace
    );
    assert_eq!(
        exec(
            &e,
            None,
            "/venv/lib/site-packages/codetracer_python_recorder/cli.py",
            "main"
        ),
        Exec::Skip,
        "by path when the module is unknown"
    );
    assert_eq!(exec(&e, Some("app"), "/proj/app.py", "main"), Exec::Trace);
}

#[test]
fn builtin_default_skips_installed_libraries_unless_asked() {
    let lib = "/usr/lib/python3.12/site-packages/pygments/lexer.py";
    let e = with_default(&[]);
    assert_eq!(
        exec(&e, Some("pygments.lexer"), lib, "get_tokens"),
        Exec::Skip
    );
    // Local code, an editable install's source folder, the project: recorded.
    assert_eq!(
        exec(&e, Some("mylib.core"), "/proj/src/mylib/core.py", "f"),
        Exec::Trace
    );
    // Libraries asked for: the recorder leaves `library_dirs` empty.
    let with_libraries = FilterEngine::new(
        load_chain(&[FilterSource::Builtin(BUILTIN_DEFAULT.into())]).unwrap(),
        FilterEnv {
            library_dirs: Vec::new(),
            ..env()
        },
    );
    assert_eq!(
        exec(&with_libraries, Some("pygments.lexer"), lib, "get_tokens"),
        Exec::Trace
    );
    // A later filter re-enables one library as it can any builtin rule.
    let e = with_default(&[FilterSource::Inline {
        name: "mine".into(),
        toml: "[meta]\nname = \"mine\"\nversion = 1\n[[scope.rules]]\n\
               selector = 'pkg:regex:^pygments(\\.|$)'\nexec = \"trace\"\n"
            .into(),
    }]);
    assert_eq!(
        exec(&e, Some("pygments.lexer"), lib, "get_tokens"),
        Exec::Trace
    );
    assert_eq!(
        exec(
            &e,
            Some("requests.api"),
            "/usr/lib/python3.12/site-packages/requests/api.py",
            "get"
        ),
        Exec::Skip
    );
}

#[test]
fn test_framework_builtins() {
    let e = with_default(&[FilterSource::Builtin(BUILTIN_PYTEST.into())]);
    let site = "/venv/lib/python3.12/site-packages";
    for (module, file) in [
        ("_pytest.runner", format!("{site}/_pytest/runner.py")),
        ("pytest", format!("{site}/pytest/__init__.py")),
        ("pluggy._hooks", format!("{site}/pluggy/_hooks.py")),
        ("py", format!("{site}/py.py")),
        ("iniconfig", format!("{site}/iniconfig/__init__.py")),
        ("xdist.remote", format!("{site}/xdist/remote.py")),
        (
            "execnet.gateway_base",
            format!("{site}/execnet/gateway_base.py"),
        ),
        ("pytest_timeout", format!("{site}/pytest_timeout.py")),
        (
            "pytest_asyncio.plugin",
            format!("{site}/pytest_asyncio/plugin.py"),
        ),
    ] {
        assert_eq!(exec(&e, Some(module), &file, "f"), Exec::Skip, "{module}");
        assert_eq!(exec(&e, None, &file, "f"), Exec::Skip, "{file}");
    }
    assert_eq!(
        exec(
            &e,
            Some("tests.test_app"),
            "/proj/tests/test_app.py",
            "test_x"
        ),
        Exec::Trace
    );
    assert_eq!(
        exec(&e, Some("conftest"), "/proj/conftest.py", "fixture"),
        Exec::Trace
    );
    assert_eq!(
        exec(&e, Some("pytest_plugin_x"), "/proj/pytest_plugin_x.py", "f"),
        Exec::Trace
    );

    let e = engine(&[FilterSource::Builtin(BUILTIN_UNITTEST.into())]);
    assert_eq!(
        exec(&e, Some("unittest.case"), "/any/unittest/case.py", "f"),
        Exec::Skip
    );
    assert_eq!(
        exec(
            &e,
            Some("tests.test_unittest"),
            "/proj/tests/test_unittest.py",
            "f"
        ),
        Exec::Trace
    );
}
