//! The recording runtime: sys.monitoring events → CodeTracer trace records.
//!
//! One job per module: [`tracer`] (event handlers and recording lifecycle), [`activation`]
//! (when recording starts and stops), [`scope`] (which code is recorded; [`scope_cache`] reuses a compiled chain across recordings), [`code_info`]
//! (per-code-object cache), [`frame`] (reading variables), [`value_encoder`] and [`types`]
//! (values and their type records; the encoder's
//! [`container_cache`](value_encoder::container_cache) reuses the bytes of unchanged container
//! elements), [`threads`] (per-thread stacks), [`owned_ref`] (references released at once
//! inside callbacks). The trace files themselves (record bytes, streaming, the trace
//! directory, reading back) are the `codetracer-trace-stream` crate's.

pub mod activation;
pub mod code_info;
pub mod ffi_str;
pub mod frame;
pub mod id_hash;
pub mod owned_ref;
pub mod scope;
pub mod scope_cache;
pub mod threads;
pub mod tracer;
pub mod types;
pub mod value_encoder;
