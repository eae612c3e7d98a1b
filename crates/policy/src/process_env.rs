//! The one place the process environment is read. Everything else in the recorder takes the
//! variables as an argument ([`PolicyUpdate::from_env`](crate::PolicyUpdate::from_env),
//! [`SessionVars::from_env`]), and `clippy.toml` forbids `std::env::var*` outside this module,
//! so every `CODETRACER_*` variable has one owner: this crate's [`ENV_VARS`](crate::ENV_VARS)
//! table.
#![allow(
    clippy::disallowed_methods,
    reason = "the one module allowed to read the process environment"
)]

use crate::env::SessionVars;

/// Every variable of the process environment, as `(name, value)` (values that are not valid
/// UTF-8 included).
pub fn vars() -> std::env::VarsOs {
    std::env::vars_os()
}

/// The session variables (`CODETRACER_TRACE`, `CODETRACER_FORMAT`, `CODETRACER_TRACE_FILTER`)
/// of the process environment.
pub fn session() -> SessionVars {
    SessionVars::from_env(vars())
}
