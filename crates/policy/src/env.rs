//! The `CODETRACER_*` environment variables: one table ([`ENV_VARS`]) documenting all of them,
//! and [`PolicyUpdate::from_env`] parsing the policy ones from a caller-supplied iterator.
//!
//! Rules for every variable:
//! - values are trimmed and compared case-insensitively (paths keep their case);
//! - an empty or all-blank value counts as **unset** (the variable is ignored), so
//!   `CODETRACER_LOG_LEVEL=` in a shell script does not fail;
//! - an invalid value is a [`PolicyError::InvalidEnv`] naming the variable, the value and what is
//!   accepted;
//! - names are exact (upper case); unrelated variables are ignored; when a name occurs twice the
//!   last value wins, like in an environment block.
//!
//! The session variables (`CODETRACER_TRACE`, `CODETRACER_FORMAT`, `CODETRACER_TRACE_FILTER`,
//! `CODETRACER_CHILD_SESSION`) are not policy fields: they are listed in the table for
//! documentation, [`SessionVars::from_env`] picks the first three out (trimmed, empty = unset)
//! for the session code, which interprets them.

use std::ffi::{OsStr, OsString};
use std::fmt::Write as _;
use std::path::PathBuf;

use crate::error::PolicyError;
use crate::update::PolicyUpdate;

/// One documented `CODETRACER_*` environment variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnvVar {
    /// The variable's name, e.g. `CODETRACER_LOG_LEVEL`.
    pub name: &'static str,
    /// The policy field it sets (a [`FIELDS`](crate::FIELDS) entry), or `None` for session
    /// variables that are not part of the policy.
    pub field: Option<&'static str>,
    /// The accepted values, human-readable.
    pub accepted: &'static str,
    /// The value when unset.
    pub default: &'static str,
    /// The equivalent CLI flag.
    pub cli_flag: &'static str,
    /// What it does, one sentence.
    pub description: &'static str,
}

/// Auto-start recording into this directory when the package is imported (session variable).
pub const ENV_TRACE: &str = "CODETRACER_TRACE";
/// Trace format for auto-start (session variable).
pub const ENV_FORMAT: &str = "CODETRACER_FORMAT";
/// Extra trace filter files, `::`-separated (session variable).
pub const ENV_TRACE_FILTER: &str = "CODETRACER_TRACE_FILTER";
/// Policy field `on_recorder_error`.
pub const ENV_ON_RECORDER_ERROR: &str = "CODETRACER_ON_RECORDER_ERROR";
/// Policy field `require_trace`.
pub const ENV_REQUIRE_TRACE: &str = "CODETRACER_REQUIRE_TRACE";
/// Policy field `keep_partial_trace`.
pub const ENV_KEEP_PARTIAL_TRACE: &str = "CODETRACER_KEEP_PARTIAL_TRACE";
/// Policy field `log_level`.
pub const ENV_LOG_LEVEL: &str = "CODETRACER_LOG_LEVEL";
/// Policy field `log_file`.
pub const ENV_LOG_FILE: &str = "CODETRACER_LOG_FILE";
/// Policy field `json_errors`.
pub const ENV_JSON_ERRORS: &str = "CODETRACER_JSON_ERRORS";
/// Policy field `io_capture`.
pub const ENV_CAPTURE_IO: &str = "CODETRACER_CAPTURE_IO";
/// Policy field `module_name_from_globals`.
pub const ENV_MODULE_NAME_FROM_GLOBALS: &str = "CODETRACER_MODULE_NAME_FROM_GLOBALS";
/// Policy field `propagate_script_exit`.
pub const ENV_PROPAGATE_SCRIPT_EXIT: &str = "CODETRACER_PROPAGATE_SCRIPT_EXIT";
/// Policy field `include_libraries`.
pub const ENV_INCLUDE_LIBRARIES: &str = "CODETRACER_INCLUDE_LIBRARIES";
/// Policy field `follow_children`.
pub const ENV_FOLLOW_CHILDREN: &str = "CODETRACER_FOLLOW_CHILDREN";
/// Set by a recording process for its children: where and how a child process records (JSON,
/// read by the session code; not for users).
pub const ENV_CHILD_SESSION: &str = "CODETRACER_CHILD_SESSION";
/// Policy field `max_value_depth`.
pub const ENV_MAX_VALUE_DEPTH: &str = "CODETRACER_MAX_VALUE_DEPTH";
/// Policy field `max_container_elements`.
pub const ENV_MAX_CONTAINER_ELEMENTS: &str = "CODETRACER_MAX_CONTAINER_ELEMENTS";
/// Policy field `max_string_length`.
pub const ENV_MAX_STRING_LENGTH: &str = "CODETRACER_MAX_STRING_LENGTH";
/// Policy field `max_value_nodes`.
pub const ENV_MAX_VALUE_NODES: &str = "CODETRACER_MAX_VALUE_NODES";
/// Policy field `allow_repr`.
pub const ENV_ALLOW_REPR: &str = "CODETRACER_ALLOW_REPR";
/// Policy field `trace_mode`.
pub const ENV_TRACE_MODE: &str = "CODETRACER_TRACE_MODE";

