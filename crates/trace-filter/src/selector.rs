//! Selector grammar: `kind:pattern` or `kind:match:pattern`, and its compiled matchers.
//!
//! * scope kinds: `pkg` (dotted module name), `file` (project-relative path, `/`-separated),
//!   `obj` (`module.qualname`);
//! * value kinds: `local`, `global`, `arg`, `ret`, `attr`;
//! * matchers: `glob` (default), `regex` (unanchored search), `literal` (exact equality).
//!
//! Glob: `**` matches anything; `*` and `?` stay within one segment: they never cross `/`
//! for `file`, nor `.` for `pkg`, `obj` and value kinds. Other characters match themselves.
//!
//! Builtin filters may also use two kinds user files cannot spell: the scope kind `env`
//! (`env:stdlib`, `env:synthetic`, `env:libraries`, resolved against [`crate::engine::FilterEnv`]) and the
//! match kind `words` (`local:words:password|api_key`, see [`crate::words`]).

use std::fmt;

use regex::Regex;

use crate::model::ValueKind;
use crate::words::WordSequences;

/// What a selector is matched against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SelectorKind {
    /// `pkg`: the dotted module name.
    Pkg,
    /// `file`: the path relative to the project root (absolute outside it).
    File,
    /// `obj`: `module.qualname`.
    Obj,
    /// `env` (builtin filters only): `stdlib`, `synthetic` or `libraries`.
    Env,
    /// A value kind: `local`, `global`, `arg`, `ret`, `attr`.
    Value(ValueKind),
}

impl SelectorKind {
    /// Scope kinds user files may use.
    pub const SCOPE_ALLOWED: &'static str = "pkg, file, obj";
    /// Value kinds user files may use.
    pub const VALUE_ALLOWED: &'static str = "local, global, arg, ret, attr";

    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "pkg" => Self::Pkg,
            "file" => Self::File,
            "obj" => Self::Obj,
            "env" => Self::Env,
            "local" => Self::Value(ValueKind::Local),
            "global" => Self::Value(ValueKind::Global),
            "arg" => Self::Value(ValueKind::Arg),
            "ret" => Self::Value(ValueKind::Return),
            "attr" => Self::Value(ValueKind::Attr),
            _ => return None,
        })
    }

    /// The spelling used in selectors.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pkg => "pkg",
            Self::File => "file",
            Self::Obj => "obj",
            Self::Env => "env",
            Self::Value(kind) => kind.as_str(),
        }
    }

    /// Whether this kind selects scopes (as opposed to values).
    pub fn is_scope(self) -> bool {
        !matches!(self, Self::Value(_))
    }

    fn separator(self) -> char {
        if self == Self::File {
            '/'
        } else {
            '.'
        }
    }
}

/// How a selector's pattern is matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchKind {
    /// `glob` (the default).
    Glob,
    /// `regex`: Rust `regex` syntax, unanchored search (use `^...$` to anchor).
    Regex,
    /// `literal`: exact equality.
    Literal,
    /// `words` (builtin filters only): `|`-separated word sequences, see [`crate::words`].
    Words,
}

impl MatchKind {
    /// Match kinds user files may use.
    pub const ALLOWED: &'static str = "glob, regex, literal";

    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "glob" => Self::Glob,
            "regex" => Self::Regex,
            "literal" => Self::Literal,
            "words" => Self::Words,
            _ => return None,
        })
    }
}

/// A parsed selector (plain data; see [`Selector::compile`] for matching).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Selector {
    /// What it matches against.
    pub kind: SelectorKind,
    /// How.
    pub match_kind: MatchKind,
    /// The pattern text (after the kind and match prefixes).
    pub pattern: String,
    /// The selector exactly as written.
    pub raw: String,
}

/// Why a selector string was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelectorError {
    /// No `:` after the kind.
    MissingKind,
    /// The kind is unknown (or not allowed in this position).
    UnknownKind(String),
    /// The match kind is unknown (or builtin-only).
    UnknownMatch(String),
    /// Nothing after the prefixes.
    EmptyPattern,
    /// The regex (or the regex a glob compiles to) is invalid.
    InvalidRegex(String),
    /// `env:` with something other than `stdlib` / `synthetic` / `libraries`.
    UnknownEnv(String),
}

