//! Every TOML block of the README loads.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use codetracer_trace_filter::{load_source, FilterSource};

#[test]
fn readme_toml_blocks_load() {
    let readme = include_str!("../README.md");
    let blocks: Vec<&str> = readme
        .split("```toml\n")
        .skip(1)
        .filter_map(|rest| rest.split("```").next())
        .collect();
    assert!(blocks.len() >= 4, "format block + three examples");
    for (i, block) in blocks.iter().enumerate() {
        let source = FilterSource::Inline {
            name: format!("readme-{i}"),
            toml: (*block).to_string(),
        };
        if let Err(e) = load_source(&source) {
            panic!("README block {i} does not load: {e}\n{block}");
        }
    }
}
