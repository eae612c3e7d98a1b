//! Integration tests of `RecorderPolicy`: defaults, `set_field` for every field, all-or-nothing
//! `apply`, precedence, and the serde snapshot shape.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use codetracer_policy::{
    IoCapture, LogLevel, OnRecorderError, PolicyError, PolicyUpdate, RecorderPolicy, ValueLimits,
    FIELDS,
};

#[test]
fn defaults_match_the_spec() {
    let p = RecorderPolicy::default();
    assert_eq!(p.on_recorder_error, OnRecorderError::Abort);
    assert!(!p.require_trace);
    assert!(!p.keep_partial_trace);
    assert_eq!(p.log_level, LogLevel::Warn);
    assert_eq!(p.log_file, None);
    assert!(!p.json_errors);
    assert_eq!(p.io_capture, IoCapture::Proxies);
    assert!(p.module_name_from_globals);
    assert!(!p.propagate_script_exit);
    assert!(p.follow_children);
    assert_eq!(
        p.value_limits,
        ValueLimits {
            max_depth: 3,
            max_elements: 100,
            max_string_len: 1000,
            max_nodes: 1000,
            allow_repr: false
        }
    );
    p.validate().unwrap();
}

#[test]
fn set_field_covers_every_field() {
    let pairs = [
        ("on_recorder_error", "disable"),
        ("require_trace", "true"),
        ("keep_partial_trace", "yes"),
        ("log_level", "debug"),
        ("log_file", "/var/log/rec.log"),
        ("json_errors", "1"),
        ("io_capture", "off"),
        ("module_name_from_globals", "no"),
        ("propagate_script_exit", "on"),
        ("include_libraries", "true"),
        ("follow_children", "off"),
        ("max_value_depth", "32"),
        ("max_container_elements", "1"),
        ("max_string_length", "16"),
        ("max_value_nodes", "16"),
        ("allow_repr", "TRUE"),
        ("trace_mode", "0o644"),
    ];
    assert_eq!(pairs.iter().map(|(k, _)| *k).collect::<Vec<_>>(), FIELDS);
    let mut p = RecorderPolicy::default();
    p.apply(PolicyUpdate::from_fields(pairs).unwrap()).unwrap();
    assert_eq!(p.on_recorder_error, OnRecorderError::Disable);
    assert!(p.require_trace && p.keep_partial_trace && p.json_errors && p.propagate_script_exit);
    assert!(p.include_libraries);
    assert_eq!(p.log_level, LogLevel::Debug);
    assert_eq!(p.log_file, Some(PathBuf::from("/var/log/rec.log")));
    assert_eq!(p.io_capture, IoCapture::Off);
    assert!(!p.module_name_from_globals);
    assert!(!p.follow_children);
    assert_eq!(
        p.value_limits,
        ValueLimits {
            max_depth: 32,
            max_elements: 1,
            max_string_len: 16,
            max_nodes: 16,
            allow_repr: true
        }
    );
    assert_eq!(p.trace_mode.file_mode(), 0o644);
}