/// Accepted text shared by the boolean variables.
const BOOL: &str = "1/true/yes/on or 0/false/no/off";

/// Every `CODETRACER_*` variable the recorder reads: the session variables first, then the
/// policy variables in [`FIELDS`](crate::FIELDS) order. The README and `--help` are generated
/// from this table ([`env_vars_markdown`]).
pub const ENV_VARS: &[EnvVar] = &[
    EnvVar {
        name: ENV_TRACE,
        field: None,
        accepted: "a directory path",
        default: "unset (no auto-start)",
        cli_flag: "--trace-dir DIR",
        description: "Start recording into this directory when the interpreter starts (the installed `codetracer_python_recorder.pth`) or the package is imported; stop at interpreter exit.",
    },
    EnvVar {
        name: ENV_FORMAT,
        field: None,
        accepted: "binary, json",
        default: "binary",
        cli_flag: "--format binary|json",
        description: "Trace format of the auto-started recording.",
    },
    EnvVar {
        name: ENV_TRACE_FILTER,
        field: None,
        accepted: "filter file paths separated by `::`",
        default: "unset",
        cli_flag: "--trace-filter SPEC",
        description: "Trace filter files chained after the project default filter.",
    },
    EnvVar {
        name: ENV_CHILD_SESSION,
        field: None,
        accepted: "set by the recorder (JSON)",
        default: "unset",
        cli_flag: "--[no-]follow-children",
        description: "Set by a recording process for its children: where (and whether) a child Python process records; not meant to be set by hand.",
    },
    EnvVar {
        name: ENV_ON_RECORDER_ERROR,
        field: Some("on_recorder_error"),
        accepted: "abort, disable",
        default: "abort",
        cli_flag: "--on-recorder-error abort|disable",
        description: "On a recorder failure, stop with an error (abort) or detach and let the program finish untraced (disable).",
    },
    EnvVar {
        name: ENV_REQUIRE_TRACE,
        field: Some("require_trace"),
        accepted: BOOL,
        default: "false",
        cli_flag: "--require-trace",
        description: "Treat a recording without events as a failure.",
    },
    EnvVar {
        name: ENV_KEEP_PARTIAL_TRACE,
        field: Some("keep_partial_trace"),
        accepted: BOOL,
        default: "false",
        cli_flag: "--keep-partial-trace",
        description: "Keep the partial trace files after a failure.",
    },
    EnvVar {
        name: ENV_LOG_LEVEL,
        field: Some("log_level"),
        accepted: "off, error, warn, info, debug, trace (also none, critical, warning)",
        default: "warn",
        cli_flag: "--log-level LEVEL",
        description: "Most verbose level of the recorder's own log messages.",
    },
    EnvVar {
        name: ENV_LOG_FILE,
        field: Some("log_file"),
        accepted: "a file path",
        default: "unset (stderr)",
        cli_flag: "--log-file PATH",
        description: "Write the recorder's log messages to this file instead of stderr.",
    },
    EnvVar {
        name: ENV_JSON_ERRORS,
        field: Some("json_errors"),
        accepted: BOOL,
        default: "false",
        cli_flag: "--json-errors",
        description: "Add a one-line JSON error trailer on stderr.",
    },
    EnvVar {
        name: ENV_CAPTURE_IO,
        field: Some("io_capture"),
        accepted: "off (none, 0, false), proxies (on, 1, true), proxies+fd (fd, proxies,fd, proxies-fd)",
        default: "proxies",
        cli_flag: "--io-capture off|proxies|proxies+fd",
        description: "Capture stdin/stdout/stderr through sys stream proxies, plus raw fd 1/2 writes with +fd.",
    },
    EnvVar {
        name: ENV_MODULE_NAME_FROM_GLOBALS,
        field: Some("module_name_from_globals"),
        accepted: BOOL,
        default: "true",
        cli_flag: "--[no-]module-name-from-globals",
        description: "Name module-level code from the module's `__spec__`/`__name__`.",
    },
    EnvVar {
        name: ENV_PROPAGATE_SCRIPT_EXIT,
        field: Some("propagate_script_exit"),
        accepted: BOOL,
        default: "false",
        cli_flag: "--[no-]propagate-script-exit",
        description: "Exit with the script's status instead of 0.",
    },
    EnvVar {
        name: ENV_INCLUDE_LIBRARIES,
        field: Some("include_libraries"),
        accepted: BOOL,
        default: "false",
        cli_flag: "--[no-]include-libraries",
        description: "Record installed third-party packages (site-packages) too; by default only your own code is recorded.",
    },
    EnvVar {
        name: ENV_FOLLOW_CHILDREN,
        field: Some("follow_children"),
        accepted: BOOL,
        default: "true",
        cli_flag: "--[no-]follow-children",
        description: "Record child processes (forks, multiprocessing workers, Python programs started by the program) into `children/<pid>-<n>/` of the trace directory.",
    },
    EnvVar {
        name: ENV_MAX_VALUE_DEPTH,
        field: Some("max_value_depth"),
        accepted: "an integer from 1 to 32",
        default: "3",
        cli_flag: "--max-value-depth N",
        description: "Levels of nested containers/objects captured per value.",
    },
    EnvVar {
        name: ENV_MAX_CONTAINER_ELEMENTS,
        field: Some("max_container_elements"),
        accepted: "an integer from 1 to 1000000",
        default: "100",
        cli_flag: "--max-container-elements N",
        description: "Elements captured per container.",
    },
    EnvVar {
        name: ENV_MAX_STRING_LENGTH,
        field: Some("max_string_length"),
        accepted: "an integer from 16 to 16777216",
        default: "1000",
        cli_flag: "--max-string-length N",
        description: "Characters captured per string (bytes per bytes object, hexadecimal digits per int).",
    },
    EnvVar {
        name: ENV_MAX_VALUE_NODES,
        field: Some("max_value_nodes"),
        accepted: "an integer from 16 to 1000000",
        default: "1000",
        cli_flag: "--max-value-nodes N",
        description: "Nodes (scalars, containers, objects, dict entries, all levels together) captured per recorded value.",
    },
    EnvVar {
        name: ENV_ALLOW_REPR,
        field: Some("allow_repr"),
        accepted: BOOL,
        default: "false",
        cli_flag: "--allow-repr",
        description: "Allow calling repr() on objects (runs user code).",
    },
    EnvVar {
        name: ENV_TRACE_MODE,
        field: Some("trace_mode"),
        accepted: "an octal file mode with read/write bits only, owner read+write (0600, 0640, 0644, ...)",
        default: "0600",
        cli_flag: "--trace-mode MODE",
        description: "Mode of the trace files (directories the recorder creates get the same bits plus search where reading is allowed).",
    },
];