impl fmt::Display for SelectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingKind => f.write_str("expected `kind:pattern` or `kind:match:pattern`"),
            Self::UnknownKind(kind) => write!(f, "unknown selector kind `{kind}`"),
            Self::UnknownMatch(m) => write!(
                f,
                "unknown match kind `{m}`; allowed match kinds: {}",
                MatchKind::ALLOWED
            ),
            Self::EmptyPattern => f.write_str("the pattern is empty"),
            Self::InvalidRegex(msg) => write!(f, "invalid regex: {msg}"),
            Self::UnknownEnv(p) => write!(
                f,
                "unknown env selector `{p}` (stdlib, synthetic, libraries)"
            ),
        }
    }
}

impl Selector {
    /// Parses `kind:pattern` / `kind:match:pattern`. `builtin` admits the builtin-only
    /// kinds (`env`, `words`). The caller checks scope vs value position with
    /// [`SelectorKind::is_scope`]. The pattern is compiled once to validate it.
    pub fn parse(text: &str, builtin: bool) -> Result<Self, SelectorError> {
        let (kind_text, rest) = text.split_once(':').ok_or(SelectorError::MissingKind)?;
        let kind = SelectorKind::parse(kind_text)
            .filter(|k| builtin || *k != SelectorKind::Env)
            .ok_or_else(|| SelectorError::UnknownKind(kind_text.to_string()))?;
        let (match_kind, pattern) = match rest.split_once(':') {
            Some((m, p)) if looks_like_match_kind(m) => {
                let mk = MatchKind::parse(m)
                    .filter(|mk| builtin || *mk != MatchKind::Words)
                    .ok_or_else(|| SelectorError::UnknownMatch(m.to_string()))?;
                (mk, p)
            }
            _ => (MatchKind::Glob, rest),
        };
        if pattern.is_empty() {
            return Err(SelectorError::EmptyPattern);
        }
        let selector = Selector {
            kind,
            match_kind,
            pattern: pattern.to_string(),
            raw: text.to_string(),
        };
        selector.compile()?;
        Ok(selector)
    }

    /// Compiles the pattern into a [`Matcher`].
    pub fn compile(&self) -> Result<Matcher, SelectorError> {
        if self.kind == SelectorKind::Env {
            return match self.pattern.as_str() {
                "stdlib" => Ok(Matcher::Stdlib),
                "synthetic" => Ok(Matcher::Synthetic),
                "libraries" => Ok(Matcher::Libraries),
                other => Err(SelectorError::UnknownEnv(other.to_string())),
            };
        }
        match self.match_kind {
            MatchKind::Literal => Ok(Matcher::Literal(self.pattern.clone().into_boxed_str())),
            MatchKind::Regex => compile_regex(&self.pattern),
            MatchKind::Words => Ok(Matcher::Words(WordSequences::parse(&self.pattern))),
            MatchKind::Glob => {
                if self.pattern == "**" {
                    Ok(Matcher::Any)
                } else if !self.pattern.contains(['*', '?']) {
                    Ok(Matcher::Literal(self.pattern.clone().into_boxed_str()))
                } else {
                    compile_regex(&glob_to_regex(&self.pattern, self.kind.separator()))
                }
            }
        }
    }
}

/// A match kind is a run of lowercase ASCII letters of length >= 2; anything else before a
/// second `:` (e.g. the `C` of `file:C:/x`) belongs to the pattern.
fn looks_like_match_kind(text: &str) -> bool {
    text.len() >= 2 && text.bytes().all(|b| b.is_ascii_lowercase())
}

fn compile_regex(pattern: &str) -> Result<Matcher, SelectorError> {
    Regex::new(pattern)
        .map(Matcher::Regex)
        .map_err(|e| SelectorError::InvalidRegex(e.to_string()))
}

/// Translates a glob into an anchored regex; `*`/`?` never cross `sep`, `**` crosses.
pub fn glob_to_regex(glob: &str, sep: char) -> String {
    let not_sep = regex::escape(&sep.to_string());
    let mut out = String::with_capacity(glob.len() * 2 + 2);
    out.push('^');
    let mut chars = glob.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                out.push_str(".*");
            }
            '*' => out.push_str(&format!("[^{not_sep}]*")),
            '?' => out.push_str(&format!("[^{not_sep}]")),
            other => out.push_str(&regex::escape(other.encode_utf8(&mut [0u8; 4]))),
        }
    }
    out.push('$');
    out
}

/// A compiled selector pattern.
#[derive(Debug, Clone)]
pub enum Matcher {
    /// Matches everything (`**`).
    Any,
    /// Exact equality.
    Literal(Box<str>),
    /// Regex search (globs are compiled to anchored regexes).
    Regex(Regex),
    /// Whole-word sequence match on identifiers.
    Words(WordSequences),
    /// `env:stdlib`: resolved by the engine from the file path.
    Stdlib,
    /// `env:synthetic`: resolved by the engine from the file name (`<...>`).
    Synthetic,
    /// `env:libraries`: a file of an installed third-party package (under one of
    /// [`crate::engine::FilterEnv`]'s `library_dirs`).
    Libraries,
}

