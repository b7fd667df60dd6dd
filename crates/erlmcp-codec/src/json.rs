//! The JSON back end: serde_json by default, simd-json with the `simd` feature.
//!
//! Everything else in the codec goes through these functions, so both back ends run
//! the same tests and produce the same types.
//!
//! Output: [`write_value`] writes a [`Value`] as compact JSON, byte for byte what
//! `serde_json::to_writer` writes, but it escapes strings a 32-byte block at a time
//! where serde_json looks up every byte in a table. Every outbound message carries its
//! payload as strings (a 4 KB `tools/call` echo spent over half of its server time in
//! serde_json's per-byte escaping), so this is on the hot path of every answer.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::ParseError;

/// Parses one JSON text into a [`Value`]. The buffer may be modified (simd-json parses
/// in place); its contents are unspecified afterwards.
pub fn parse_value(buf: &mut [u8]) -> Result<Value, ParseError> {
    from_slice(buf)
}

/// Parses one JSON text into any owned type.
#[cfg(not(feature = "simd"))]
pub fn from_slice<T: DeserializeOwned>(buf: &mut [u8]) -> Result<T, ParseError> {
    serde_json::from_slice(buf).map_err(|_| ParseError::invalid_json())
}

/// Parses one JSON text into any owned type.
#[cfg(feature = "simd")]
pub fn from_slice<T: DeserializeOwned>(buf: &mut [u8]) -> Result<T, ParseError> {
    simd_json::serde::from_slice(buf).map_err(|_| ParseError::invalid_json())
}

/// Writes `value` as compact JSON onto the end of `out` (the same bytes as
/// `serde_json::to_writer`).
pub fn write_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        // serde_json's own formatting (itoa / ryu); writing into a Vec cannot fail.
        Value::Number(n) => {
            let _ = serde_json::to_writer(&mut *out, n);
        }
        Value::String(s) => write_str(out, s),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            out.push(b'{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(out, key);
                out.push(b':');
                write_value(out, item);
            }
            out.push(b'}');
        }
    }
}

/// Bytes scanned per step while looking for a byte that needs escaping.
const BLOCK: usize = 32;

/// Writes `s` as a JSON string (quotes included) onto the end of `out`, escaping as
/// serde_json does: `\"`, `\\`, `\b \f \n \r \t`, and `\u00xx` (lowercase hex) for the
/// other control characters; everything else, non-ASCII included, is copied as is.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    // `start..i` is the run of bytes already scanned that need no escape.
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        if let Some(block) = bytes
            .get(i..i + BLOCK)
            .and_then(|b| <&[u8; BLOCK]>::try_from(b).ok())
            && block_is_plain(block)
        {
            i += BLOCK;
            continue;
        }
        let byte = bytes[i];
        if needs_escape(byte) {
            out.extend_from_slice(&bytes[start..i]);
            write_escape(out, byte);
            start = i + 1;
        }
        i += 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// True when no byte of `block` needs escaping. Flags first, then one OR over them: the
/// compiler turns this into a few vector compares and a single mask test per block
/// (an early-exit or a per-byte fold costs about twice as many instructions).
#[inline(always)]
fn block_is_plain(block: &[u8; BLOCK]) -> bool {
    let mut flags = [false; BLOCK];
    for (flag, &byte) in flags.iter_mut().zip(block) {
        *flag = needs_escape(byte);
    }
    flags.iter().fold(0u8, |acc, &flag| acc | u8::from(flag)) == 0
}

#[inline(always)]
fn needs_escape(byte: u8) -> bool {
    (byte < 0x20) | (byte == b'"') | (byte == b'\\')
}

fn write_escape(out: &mut Vec<u8>, byte: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let short = match byte {
        b'"' => b'"',
        b'\\' => b'\\',
        0x08 => b'b',
        0x0C => b'f',
        b'\n' => b'n',
        b'\r' => b'r',
        b'\t' => b't',
        _ => {
            out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(byte >> 4)],
                HEX[usize::from(byte & 0xF)],
            ]);
            return;
        }
    };
    out.extend_from_slice(&[b'\\', short]);
}

/// Which back end this build uses (`"serde_json"` or `"simd-json"`), for evidence records.
pub const BACKEND: &str = if cfg!(feature = "simd") {
    "simd-json"
} else {
    "serde_json"
};
