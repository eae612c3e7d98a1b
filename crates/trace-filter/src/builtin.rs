//! The builtin filters, as TOML text compiled into the crate: `builtin-default`,
//! `builtin-pytest`, `builtin-unittest`.
//!
//! They are ordinary filter files, except that they may use two builtin-only spellings:
//! the scope selectors `env:stdlib` (a file under one of [`crate::engine::FilterEnv`]'s
//! `stdlib_dirs` and not under any of its `site_packages_dirs`), `env:libraries` (a file
//! under one of its `library_dirs`: an installed third-party package) and `env:synthetic`
//! (a file name of the form `<...>`: `<string>`, `<stdin>`, `<frozen importlib._bootstrap>`), and
//! the match kind `words` (whole-word name matching, see [`crate::words`]).

use crate::error::FilterError;
use crate::model::{FilterFile, FilterOrigin};
use crate::parse::parse_filter;

/// Name of the filter every chain starts with.
pub const BUILTIN_DEFAULT: &str = "builtin-default";
/// Name of the pytest internals filter (test mode).
pub const BUILTIN_PYTEST: &str = "builtin-pytest";
/// Name of the unittest internals filter (test mode).
pub const BUILTIN_UNITTEST: &str = "builtin-unittest";

/// The word sequences builtin-default redacts: a name that ends with one of them is a secret
/// (see [`crate::words`] for the rule, its trailing form words and the counting words before
/// a plural).
pub const SECRET_WORDS: &str = "password|passwords|passwd|passphrase|secret|secrets|\
token|tokens|api_key|api_keys|apikey|apikeys|auth|authorization|auth_token|access_token|\
refresh_token|private_key|private_keys|secret_key|secret_keys|access_key|access_keys|\
signing_key|encryption_key|credential|credentials|cookie|cookies|session_id|session_ids|\
ssn|credit_card|credit_cards|cvv|iban|jwt|bearer";

const DEFAULT_TOML: &str = r#"[meta]
name = "builtin-default"
version = 1
description = "Just my code: skip the standard library, installed packages, the recorder and synthetic code; redact secrets."

[scope]
default_exec = "trace"
default_value_action = "allow"

[[scope.rules]]
selector = "env:stdlib"
exec = "skip"
reason = "standard library (site-packages excluded)"

[[scope.rules]]
selector = "env:libraries"
exec = "skip"
reason = "installed third-party package (record it with --include-libraries)"

[[scope.rules]]
selector = "env:synthetic"
exec = "skip"
reason = "synthetic code such as <string> or <frozen ...>"

[[scope.rules]]
selector = "pkg:regex:^codetracer_python_recorder(_core)?(\\.|$)"
exec = "skip"
reason = "the recorder itself"

[[scope.rules]]
selector = "file:regex:(^|/)codetracer_python_recorder(_core)?/"
exec = "skip"
reason = "the recorder itself, by path"

[[scope.rules]]
selector = "file:**"
reason = "redact secrets everywhere"
[[scope.rules.value_patterns]]
selector = "local:words:@SECRETS@"
action = "redact"
[[scope.rules.value_patterns]]
selector = "global:words:@SECRETS@"
action = "redact"
[[scope.rules.value_patterns]]
selector = "arg:words:@SECRETS@"
action = "redact"
[[scope.rules.value_patterns]]
selector = "ret:words:@SECRETS@"
action = "redact"
[[scope.rules.value_patterns]]
selector = "attr:words:@SECRETS@"
action = "redact"
"#;

const PYTEST_TOML: &str = r#"[meta]
name = "builtin-pytest"
version = 1
description = "Skip pytest, pluggy, py, iniconfig and the machinery of installed pytest plugins; test modules, conftest, fixtures and the code under test stay traced."

[scope]
default_exec = "inherit"
default_value_action = "inherit"

[[scope.rules]]
selector = "pkg:regex:^(pytest|_pytest|pluggy|py|iniconfig|xdist|execnet|anyio\\.pytest_plugin)(\\.|$)"
exec = "skip"
reason = "pytest internals"

[[scope.rules]]
selector = "file:regex:(^|/)(site|dist)-packages/(pytest|_pytest|pluggy|py|iniconfig|xdist|execnet|pytest_[^/]+)(/|\\.py$)"
exec = "skip"
reason = "pytest internals and installed pytest plugins (pytest_timeout, pytest_asyncio, ...), by path"
"#;

const UNITTEST_TOML: &str = r#"[meta]
name = "builtin-unittest"
version = 1
description = "Skip unittest internals; test modules stay traced."

[scope]
default_exec = "inherit"
default_value_action = "inherit"

[[scope.rules]]
selector = "pkg:regex:^unittest(\\.|$)"
exec = "skip"
reason = "unittest internals"

[[scope.rules]]
selector = "file:regex:(^|/)unittest/[^/]+\\.py$"
exec = "skip"
reason = "unittest internals, by path"
"#;

/// Every builtin filter name.
pub const BUILTIN_NAMES: [&str; 3] = [BUILTIN_DEFAULT, BUILTIN_PYTEST, BUILTIN_UNITTEST];

/// The TOML source text of a builtin filter, or `None` for an unknown name.
pub fn builtin_source(name: &str) -> Option<String> {
    match name {
        BUILTIN_DEFAULT => Some(DEFAULT_TOML.replace("@SECRETS@", SECRET_WORDS)),
        BUILTIN_PYTEST => Some(PYTEST_TOML.to_string()),
        BUILTIN_UNITTEST => Some(UNITTEST_TOML.to_string()),
        _ => None,
    }
}

/// Loads a builtin filter by name.
pub fn load_builtin(name: &str) -> Result<FilterFile, FilterError> {
    let text = builtin_source(name).ok_or_else(|| FilterError::UnknownBuiltin {
        name: name.to_string(),
        allowed: BUILTIN_NAMES.join(", "),
    })?;
    parse_filter(FilterOrigin::Builtin(name.to_string()), &text, true)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn every_builtin_parses() {
        for name in BUILTIN_NAMES {
            let filter = load_builtin(name).unwrap();
            assert_eq!(filter.meta.name, name);
            assert!(!filter.rules.is_empty());
        }
        assert_eq!(
            load_builtin("builtin-nope").unwrap_err().code(),
            "ERR_INVALID_FILTER"
        );
    }
}
