//! `codetracer-module-identity`: real dotted module names for Python code.
//!
//! CodeTracer labels module-level code `<dotted.module.name>` instead of `<module>`
//! (SPEC §5.3). This crate owns the logic that finds that name, shared by the trace filter
//! (for `pkg:` selectors) and the recorder (for function labels), so both always agree.
//!
//! * The pure-Rust core ([`module_name_from_path`], [`is_synthetic_filename`],
//!   [`is_identifier`], [`is_dotted_name`], [`module_function_name`], [`normalize_path`])
//!   needs no Python and is always available.
//! * With the `python` feature (on by default; the workspace turns it off and the recorder
//!   opts back in), [`ModuleIdentityResolver`] resolves code objects and filenames using
//!   caller hints, `sys.path` roots and one cached `sys.modules` scan, and
//!   [`globals_name_hint`] reads `__spec__.name` / `__name__` from frame globals without
//!   running user code.
//!
//! See `README.md` for the resolution order.

mod names;
mod path;
#[cfg(feature = "python")]
mod python;
#[cfg(feature = "python")]
mod resolver;

pub use names::{
    is_dotted_name, is_identifier, is_synthetic_filename, module_function_name,
    UNKNOWN_MODULE_LABEL,
};
pub use path::{module_name_from_path, normalize_path};
#[cfg(feature = "python")]
pub use python::globals_name_hint;
#[cfg(feature = "python")]
pub use resolver::ModuleIdentityResolver;
