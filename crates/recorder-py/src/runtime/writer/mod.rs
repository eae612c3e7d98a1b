//! Trace writing: records go through [`TraceSink`] (serialise into a chunk, hand full chunks to
//! a background thread) and ids are interned by [`Records`].
//!
//! We do not use runtime_tracing's writers for the event stream: its JSON writer keeps every
//! event in memory, its CBOR writer compresses on the interpreter thread and panics on I/O
//! errors, and its `ensure_function_id` merges same-named functions. We own the id tables and
//! the streaming, and hand finished records of the format's own types
//! (`runtime_tracing::TraceLowLevelEvent`) to the format's serialisers (cbor4ii / serde_json),
//! so the bytes are exactly what runtime_tracing's readers expect.

pub mod background;
pub mod records;
pub mod sink;
pub mod value_out;

pub use records::Records;
pub use sink::{TraceFormat, TraceSink};
