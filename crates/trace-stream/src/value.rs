//! [`ValueOut`]: writes trace values straight into the bytes of one [`Encoding`], in exactly
//! the shape serde gives `codetracer_trace_types::ValueRecord` (`{"kind": "Int", "i": 5,
//! "type_id": 1}`, ...), without building a `ValueRecord` tree: no allocation per value, and
//! the bytes of a value can be cached and spliced in again.

use std::marker::PhantomData;

use base64::Engine as _;
use codetracer_trace_types::TypeId;

use crate::encoding::{float_text, Encoding, Head};

/// The container shapes of a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `Sequence` (`elements`, `is_slice`, `type_id`).
    Sequence,
    /// `Tuple` (`elements`, `type_id`).
    Tuple,
    /// `Struct` (`field_values`, `type_id`).
    Struct,
}

/// A value being written in encoding `E`.
pub struct ValueOut<E: Encoding> {
    buf: Vec<u8>,
    /// Separated encodings only: per open container, whether the next element is its first.
    first: Vec<bool>,
    encoding: PhantomData<E>,
}

impl<E: Encoding> Default for ValueOut<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: Encoding> ValueOut<E> {
    /// An empty value buffer.
    pub fn new() -> Self {
        Self {
            buf: Vec::with_capacity(256),
            first: Vec::with_capacity(8),
            encoding: PhantomData,
        }
    }

    /// Starts a new value (drops what was written).
    #[inline]
    pub fn clear(&mut self) {
        self.buf.clear();
        self.first.clear();
    }

    /// The bytes written so far.
    #[inline]
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Starts an element; returns where its bytes begin (after any separator). Call it once
    /// before every value (the value methods below do not).
    #[inline]
    pub fn element_start(&mut self) -> usize {
        if E::SEPARATED {
            if let Some(first) = self.first.last_mut() {
                if *first {
                    *first = false;
                } else {
                    self.buf.push(b',');
                }
            }
        }
        self.buf.len()
    }

    /// Where the next byte goes.
    #[inline]
    pub fn position(&self) -> usize {
        self.buf.len()
    }

    /// Appends the bytes of a whole value written earlier (from a cache).
    #[inline]
    pub fn splice(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// `Int`.
    #[inline]
    pub fn int(&mut self, i: i64, t: TypeId) {
        E::head(&mut self.buf, Head::Int);
        E::int(&mut self.buf, i);
        E::type_id_and_close(&mut self.buf, t.0);
    }

    /// `Float`, any value: `f` is written as the shortest decimal string that reads back
    /// exactly (`NaN`, `inf` and `-inf` included).
    pub fn float(&mut self, f: f64, t: TypeId) {
        E::head(&mut self.buf, Head::Float);
        let mut buffer = ryu::Buffer::new();
        E::text(&mut self.buf, float_text(f, &mut buffer));
        E::type_id_and_close(&mut self.buf, t.0);
    }

    /// `Bool`.
    pub fn bool(&mut self, b: bool, t: TypeId) {
        E::head(&mut self.buf, Head::Bool);
        E::bool(&mut self.buf, b);
        E::type_id_and_close(&mut self.buf, t.0);
    }

    /// `String`.
    #[inline]
    pub fn string(&mut self, s: &str, t: TypeId) {
        E::head(&mut self.buf, Head::String);
        E::text(&mut self.buf, s);
        E::type_id_and_close(&mut self.buf, t.0);
    }

    /// `Raw` (a description of a value that has no structured form).
    pub fn raw(&mut self, s: &str, t: TypeId) {
        E::head(&mut self.buf, Head::Raw);
        E::text(&mut self.buf, s);
        E::type_id_and_close(&mut self.buf, t.0);
    }

    /// `None`.
    pub fn none(&mut self, t: TypeId) {
        E::head(&mut self.buf, Head::None);
        E::type_id_and_close(&mut self.buf, t.0);
    }

    /// `BigInt` (big-endian magnitude, base64 in both formats as serde writes it).
    pub fn bigint(&mut self, magnitude: &[u8], negative: bool, t: TypeId) {
        E::head(&mut self.buf, Head::BigInt);
        let b64 = base64::engine::general_purpose::STANDARD.encode(magnitude);
        E::text(&mut self.buf, &b64);
        E::key(&mut self.buf, "negative");
        E::bool(&mut self.buf, negative);
        E::type_id_and_close(&mut self.buf, t.0);
    }

    /// Opens a container of exactly `n` elements (write them next, then [`Self::end`]).
    pub fn begin(&mut self, shape: Shape, n: usize) {
        E::head(
            &mut self.buf,
            match shape {
                Shape::Sequence => Head::Sequence,
                Shape::Tuple => Head::Tuple,
                Shape::Struct => Head::Struct,
            },
        );
        E::open_array(&mut self.buf, n);
        if E::SEPARATED {
            self.first.push(true);
        }
    }

    /// Closes the container opened by the matching [`Self::begin`].
    pub fn end(&mut self, shape: Shape, t: TypeId) {
        E::close_array(&mut self.buf);
        if E::SEPARATED {
            self.first.pop();
        }
        if shape == Shape::Sequence {
            E::key(&mut self.buf, "is_slice");
            E::bool(&mut self.buf, false);
        }
        E::type_id_and_close(&mut self.buf, t.0);
    }
}
