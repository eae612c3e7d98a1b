//! `codetracer-policy`: the recorder policy of CodeTracer recorders.
//!
//! This crate owns the policy data model ([`RecorderPolicy`]: error handling, partial traces,
//! logging, IO capture, module naming, exit status, [`ValueLimits`], the trace files' [`TraceMode`]),
//! its defaults and
//! validation, partial updates ([`PolicyUpdate`]), the parsing of values from strings (CLI / API)
//! and of `CODETRACER_*` variables from a caller-supplied `(name, value)` iterator
//! ([`PolicyUpdate::from_env`], [`ENV_VARS`]), and the stable error codes of the recorder
//! ([`error_codes`]).
//!
//! It does not depend on Python. The process environment is read in one place only,
//! [`process_env`] (`clippy.toml` forbids `std::env::var*` everywhere else in the workspace).
//!
//! ```
//! use codetracer_policy::{IoCapture, PolicyUpdate, RecorderPolicy};
//!
//! let env = PolicyUpdate::from_env([("CODETRACER_CAPTURE_IO", "proxies+fd"), ("HOME", "/x")])?;
//! let mut explicit = PolicyUpdate::new();
//! explicit.set_field("max_value_depth", "5")?;
//! let policy = RecorderPolicy::resolve(env, explicit)?;
//! assert_eq!(policy.io_capture, IoCapture::ProxiesAndFd);
//! assert_eq!(policy.value_limits.max_depth, 5);
//! # Ok::<(), codetracer_policy::PolicyError>(())
//! ```

pub mod env;
pub mod error;
pub mod error_codes;
pub mod limits;
pub mod model;
pub mod options;
pub mod parse;
pub mod process_env;
pub mod trace_mode;
pub mod update;

pub use env::{EnvVar, SessionVars, ENV_VARS};
pub use error::PolicyError;
pub use limits::ValueLimits;
pub use model::RecorderPolicy;
pub use options::{IoCapture, LogLevel, OnRecorderError};
pub use trace_mode::TraceMode;
pub use update::{PolicyUpdate, FIELDS};
