//! Scalars: `int` (an `Int`, or beyond 64 bits a `BigInt` of big-endian magnitude bytes; one
//! of more hexadecimal digits than the string limit a `Raw` of its leading digits and a
//! `…<+N hex digits>` marker, without converting the rest),
//! `float` (non-finite ones as the raws `nan`, `inf`, `-inf`), `str` (only the characters
//! recorded, a cut one with a `…<+N chars>` marker) and `bytes` / `bytearray` (their literal,
//! cut at the string limit). Everything is read from the object's own storage; subclasses of
//! these builtins get a type named after their class.

use std::ffi::c_int;
use std::fmt::Write as _;

use codetracer_trace_stream::types::{TypeId, TypeKind};
use pyo3::ffi;
use pyo3::prelude::*;

use super::{Out, Res, ValueEncoder};
use crate::runtime::ffi_str::{borrow_str, push_prefix};
use crate::runtime::types::Fixed;
use codetracer_trace_stream::{Encoding, ValueOut};

impl<E: Encoding> ValueEncoder<E> {
    /// A `float` (or an instance of a subclass of it).
    ///
    /// # Safety
    /// `o` must be a live `float` of type `tp` and the GIL must be held.
    pub(super) unsafe fn encode_float(
        &mut self,
        py: Python<'_>,
        o: *mut ffi::PyObject,
        tp: *mut ffi::PyTypeObject,
        out: &mut Out<'_>,
    ) -> Res {
        // SAFETY: `o` is a live float (contract); `PyFloat_Type` is a static of the interpreter.
        unsafe {
            // Every float is a `Float`, NaN and ±inf included (`f` is a string in the format).
            let f = ffi::PyFloat_AS_DOUBLE(o);
            let type_id = out.class_type(
                py,
                tp,
                &raw mut ffi::PyFloat_Type,
                Fixed::Float,
                TypeKind::Float,
            )?;
            self.out.float(f, type_id);
        }
        Ok(())
    }

    /// Writes the `str` `o` as a `String` of type `type_id`: at most `max_string_len`
    /// characters, a cut one followed by a `…<+N chars>` marker.
    ///
    /// # Safety
    /// `o` must be a live `str` and the GIL must be held.
    pub(super) unsafe fn write_string(&mut self, o: *mut ffi::PyObject, type_id: TypeId) {
        // SAFETY: `o` is a live `str` (caller checked) and the GIL is held.
        unsafe {
            let max = self.limits.max_string_len;
            let len = usize::try_from(ffi::PyUnicode_GET_LENGTH(o)).unwrap_or(0);
            if len <= max && ffi::PyUnicode_IS_ASCII(o) == 0 {
                // Short non-ASCII text: CPython's own UTF-8 form (cached in the object).
                match borrow_str(o) {
                    Some(s) => self.out.string(s, type_id),
                    None => {
                        self.text.clear();
                        push_prefix(o, max, &mut self.text);
                        self.out.string(&self.text, type_id);
                    }
                }
                return;
            }
            self.text.clear();
            let total = push_prefix(o, max, &mut self.text);
            if total > max {
                let _ = write!(self.text, "…<+{} chars>", total - max);
            }
            self.out.string(&self.text, type_id);
        }
    }

    /// A `bytes` or `bytearray` (or an instance of a subclass of either) as its literal.
    ///
    /// # Safety
    /// `o` must be a live `bytes` or `bytearray` and the GIL must be held.
    pub(super) unsafe fn encode_bytes(&mut self, o: *mut ffi::PyObject, out: &mut Out<'_>) -> Res {
        // SAFETY: `o` is a live bytes or bytearray (contract): its buffer is valid for its size
        // while it is alive and the GIL is held (no Python code runs here).
        unsafe {
            let is_bytes = ffi::PyBytes_Check(o) != 0;
            let (data, len) = if is_bytes {
                (ffi::PyBytes_AsString(o).cast::<u8>(), ffi::PyBytes_Size(o))
            } else {
                (
                    ffi::PyByteArray_AsString(o).cast::<u8>(),
                    ffi::PyByteArray_Size(o),
                )
            };
            let len = usize::try_from(len).unwrap_or(0);
            let bytes: &[u8] = if data.is_null() {
                &[]
            } else {
                std::slice::from_raw_parts(data, len)
            };
            let fixed = if is_bytes {
                Fixed::Bytes
            } else {
                Fixed::ByteArray
            };
            let t = out.types.fixed(fixed, out.rec)?;
            self.out.raw(
                &bytes_literal(bytes, is_bytes, self.limits.max_string_len),
                t,
            );
        }
        Ok(())
    }
}

/// Hexadecimal digits shown of an `int` cut at the string limit.
const INT_LEADING_DIGITS: usize = 16;

extern "C" {
    /// CPython's bit count of an int's magnitude (`(size_t)-1` with an exception set when it
    /// does not fit); exported by 3.12 and 3.13, constant time.
    fn _PyLong_NumBits(o: *mut ffi::PyObject) -> usize;
}