#[test]
fn set_field_rejections_name_the_field_and_the_accepted_values() {
    let cases = [
        ("on_recorder_error", "explode", "abort, disable"),
        ("require_trace", "sure", "1, true, yes, on"),
        ("keep_partial_trace", "", "0, false, no, off"),
        ("log_level", "loud", "warn"),
        ("json_errors", "2", "case-insensitive"),
        ("io_capture", "pipes", "proxies+fd"),
        ("module_name_from_globals", "x", "true"),
        ("propagate_script_exit", "x", "false"),
        ("follow_children", "sometimes", "true"),
        ("max_value_depth", "33", "an integer from 1 to 32"),
        ("max_value_depth", "0", "an integer from 1 to 32"),
        (
            "max_container_elements",
            "0",
            "an integer from 1 to 1000000",
        ),
        ("max_string_length", "15", "an integer from 16 to 16777216"),
        (
            "max_value_nodes",
            "1000001",
            "an integer from 16 to 1000000",
        ),
        ("allow_repr", "perhaps", "yes"),
    ];
    for (field, value, accepted) in cases {
        let err = PolicyUpdate::new().set_field(field, value).unwrap_err();
        match &err {
            PolicyError::InvalidValue {
                field: f,
                value: v,
                accepted: a,
            } => {
                assert_eq!(f, field);
                assert_eq!(v, value);
                assert!(a.contains(accepted), "{field}: {a}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(err.code(), "ERR_INVALID_POLICY_VALUE");
        assert!(err.to_string().contains(field));
    }
}

#[test]
fn unknown_fields_list_the_known_ones() {
    let err = PolicyUpdate::new().set_field("max_depth", "3").unwrap_err();
    assert_eq!(err.code(), "ERR_INVALID_POLICY_VALUE");
    let msg = err.to_string();
    assert!(msg.contains("`max_depth`"), "{msg}");
    for field in FIELDS {
        assert!(msg.contains(field), "{msg} lacks {field}");
    }
}

#[test]
fn log_file_empty_means_back_to_stderr() {
    let mut p = RecorderPolicy::default();
    p.apply(PolicyUpdate::from_fields([("log_file", "/tmp/a.log")]).unwrap())
        .unwrap();
    assert_eq!(p.log_file, Some(PathBuf::from("/tmp/a.log")));
    p.apply(PolicyUpdate::from_fields([("log_file", " ")]).unwrap())
        .unwrap();
    assert_eq!(p.log_file, None);
}

#[test]
fn apply_is_all_or_nothing() {
    let mut p = RecorderPolicy::default();
    let before = p.clone();
    let update = PolicyUpdate {
        on_recorder_error: Some(OnRecorderError::Disable),
        log_level: Some(LogLevel::Trace),
        max_value_depth: Some(4),
        max_container_elements: Some(0), // invalid
        ..PolicyUpdate::default()
    };
    let err = p.apply(update).unwrap_err();
    assert_eq!(p, before, "nothing may change on error");
    assert!(
        matches!(err, PolicyError::InvalidValue { ref field, .. } if field == "max_container_elements")
    );

    for bad in [
        PolicyUpdate {
            max_value_depth: Some(33),
            ..Default::default()
        },
        PolicyUpdate {
            max_value_depth: Some(0),
            ..Default::default()
        },
        PolicyUpdate {
            max_string_length: Some(15),
            ..Default::default()
        },
        PolicyUpdate {
            max_string_length: Some(usize::MAX),
            ..Default::default()
        },
        PolicyUpdate {
            max_container_elements: Some(1_000_001),
            ..Default::default()
        },
    ] {
        assert!(p.apply(bad).is_err());
        assert_eq!(p, before);
    }
}

#[test]
fn apply_keeps_unset_fields() {
    let mut p = RecorderPolicy::default();
    p.apply(PolicyUpdate {
        json_errors: Some(true),
        ..Default::default()
    })
    .unwrap();
    p.apply(PolicyUpdate {
        allow_repr: Some(true),
        ..Default::default()
    })
    .unwrap();
    assert!(p.json_errors && p.value_limits.allow_repr);
    p.apply(PolicyUpdate::new()).unwrap();
    assert!(p.json_errors);
}

#[test]
fn precedence_is_defaults_then_environment_then_explicit() {
    let env = PolicyUpdate::from_env([
        ("CODETRACER_LOG_LEVEL", "debug"),
        ("CODETRACER_CAPTURE_IO", "off"),
        ("CODETRACER_MAX_VALUE_DEPTH", "8"),
    ])
    .unwrap();
    let explicit =
        PolicyUpdate::from_fields([("log_level", "error"), ("require_trace", "true")]).unwrap();
    let p = RecorderPolicy::resolve(env.clone(), explicit).unwrap();
    assert_eq!(p.log_level, LogLevel::Error); // explicit beats env
    assert_eq!(p.io_capture, IoCapture::Off); // env beats default
    assert_eq!(p.value_limits.max_depth, 8); // env beats default
    assert!(p.require_trace); // explicit beats default
    assert_eq!(p.on_recorder_error, OnRecorderError::Abort); // default

    let only_env = RecorderPolicy::resolve(env, PolicyUpdate::new()).unwrap();
    assert_eq!(only_env.log_level, LogLevel::Debug);
    assert_eq!(
        RecorderPolicy::resolve(PolicyUpdate::new(), PolicyUpdate::new()).unwrap(),
        RecorderPolicy::default()
    );
}

#[test]
fn resolve_rejects_invalid_typed_values_and_explicit_can_override_them() {
    let bad_env = PolicyUpdate {
        max_value_depth: Some(100),
        ..Default::default()
    };
    assert!(RecorderPolicy::resolve(bad_env.clone(), PolicyUpdate::new()).is_err());
    let fix = PolicyUpdate {
        max_value_depth: Some(10),
        ..Default::default()
    };
    assert_eq!(
        RecorderPolicy::resolve(bad_env, fix)
            .unwrap()
            .value_limits
            .max_depth,
        10
    );
}

#[test]
fn snapshot_json_shape_is_stable() {
    let json = serde_json::to_value(RecorderPolicy::default()).unwrap();
    let want = serde_json::json!({
        "on_recorder_error": "abort",
        "require_trace": false,
        "keep_partial_trace": false,
        "log_level": "warn",
        "log_file": null,
        "json_errors": false,
        "io_capture": "proxies",
        "module_name_from_globals": true,
        "propagate_script_exit": false,
        "include_libraries": false,
        "follow_children": true,
        "max_value_depth": 3,
        "max_container_elements": 100,
        "max_string_length": 1000,
        "max_value_nodes": 1000,
        "allow_repr": false,
        "trace_mode": "0600"
    });
    assert_eq!(json, want);
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut fields = FIELDS.to_vec();
    fields.sort_unstable();
    let mut keys = keys;
    keys.sort_unstable();
    assert_eq!(
        keys, fields,
        "snapshot keys are exactly the settable fields"
    );
}

#[test]
fn snapshot_values_round_trip_through_set_field() {
    let mut p = RecorderPolicy::default();
    p.apply(
        PolicyUpdate::from_fields([
            ("io_capture", "fd"),
            ("on_recorder_error", "disable"),
            ("log_level", "trace"),
            ("log_file", "/tmp/x.log"),
            ("max_string_length", "77"),
            ("trace_mode", "640"),
        ])
        .unwrap(),
    )
    .unwrap();
    let json = serde_json::to_value(&p).unwrap();
    assert_eq!(json["io_capture"], "proxies+fd");
    assert_eq!(json["on_recorder_error"], "disable");
    assert_eq!(json["log_file"], "/tmp/x.log");
    assert_eq!(json["trace_mode"], "0640");
    // Feed the snapshot back as strings, like configure_policy(**policy_snapshot()).
    let mut update = PolicyUpdate::new();
    for (key, value) in json.as_object().unwrap() {
        let text = match value {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => String::new(),
            other => other.to_string(),
        };
        update.set_field(key, &text).unwrap();
    }
    let mut q = RecorderPolicy::default();
    q.apply(update).unwrap();
    assert_eq!(p, q);
}
