//! Loading filter chains: sources (builtin, file, inline), `::`-separated specs, the default
//! chain order, and project-root / project-filter discovery.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::builtin::{load_builtin, BUILTIN_DEFAULT, BUILTIN_PYTEST, BUILTIN_UNITTEST};
use crate::error::FilterError;
use crate::model::{FilterFile, FilterOrigin};
use crate::parse::parse_filter;

/// The folder marking a project root.
pub const PROJECT_DIR: &str = ".codetracer";
/// The project's default filter, relative to the project root.
pub const PROJECT_FILTER: &str = ".codetracer/trace-filter.toml";
/// Separator of filter specs (`a.toml::builtin-pytest::b.toml`).
pub const SPEC_SEPARATOR: &str = "::";

/// One entry of a filter chain, before loading.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FilterSource {
    /// A builtin filter by name (`builtin-default`, `builtin-pytest`, `builtin-unittest`).
    Builtin(String),
    /// A TOML file.
    File(PathBuf),
    /// TOML text given by the caller; `name` appears as `<inline:NAME>` in errors and metadata.
    Inline {
        /// The label.
        name: String,
        /// The TOML text.
        toml: String,
    },
}

/// Splits a `::`-separated spec into sources. Empty items are ignored; an item spelled
/// `builtin-NAME` (no `/`, `\` or `.`) names a builtin, anything else is a file path.
pub fn parse_filter_spec(spec: &str) -> Vec<FilterSource> {
    spec.split(SPEC_SEPARATOR)
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            if item.starts_with("builtin-") && !item.contains(['/', '\\', '.']) {
                FilterSource::Builtin(item.to_string())
            } else {
                FilterSource::File(PathBuf::from(item))
            }
        })
        .collect()
}

/// An ordered list of loaded filters (earliest first).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilterChain {
    filters: Vec<FilterFile>,
}

impl FilterChain {
    /// A chain of already-loaded filters, in order.
    pub fn from_filters(filters: Vec<FilterFile>) -> Self {
        FilterChain { filters }
    }

    /// The filters, earliest first.
    pub fn filters(&self) -> &[FilterFile] {
        &self.filters
    }

    /// Appends a filter at the end (highest precedence).
    pub fn push(&mut self, filter: FilterFile) {
        self.filters.push(filter);
    }
}

/// Loads one source.
pub fn load_source(source: &FilterSource) -> Result<FilterFile, FilterError> {
    match source {
        FilterSource::Builtin(name) => load_builtin(name),
        FilterSource::Inline { name, toml } => {
            parse_filter(FilterOrigin::Inline(name.clone()), toml, false)
        }
        FilterSource::File(path) => {
            let io_err = |source: io::Error| FilterError::Io {
                path: path.clone(),
                source,
            };
            if fs::metadata(path).map_err(io_err)?.is_dir() {
                return Err(io_err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "is a directory, not a filter file",
                )));
            }
            let text = fs::read_to_string(path).map_err(io_err)?;
            parse_filter(FilterOrigin::File(path.clone()), &text, false)
        }
    }
}

/// Loads every source in order; the first error stops loading.
pub fn load_chain(sources: &[FilterSource]) -> Result<FilterChain, FilterError> {
    sources
        .iter()
        .map(load_source)
        .collect::<Result<Vec<_>, _>>()
        .map(FilterChain::from_filters)
}

/// Test framework whose builtin filter joins the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TestFramework {
    /// `builtin-pytest`.
    Pytest,
    /// `builtin-unittest`.
    Unittest,
}

impl TestFramework {
    /// The framework named `pytest` or `unittest`; `None` for any other name.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "pytest" => Some(Self::Pytest),
            "unittest" => Some(Self::Unittest),
            _ => None,
        }
    }
}

/// What [`chain_sources`] assembles, in SPEC §6 order.
#[derive(Debug, Clone, Default)]
pub struct ChainOptions<'a> {
    /// Adds `builtin-pytest` / `builtin-unittest` after `builtin-default`.
    pub test_framework: Option<TestFramework>,
    /// Where to start looking for `.codetracer/trace-filter.toml` (usually the script's folder).
    pub project_start_dir: Option<&'a Path>,
    /// The value of `CODETRACER_TRACE_FILTER`, if set.
    pub env_spec: Option<&'a str>,
    /// Explicit sources (`--trace-filter`, `trace_filter=`), in order.
    pub explicit: &'a [FilterSource],
}

/// The standard chain: `builtin-default` → test framework builtin → project default filter →
/// env spec → explicit sources.
pub fn chain_sources(options: &ChainOptions<'_>) -> Vec<FilterSource> {
    let mut sources = vec![FilterSource::Builtin(BUILTIN_DEFAULT.to_string())];
    match options.test_framework {
        Some(TestFramework::Pytest) => sources.push(FilterSource::Builtin(BUILTIN_PYTEST.into())),
        Some(TestFramework::Unittest) => {
            sources.push(FilterSource::Builtin(BUILTIN_UNITTEST.into()))
        }
        None => {}
    }
    if let Some(path) = options.project_start_dir.and_then(find_project_filter) {
        sources.push(FilterSource::File(path));
    }
    if let Some(spec) = options.env_spec {
        sources.extend(parse_filter_spec(spec));
    }
    sources.extend(options.explicit.iter().cloned());
    sources
}

fn ancestors_of(start: &Path) -> impl Iterator<Item = &Path> {
    let first = if start.is_file() {
        start.parent().unwrap_or(start)
    } else {
        start
    };
    first.ancestors()
}

/// The nearest folder at or above `start` (a folder, or a file whose folder is used) that
/// holds a `.codetracer/` folder.
pub fn find_project_root(start: &Path) -> Option<PathBuf> {
    ancestors_of(start)
        .find(|dir| dir.join(PROJECT_DIR).is_dir())
        .map(Path::to_path_buf)
}

/// The nearest `.codetracer/trace-filter.toml` at or above `start`.
pub fn find_project_filter(start: &Path) -> Option<PathBuf> {
    ancestors_of(start)
        .map(|dir| dir.join(PROJECT_FILTER))
        .find(|path| path.is_file())
}
