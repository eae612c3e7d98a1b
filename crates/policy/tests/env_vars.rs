//! Integration tests of `PolicyUpdate::from_env`: every variable, every rejection, case,
//! whitespace, empty values, unrelated and session variables.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use codetracer_policy::env::{env_var, ENV_VARS};
use codetracer_policy::parse::range_text;
use codetracer_policy::{IoCapture, LogLevel, OnRecorderError, PolicyError, PolicyUpdate};

fn one(name: &str, value: &str) -> Result<PolicyUpdate, PolicyError> {
    PolicyUpdate::from_env([(name, value)])
}

fn expect_env_error(name: &str, value: &str) -> PolicyError {
    let err = one(name, value).expect_err(&format!("{name}={value:?} should be rejected"));
    match &err {
        PolicyError::InvalidEnv {
            variable,
            value: v,
            accepted,
        } => {
            assert_eq!(variable, name);
            assert_eq!(v, value);
            assert!(!accepted.is_empty());
        }
        other => panic!("unexpected error {other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.contains(name), "{msg}");
    assert!(msg.contains(&format!("{value:?}")), "{msg}");
    assert!(msg.contains("accepted"), "{msg}");
    assert_eq!(err.code(), "ERR_INVALID_POLICY_VALUE");
    err
}

#[test]
fn no_variables_means_an_empty_update() {
    let none: [(&str, &str); 0] = [];
    assert!(PolicyUpdate::from_env(none).unwrap().is_empty());
}

#[test]
fn unrelated_and_session_variables_are_ignored() {
    let update = PolicyUpdate::from_env([
        ("PATH", "/usr/bin"),
        ("CODETRACER_TRACE", "/tmp/out"),
        ("CODETRACER_FORMAT", "nonsense"),
        ("CODETRACER_TRACE_FILTER", "a.toml::b.toml"),
        ("CODETRACER_CHILD_SESSION", "{\"follow\": true}"),
        ("CODETRACER_UNKNOWN", "x"),
        ("codetracer_log_level", "loud"), // names are exact
    ])
    .unwrap();
    assert!(update.is_empty());
}

#[test]
fn on_recorder_error() {
    let name = "CODETRACER_ON_RECORDER_ERROR";
    assert_eq!(
        one(name, "abort").unwrap().on_recorder_error,
        Some(OnRecorderError::Abort)
    );
    assert_eq!(
        one(name, " DISABLE ").unwrap().on_recorder_error,
        Some(OnRecorderError::Disable)
    );
    assert_eq!(
        one(name, "Disabled").unwrap().on_recorder_error,
        Some(OnRecorderError::Disable)
    );
    for bad in ["ignore", "0", "abort!"] {
        let err = expect_env_error(name, bad);
        assert!(err.to_string().contains("abort, disable"));
    }
}

#[test]
fn boolean_variables() {
    type Get = fn(&PolicyUpdate) -> Option<bool>;
    let vars: [(&str, Get); 8] = [
        ("CODETRACER_REQUIRE_TRACE", |u| u.require_trace),
        ("CODETRACER_KEEP_PARTIAL_TRACE", |u| u.keep_partial_trace),
        ("CODETRACER_JSON_ERRORS", |u| u.json_errors),
        ("CODETRACER_MODULE_NAME_FROM_GLOBALS", |u| {
            u.module_name_from_globals
        }),
        ("CODETRACER_PROPAGATE_SCRIPT_EXIT", |u| {
            u.propagate_script_exit
        }),
        ("CODETRACER_FOLLOW_CHILDREN", |u| u.follow_children),
        ("CODETRACER_INCLUDE_LIBRARIES", |u| u.include_libraries),
        ("CODETRACER_ALLOW_REPR", |u| u.allow_repr),
    ];
    for (name, get) in vars {
        for v in ["1", "true", "TRUE", "Yes", "on", " on\n"] {
            assert_eq!(get(&one(name, v).unwrap()), Some(true), "{name}={v:?}");
        }
        for v in ["0", "false", "False", "NO", "off", "\toff "] {
            assert_eq!(get(&one(name, v).unwrap()), Some(false), "{name}={v:?}");
        }
        for bad in ["2", "maybe", "yess", "-1"] {
            let err = expect_env_error(name, bad);
            assert!(err.to_string().contains("1, true, yes, on"), "{err}");
        }
    }
}

#[test]
fn log_level() {
    let name = "CODETRACER_LOG_LEVEL";
    let cases = [
        ("off", LogLevel::Off),
        ("none", LogLevel::Off),
        ("error", LogLevel::Error),
        ("CRITICAL", LogLevel::Error),
        ("warn", LogLevel::Warn),
        ("Warning", LogLevel::Warn),
        (" info ", LogLevel::Info),
        ("DEBUG", LogLevel::Debug),
        ("trace", LogLevel::Trace),
    ];
    for (v, want) in cases {
        assert_eq!(one(name, v).unwrap().log_level, Some(want), "{v:?}");
    }
    for bad in ["verbose", "5", "info,debug"] {
        let err = expect_env_error(name, bad);
        assert!(err.to_string().contains("debug"), "{err}");
    }
}

#[test]
fn log_file_is_a_path_trimmed_and_case_preserving() {
    let name = "CODETRACER_LOG_FILE";
    assert_eq!(
        one(name, " /Tmp/Rec Log.txt\n").unwrap().log_file,
        Some(Some(PathBuf::from("/Tmp/Rec Log.txt")))
    );
}

#[cfg(unix)]
#[test]
fn non_utf8_values_are_accepted_for_the_log_file_only() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let raw = OsStr::from_bytes(b"/tmp/\xff.log");
    let update = PolicyUpdate::from_env([(OsStr::new("CODETRACER_LOG_FILE"), raw)]).unwrap();
    assert_eq!(update.log_file, Some(Some(PathBuf::from(raw))));

    let err = PolicyUpdate::from_env([(OsStr::new("CODETRACER_LOG_LEVEL"), raw)]).unwrap_err();
    assert!(
        matches!(err, PolicyError::InvalidEnv { ref variable, .. } if variable == "CODETRACER_LOG_LEVEL")
    );
    assert!(err.to_string().contains("UTF-8"));

    // A non-UTF-8 *name* cannot be one of ours: ignored.
    let update =
        PolicyUpdate::from_env([(OsStr::from_bytes(b"CODETRACER_\xff"), OsStr::new("x"))]).unwrap();
    assert!(update.is_empty());
}

#[test]
fn capture_io_spellings() {
    let name = "CODETRACER_CAPTURE_IO";
    let cases = [
        ("off", IoCapture::Off),
        ("none", IoCapture::Off),
        ("0", IoCapture::Off),
        ("false", IoCapture::Off),
        ("NO", IoCapture::Off),
        ("disabled", IoCapture::Off),
        ("proxies", IoCapture::Proxies),
        ("Proxy", IoCapture::Proxies),
        ("on", IoCapture::Proxies),
        ("1", IoCapture::Proxies),
        ("true", IoCapture::Proxies),
        ("enable", IoCapture::Proxies),
        ("proxies+fd", IoCapture::ProxiesAndFd),
        ("PROXIES,FD", IoCapture::ProxiesAndFd),
        ("proxies, fd", IoCapture::ProxiesAndFd),
        ("proxies-fd", IoCapture::ProxiesAndFd),
        ("proxies_fd", IoCapture::ProxiesAndFd),
        ("fd+proxies", IoCapture::ProxiesAndFd),
        ("fd", IoCapture::ProxiesAndFd),
        ("mirror", IoCapture::ProxiesAndFd),
        (" fallback ", IoCapture::ProxiesAndFd),
    ];
    for (v, want) in cases {
        assert_eq!(one(name, v).unwrap().io_capture, Some(want), "{v:?}");
    }
    for bad in ["all", "proxies+", "+", ",", "proxies+stdout", "2", "off+fd"] {
        let err = expect_env_error(name, bad);
        assert!(err.to_string().contains("proxies+fd"), "{err}");
    }
}

#[test]
fn numeric_limits_and_their_bounds() {
    type GetN = fn(&PolicyUpdate) -> Option<usize>;
    let cases: [(&str, usize, usize, GetN); 4] = [
        ("CODETRACER_MAX_VALUE_DEPTH", 1, 32, |u| u.max_value_depth),
        ("CODETRACER_MAX_CONTAINER_ELEMENTS", 1, 1_000_000, |u| {
            u.max_container_elements
        }),
        ("CODETRACER_MAX_STRING_LENGTH", 16, 16_777_216, |u| {
            u.max_string_length
        }),
        ("CODETRACER_MAX_VALUE_NODES", 16, 1_000_000, |u| {
            u.max_value_nodes
        }),
    ];
    for (name, min, max, get) in cases {
        assert_eq!(get(&one(name, &min.to_string()).unwrap()), Some(min));
        assert_eq!(get(&one(name, &format!(" {max} ")).unwrap()), Some(max));
        for bad in [
            (min - 1).to_string(),
            (max + 1).to_string(),
            "-5".into(),
            "ten".into(),
            "1.5".into(),
            "0x10".into(),
        ] {
            let err = expect_env_error(name, &bad);
            assert!(err.to_string().contains(&range_text(min, max)), "{err}");
        }
        // The table documents the same range as the parser enforces.
        assert_eq!(
            env_var(name).map(|v| v.accepted.to_owned()),
            Some(range_text(min, max))
        );
    }
}

#[test]
fn empty_or_blank_values_count_as_unset() {
    for var in ENV_VARS.iter().filter(|v| v.field.is_some()) {
        for blank in ["", "  ", "\n"] {
            let update = one(var.name, blank).unwrap();
            assert!(update.is_empty(), "{}={blank:?}", var.name);
        }
    }
}

#[test]
fn the_last_occurrence_of_a_variable_wins() {
    let update = PolicyUpdate::from_env([
        ("CODETRACER_LOG_LEVEL", "debug"),
        ("CODETRACER_LOG_LEVEL", "error"),
    ])
    .unwrap();
    assert_eq!(update.log_level, Some(LogLevel::Error));
    // An invalid earlier value overridden by a valid later one is fine.
    let update = PolicyUpdate::from_env([
        ("CODETRACER_LOG_LEVEL", "loud"),
        ("CODETRACER_LOG_LEVEL", "info"),
    ])
    .unwrap();
    assert_eq!(update.log_level, Some(LogLevel::Info));
}

#[test]
fn errors_are_reported_in_table_order_whatever_the_input_order() {
    let vars = [
        ("CODETRACER_MAX_VALUE_DEPTH", "0"),
        ("CODETRACER_LOG_LEVEL", "loud"),
    ];
    let forward = PolicyUpdate::from_env(vars).unwrap_err();
    let backward = PolicyUpdate::from_env(vars.iter().rev().copied()).unwrap_err();
    assert_eq!(forward, backward);
    assert!(
        matches!(forward, PolicyError::InvalidEnv { ref variable, .. } if variable == "CODETRACER_LOG_LEVEL")
    );
}

#[test]
fn all_variables_together_and_owned_strings() {
    let vars: Vec<(String, String)> = [
        ("CODETRACER_ON_RECORDER_ERROR", "disable"),
        ("CODETRACER_REQUIRE_TRACE", "yes"),
        ("CODETRACER_KEEP_PARTIAL_TRACE", "1"),
        ("CODETRACER_LOG_LEVEL", "info"),
        ("CODETRACER_LOG_FILE", "/tmp/rec.log"),
        ("CODETRACER_JSON_ERRORS", "on"),
        ("CODETRACER_CAPTURE_IO", "proxies+fd"),
        ("CODETRACER_MODULE_NAME_FROM_GLOBALS", "false"),
        ("CODETRACER_PROPAGATE_SCRIPT_EXIT", "true"),
        ("CODETRACER_FOLLOW_CHILDREN", "false"),
        ("CODETRACER_MAX_VALUE_DEPTH", "5"),
        ("CODETRACER_MAX_CONTAINER_ELEMENTS", "20"),
        ("CODETRACER_MAX_STRING_LENGTH", "64"),
        ("CODETRACER_MAX_VALUE_NODES", "500"),
        ("CODETRACER_ALLOW_REPR", "true"),
        ("CODETRACER_TRACE_MODE", "0644"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let update = PolicyUpdate::from_env(vars).unwrap();
    let want = PolicyUpdate {
        on_recorder_error: Some(OnRecorderError::Disable),
        require_trace: Some(true),
        keep_partial_trace: Some(true),
        log_level: Some(LogLevel::Info),
        log_file: Some(Some(PathBuf::from("/tmp/rec.log"))),
        json_errors: Some(true),
        io_capture: Some(IoCapture::ProxiesAndFd),
        module_name_from_globals: Some(false),
        propagate_script_exit: Some(true),
        include_libraries: None,
        follow_children: Some(false),
        max_value_depth: Some(5),
        max_container_elements: Some(20),
        max_string_length: Some(64),
        max_value_nodes: Some(500),
        allow_repr: Some(true),
        trace_mode: Some("644".parse().unwrap()),
    };
    assert_eq!(update, want);
}