/// The table entry for variable `name`, if it is one of [`ENV_VARS`].
pub fn env_var(name: &str) -> Option<&'static EnvVar> {
    ENV_VARS.iter().find(|var| var.name == name)
}

/// The table entry of the variable that sets policy field `field`, if any.
pub fn env_var_for_field(field: &str) -> Option<&'static EnvVar> {
    ENV_VARS.iter().find(|var| var.field == Some(field))
}

/// [`ENV_VARS`] as a Markdown table (variable, accepted, default, CLI flag, meaning), as found in
/// the crate README.
pub fn env_vars_markdown() -> String {
    let mut out = String::from(
        "| variable | accepted | default | CLI flag | meaning |\n|---|---|---|---|---|\n",
    );
    for var in ENV_VARS {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | `{}` | {} |",
            var.name,
            var.accepted.replace('|', "\\|"),
            var.default,
            var.cli_flag.replace('|', "\\|"),
            var.description
        );
    }
    out
}

/// The session variables of an environment, trimmed; an empty or blank value is `None`.
/// Values are kept as they are (a path need not be UTF-8).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionVars {
    /// `CODETRACER_TRACE`: the directory to auto-start recording into.
    pub trace: Option<OsString>,
    /// `CODETRACER_FORMAT`: the format of the auto-started recording.
    pub format: Option<OsString>,
    /// `CODETRACER_TRACE_FILTER`: extra filter files, `::`-separated.
    pub trace_filter: Option<OsString>,
}