/// Writes the `int` `o` as an `Int` of type `type_id`, beyond 64 bits as a `BigInt`, and with
/// more than `max_digits` hexadecimal digits as a `Raw` of its sign, its leading
/// [`INT_LEADING_DIGITS`] hexadecimal digits and a `…<+N hex digits>` marker.
///
/// # Safety
/// `o` must be a live `int` and the GIL must be held.
pub(super) unsafe fn write_int<E: Encoding>(
    o: *mut ffi::PyObject,
    type_id: TypeId,
    max_digits: usize,
    v: &mut ValueOut<E>,
) {
    // SAFETY: `o` is a live int and the GIL is held.
    unsafe {
        let mut overflow: c_int = 0;
        let i = ffi::PyLong_AsLongLongAndOverflow(o, &mut overflow);
        if overflow == 0 {
            if i == -1 && !ffi::PyErr_Occurred().is_null() {
                ffi::PyErr_Clear();
            } else {
                v.int(i, type_id);
                return;
            }
        }
        let bits = _PyLong_NumBits(o);
        if bits == usize::MAX {
            ffi::PyErr_Clear();
            v.raw("<int>", type_id);
            return;
        }
        let digits = bits.div_ceil(4);
        if digits > max_digits.max(INT_LEADING_DIGITS) {
            write_cut_int(o, digits, overflow < 0, type_id, v);
            return;
        }
        // Big int: hex digits from the builtin int formatter (C code, no user hooks).
        let hex = ffi::PyNumber_ToBase(o, 16);
        if hex.is_null() {
            ffi::PyErr_Clear();
            v.raw("<int>", type_id);
            return;
        }
        let text = borrow_str(hex).unwrap_or("0x0").to_owned();
        ffi::Py_DECREF(hex);
        let negative = text.starts_with('-');
        let digits = text.trim_start_matches('-').trim_start_matches("0x");
        v.bigint(&hex_to_bytes(digits), negative, type_id);
    }
}

/// Writes an `int` of `digits` (> [`INT_LEADING_DIGITS`]) hexadecimal digits (`negative`: its
/// sign) as a `Raw`:
/// `-0x1f3a…<+N hex digits>`. Only the leading digits are computed (a shift of the magnitude,
/// by the builtin `int`'s own slots: a subclass's `__abs__` or `__rshift__` never runs).
///
/// # Safety
/// `o` must be a live `int` and the GIL must be held.
unsafe fn write_cut_int<E: Encoding>(
    o: *mut ffi::PyObject,
    digits: usize,
    negative: bool,
    type_id: TypeId,
    v: &mut ValueOut<E>,
) {
    // SAFETY: `o` is a live int (contract); `PyLong_Type`'s number slots are C functions that
    // accept any int (subclasses included); every new reference is released here.
    unsafe {
        let number = ffi::PyLong_Type.tp_as_number;
        let (Some(abs), Some(rshift)) = (
            number.as_ref().and_then(|n| n.nb_absolute),
            number.as_ref().and_then(|n| n.nb_rshift),
        ) else {
            v.raw("<int>", type_id);
            return;
        };
        let magnitude = abs(o);
        let shift = ffi::PyLong_FromSize_t((digits - INT_LEADING_DIGITS) * 4);
        let top = if magnitude.is_null() || shift.is_null() {
            std::ptr::null_mut()
        } else {
            rshift(magnitude, shift)
        };
        let lead = if top.is_null() {
            None
        } else {
            Some(ffi::PyLong_AsUnsignedLongLong(top))
        };
        for p in [magnitude, shift, top] {
            if !p.is_null() {
                ffi::Py_DECREF(p);
            }
        }
        if !ffi::PyErr_Occurred().is_null() {
            ffi::PyErr_Clear();
            v.raw("<int>", type_id);
            return;
        }
        let sign = if negative { "-" } else { "" };
        let rest = digits - INT_LEADING_DIGITS;
        match lead {
            Some(lead) => v.raw(&format!("{sign}0x{lead:x}…<+{rest} hex digits>"), type_id),
            None => v.raw("<int>", type_id),
        }
    }
}

/// Big-endian magnitude bytes of a hex digit string.
pub fn hex_to_bytes(digits: &str) -> Vec<u8> {
    let nibbles: Vec<u8> = digits
        .bytes()
        .filter_map(|c| (c as char).to_digit(16).map(|d| d as u8))
        .collect();
    let mut out = Vec::with_capacity(nibbles.len().div_ceil(2));
    let mut iter = nibbles.iter();
    if nibbles.len() % 2 == 1 {
        if let Some(first) = iter.next() {
            out.push(*first);
        }
    }
    while let (Some(hi), Some(lo)) = (iter.next(), iter.next()) {
        out.push((hi << 4) | lo);
    }
    out
}

/// The literal form of a bytes object (`b'..'` / `bytearray(b'..')`), cut at `max` bytes.
pub fn bytes_literal(bytes: &[u8], is_bytes: bool, max: usize) -> String {
    let shown = &bytes[..bytes.len().min(max)];
    let mut s = String::with_capacity(shown.len() + 16);
    if !is_bytes {
        s.push_str("bytearray(");
    }
    s.push_str("b'");
    for &b in shown {
        match b {
            b'\\' => s.push_str("\\\\"),
            b'\'' => s.push_str("\\'"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            0x20..=0x7e => s.push(b as char),
            _ => {
                let _ = write!(s, "\\x{b:02x}");
            }
        }
    }
    s.push('\'');
    if !is_bytes {
        s.push(')');
    }
    if bytes.len() > shown.len() {
        let _ = write!(s, "…<+{} bytes>", bytes.len() - shown.len());
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_digits_become_big_endian_bytes() {
        assert_eq!(hex_to_bytes("1"), vec![1]);
        assert_eq!(hex_to_bytes("100"), vec![1, 0]);
        assert_eq!(hex_to_bytes("ffee"), vec![0xff, 0xee]);
    }

    #[test]
    fn bytes_literals_escape_and_truncate() {
        assert_eq!(bytes_literal(b"a'\n\x00", true, 10), "b'a\\'\\n\\x00'");
        assert_eq!(
            bytes_literal(b"abcdef", false, 3),
            "bytearray(b'abc')…<+3 bytes>"
        );
    }
}
