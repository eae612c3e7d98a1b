//! The process's last compiled filter engine, reused by the next recording made with the same
//! chain (the pytest plugin starts one recording per test: loading and compiling the chain
//! was most of a start's cost).
//!
//! The key is everything the engine is made from: the chain's sources in order, the size and
//! modification time of every filter file among them (an edited file is loaded again), the
//! project root and `include_libraries` (which decide the interpreter-directory environment).
//! A hit hands out [`FilterEngine::fresh`]: empty caches, zero counters, the compiled
//! matchers shared.

use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};
use std::time::SystemTime;

use codetracer_trace_filter::{FilterEngine, FilterSource};

use crate::errors::RecorderFailure;

/// What one compiled engine was built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineKey {
    sources: Vec<FilterSource>,
    /// `(len, mtime)` of each file source, in order (`None`: it could not be read).
    stamps: Vec<Option<(u64, SystemTime)>>,
    project_root: Option<PathBuf>,
    include_libraries: bool,
}

impl EngineKey {
    /// The key of a chain of `sources` for `project_root` and `include_libraries`.
    pub fn new(
        sources: Vec<FilterSource>,
        project_root: Option<PathBuf>,
        include_libraries: bool,
    ) -> Self {
        let stamps = sources
            .iter()
            .filter_map(|s| match s {
                FilterSource::File(path) => Some(
                    std::fs::metadata(path)
                        .ok()
                        .and_then(|m| Some((m.len(), m.modified().ok()?))),
                ),
                _ => None,
            })
            .collect();
        Self {
            sources,
            stamps,
            project_root,
            include_libraries,
        }
    }
}

type Slot = Mutex<Option<(EngineKey, FilterEngine)>>;

static LAST: Slot = Mutex::new(None);

/// A fresh engine for `key`: from the cached one when `key` matches, else `build`'s (which
/// then becomes the cached one). A failed build leaves the cache as it was.
pub fn engine_for(
    key: EngineKey,
    build: impl FnOnce() -> Result<FilterEngine, RecorderFailure>,
) -> Result<FilterEngine, RecorderFailure> {
    engine_in(&LAST, key, build)
}

fn engine_in(
    slot: &Slot,
    key: EngineKey,
    build: impl FnOnce() -> Result<FilterEngine, RecorderFailure>,
) -> Result<FilterEngine, RecorderFailure> {
    let mut last = slot.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((cached_key, engine)) = last.as_ref() {
        if *cached_key == key {
            return Ok(engine.fresh());
        }
    }
    let engine = build()?;
    let fresh = engine.fresh();
    *last = Some((key, engine));
    Ok(fresh)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use codetracer_trace_filter::{FilterChain, FilterEnv};

    fn build(count: &mut u32) -> Result<FilterEngine, RecorderFailure> {
        *count += 1;
        Ok(FilterEngine::new(
            FilterChain::default(),
            FilterEnv::default(),
        ))
    }

    #[test]
    fn the_same_key_reuses_the_engine_and_a_changed_file_rebuilds_it() {
        let slot: Slot = Mutex::new(None);
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("f.toml");
        std::fs::write(&file, "a").unwrap();
        let sources = vec![
            FilterSource::Builtin("builtin-default".into()),
            FilterSource::File(file.clone()),
        ];
        let key = |libs| EngineKey::new(sources.clone(), None, libs);
        let mut builds = 0;
        for _ in 0..3 {
            engine_in(&slot, key(false), || build(&mut builds)).unwrap();
        }
        assert_eq!(builds, 1);
        std::fs::write(&file, "ab").unwrap(); // another size: loaded again
        engine_in(&slot, key(false), || build(&mut builds)).unwrap();
        assert_eq!(builds, 2);
        engine_in(&slot, key(true), || build(&mut builds)).unwrap(); // another flag
        assert_eq!(builds, 3);
        // A failed build leaves the cached engine (of `key(true)`) in place.
        let failed = engine_in(&slot, key(false), || Err(RecorderFailure::internal("boom")));
        assert!(failed.is_err());
        engine_in(&slot, key(true), || build(&mut builds)).unwrap();
        assert_eq!(builds, 3);
    }

    #[test]
    fn a_fresh_engine_starts_with_zero_counters() {
        let slot: Slot = Mutex::new(None);
        let mut builds = 0;
        let key = || EngineKey::new(Vec::new(), None, false);
        let mut first = engine_in(&slot, key(), || build(&mut builds)).unwrap();
        first.counters_mut().scopes_skipped += 5;
        let second = engine_in(&slot, key(), || build(&mut builds)).unwrap();
        assert_eq!(
            second.summary(),
            FilterEngine::new(FilterChain::default(), FilterEnv::default()).summary()
        );
    }
}
