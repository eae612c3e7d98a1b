//! Prints the `CODETRACER_*` environment variable table (Markdown) generated from
//! `codetracer_policy::ENV_VARS`, as pasted into the crate README:
//! `cargo run -p codetracer-policy --example env_table`.

fn main() {
    print!("{}", codetracer_policy::env::env_vars_markdown());
}
