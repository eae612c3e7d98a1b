//! Keeps the README in sync with the code: the environment table is the one generated from
//! `ENV_VARS`, and every field, CLI flag and error code is documented.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use codetracer_policy::env::env_vars_markdown;
use codetracer_policy::{error_codes, ENV_VARS, FIELDS};

const README: &str = include_str!("../README.md");

#[test]
fn readme_contains_the_generated_env_table() {
    assert!(
        README.contains(&env_vars_markdown()),
        "README env table is stale: run `cargo run -p codetracer-policy --example env_table`"
    );
}

#[test]
fn readme_documents_every_field_flag_and_code() {
    for field in FIELDS {
        assert!(README.contains(&format!("| `{field}` |")), "field {field}");
    }
    for var in ENV_VARS {
        assert!(
            README.contains(&var.cli_flag.replace('|', "\\|")),
            "flag {}",
            var.cli_flag
        );
    }
    for code in error_codes::ALL {
        assert!(README.contains(&format!("| `{code}` |")), "code {code}");
    }
}