impl Matcher {
    /// Matches a text target. The `env:` matchers never match here (the engine resolves them).
    pub fn is_match(&self, text: &str) -> bool {
        match self {
            Matcher::Any => true,
            Matcher::Literal(lit) => **lit == *text,
            Matcher::Regex(re) => re.is_match(text),
            Matcher::Words(words) => words.is_match(text),
            Matcher::Stdlib | Matcher::Synthetic | Matcher::Libraries => false,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn m(sel: &str, target: &str) -> bool {
        Selector::parse(sel, false)
            .unwrap()
            .compile()
            .unwrap()
            .is_match(target)
    }

    #[test]
    fn parses_kinds_and_match_kinds() {
        let s = Selector::parse("local:regex:^a$", false).unwrap();
        assert_eq!(s.kind, SelectorKind::Value(ValueKind::Local));
        assert_eq!(s.match_kind, MatchKind::Regex);
        assert_eq!(s.pattern, "^a$");
        let s = Selector::parse("pkg:my_app.*", false).unwrap();
        assert_eq!((s.kind, s.match_kind), (SelectorKind::Pkg, MatchKind::Glob));
        for (text, kind) in [
            ("global:x", ValueKind::Global),
            ("arg:x", ValueKind::Arg),
            ("ret:x", ValueKind::Return),
            ("attr:x", ValueKind::Attr),
        ] {
            assert_eq!(
                Selector::parse(text, false).unwrap().kind,
                SelectorKind::Value(kind)
            );
        }
        assert_eq!(
            Selector::parse("file:C:/x/*.py", false).unwrap().pattern,
            "C:/x/*.py"
        );
    }

    #[test]
    fn rejects_bad_selectors() {
        assert_eq!(
            Selector::parse("nope", false),
            Err(SelectorError::MissingKind)
        );
        assert_eq!(
            Selector::parse("module:x", false),
            Err(SelectorError::UnknownKind("module".into()))
        );
        assert_eq!(
            Selector::parse("pkg:fuzzy:x", false),
            Err(SelectorError::UnknownMatch("fuzzy".into()))
        );
        assert_eq!(
            Selector::parse("pkg:regex:", false),
            Err(SelectorError::EmptyPattern)
        );
        assert!(matches!(
            Selector::parse("pkg:regex:(", false),
            Err(SelectorError::InvalidRegex(_))
        ));
        // builtin-only spellings
        assert!(Selector::parse("env:stdlib", false).is_err());
        assert!(Selector::parse("local:words:token", false).is_err());
        assert!(Selector::parse("env:stdlib", true).is_ok());
        assert!(Selector::parse("env:other", true).is_err());
    }

    #[test]
    fn glob_star_stays_in_segment() {
        assert!(m("pkg:my_app.*", "my_app.services"));
        assert!(!m("pkg:my_app.*", "my_app.services.db"));
        assert!(m("pkg:my_app.**", "my_app.services.db"));
        assert!(!m("pkg:my_app.*", "my_app"));
        assert!(m("file:src/*.py", "src/a.py"));
        assert!(!m("file:src/*.py", "src/sub/a.py"));
        assert!(m("file:src/**.py", "src/sub/a.py"));
        assert!(m("file:src/**/*.py", "src/sub/deep/a.py"));
        assert!(m("file:*.py", "a.b.py"), "for files `*` may cross dots");
        assert!(m("obj:app.Class.*", "app.Class.method"));
        assert!(!m("obj:app.Class.*", "app.Class.method.<locals>.f"));
        assert!(m("local:tmp_?", "tmp_1"));
        assert!(m("pkg:**", "anything.at.all"));
    }

    #[test]
    fn regex_and_literal() {
        assert!(m("local:regex:^(metric|masked)_\\w+$", "metric_x"));
        assert!(!m("local:regex:^(metric|masked)_\\w+$", "other_x"));
        assert!(m("local:regex:secret", "my_secret_thing"), "unanchored");
        assert!(m("pkg:literal:a.*", "a.*"));
        assert!(!m("pkg:literal:a.*", "a.b"));
        assert!(m("pkg:a.b", "a.b"));
        assert!(!m("pkg:a.b", "a.bc"));
        assert!(m("file:regex:[.]py$", "x/y.py"));
    }
}