impl SessionVars {
    /// The session variables of `vars` (e.g. `std::env::vars_os()`, or Python's
    /// `os.environ.items()`); when a name occurs twice the last value wins.
    pub fn from_env<I, K, V>(vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        let mut out = Self::default();
        for (name, value) in vars {
            let slot = match name.as_ref().to_str() {
                Some(ENV_TRACE) => &mut out.trace,
                Some(ENV_FORMAT) => &mut out.format,
                Some(ENV_TRACE_FILTER) => &mut out.trace_filter,
                _ => continue,
            };
            let value = value.as_ref();
            *slot = match value.to_str() {
                Some(text) if text.trim().is_empty() => None,
                Some(text) => Some(OsString::from(text.trim())),
                None => Some(value.to_os_string()),
            };
        }
        out
    }
}

impl PolicyUpdate {
    /// Parses the policy variables of [`ENV_VARS`] out of `vars` (e.g. `std::env::vars_os()`,
    /// or Python's `os.environ.items()`), ignoring every other variable and the session
    /// variables. See the [module docs](self) for the rules (trimming, empty = unset, last
    /// occurrence wins).
    ///
    /// Variables are checked in [`ENV_VARS`] order, so the error reported for several invalid
    /// variables does not depend on the iteration order.
    ///
    /// # Errors
    /// [`PolicyError::InvalidEnv`] for the first invalid variable (including values that are not
    /// valid UTF-8, except for `CODETRACER_LOG_FILE`).
    pub fn from_env<I, K, V>(vars: I) -> Result<PolicyUpdate, PolicyError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        let mut found: Vec<Option<std::ffi::OsString>> = vec![None; ENV_VARS.len()];
        for (name, value) in vars {
            let Some(name) = name.as_ref().to_str() else {
                continue;
            };
            if let Some(index) = ENV_VARS
                .iter()
                .position(|var| var.name == name && var.field.is_some())
            {
                if let Some(slot) = found.get_mut(index) {
                    *slot = Some(value.as_ref().to_os_string());
                }
            }
        }

        let mut update = PolicyUpdate::default();
        for (var, value) in ENV_VARS.iter().zip(found) {
            let (Some(field), Some(value)) = (var.field, value) else {
                continue;
            };
            match value.to_str() {
                Some(text) if text.trim().is_empty() => {}
                Some(text) if field == "log_file" => {
                    update.log_file = Some(Some(PathBuf::from(text.trim())));
                }
                Some(text) => update
                    .set_field(field, text)
                    .map_err(|err| err.into_env(var.name, text))?,
                None if field == "log_file" => update.log_file = Some(Some(PathBuf::from(value))),
                None => {
                    return Err(PolicyError::InvalidEnv {
                        variable: var.name.to_owned(),
                        value: value.to_string_lossy().into_owned(),
                        accepted: format!("valid UTF-8: {}", var.accepted),
                    })
                }
            }
        }
        Ok(update)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::update::FIELDS;

    #[test]
    fn every_policy_field_has_exactly_one_variable_in_field_order() {
        let fields: Vec<&str> = ENV_VARS.iter().filter_map(|var| var.field).collect();
        assert_eq!(fields, FIELDS);
        for field in FIELDS {
            assert!(env_var_for_field(field).is_some(), "{field}");
        }
    }

    #[test]
    fn names_are_unique_prefixed_and_findable() {
        for (i, var) in ENV_VARS.iter().enumerate() {
            assert!(var.name.starts_with("CODETRACER_"), "{}", var.name);
            assert_eq!(env_var(var.name).map(|v| v.name), Some(var.name));
            assert!(ENV_VARS
                .iter()
                .skip(i + 1)
                .all(|other| other.name != var.name));
            assert!(var.description.ends_with('.'), "{}", var.name);
        }
        assert!(env_var("CODETRACER_NOPE").is_none());
    }

    #[test]
    fn session_variables_are_trimmed_and_blank_means_unset() {
        let vars = SessionVars::from_env([
            ("CODETRACER_TRACE", " out "),
            ("CODETRACER_FORMAT", "  "),
            ("CODETRACER_TRACE_FILTER", "a.toml::b.toml"),
            ("CODETRACER_TRACE_FILTER", "c.toml"),
            ("HOME", "/x"),
        ]);
        assert_eq!(vars.trace.as_deref(), Some(OsStr::new("out")));
        assert_eq!(vars.format, None);
        assert_eq!(vars.trace_filter.as_deref(), Some(OsStr::new("c.toml")));
        assert_eq!(
            SessionVars::from_env(Vec::<(&str, &str)>::new()),
            SessionVars::default()
        );
    }

    #[test]
    fn markdown_table_has_a_row_per_variable() {
        let md = env_vars_markdown();
        assert_eq!(md.lines().count(), ENV_VARS.len() + 2);
        assert!(md.contains("`--io-capture off\\|proxies\\|proxies+fd`"));
    }
}
