//! The JSON back end: serde_json by default, simd-json with the `simd` feature.
//!
//! Everything else in the codec goes through these functions, so both back ends run
//! the same tests and produce the same types.

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

/// Which back end this build uses (`"serde_json"` or `"simd-json"`), for evidence records.
pub const BACKEND: &str = if cfg!(feature = "simd") {
    "simd-json"
} else {
    "serde_json"
};
