//! `codetracer-recorder-py`: the native core of codetracer-python-recorder.
//!
//! Module wiring only: the runtime (events → trace records), the session lifecycle and the
//! error model live in their own modules and are registered into `_native` here.
