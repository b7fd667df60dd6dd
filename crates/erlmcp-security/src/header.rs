//! HTTP header names and values (RFC 9110 section 5), checked before they are read or
//! written.
//!
//! A name must be a non-empty `token`. A value must not contain CR, LF, NUL or any other
//! control byte except horizontal tab, and must not start or end with whitespace; bytes
//! `0x80..=0xff` (`obs-text`) are allowed, as RFC 9110 allows them. Each has a size limit
//! ([`HeaderLimits`]), and so does a whole header block.
//!
//! ```
//! use erlmcp_security::{HeaderLimits, validate_header_name, validate_header_value};
//!
//! let limits = HeaderLimits::default();
//! validate_header_name("Mcp-Session-Id", &limits)?;
//! validate_header_value("0195d5c8-9c52-7d3a", &limits)?;
//!
//! let injected = validate_header_value("abc\r\nSet-Cookie: x=1", &limits).unwrap_err();
//! assert_eq!(injected.kind(), "header.crlf");
//! # Ok::<(), erlmcp_security::SecurityError>(())
//! ```

use crate::config::HeaderLimits;
use crate::error::{Counted, HeaderFault, SecurityError, Subject};
use crate::event;

/// RFC 9110 `tchar`.
pub(crate) fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        )
}

fn check_name(name: &[u8], limits: &HeaderLimits) -> Result<(), SecurityError> {
    if name.len() > limits.max_name_bytes {
        return Err(SecurityError::TooLong {
            subject: Subject::HeaderName,
            len: name.len(),
            max: limits.max_name_bytes,
        });
    }
    if name.is_empty() {
        return Err(SecurityError::EmptyHeaderName);
    }
    match name.iter().position(|&b| !is_tchar(b)) {
        Some(index) => Err(SecurityError::InvalidHeaderName {
            index,
            byte: name[index],
        }),
        None => Ok(()),
    }
}

fn check_value(value: &[u8], limits: &HeaderLimits) -> Result<(), SecurityError> {
    if value.len() > limits.max_value_bytes {
        return Err(SecurityError::TooLong {
            subject: Subject::HeaderValue,
            len: value.len(),
            max: limits.max_value_bytes,
        });
    }
    for (index, &b) in value.iter().enumerate() {
        let fault = match b {
            b'\r' => HeaderFault::Cr,
            b'\n' => HeaderFault::Lf,
            0 => HeaderFault::Nul,
            b'\t' => continue,
            0x01..=0x1f | 0x7f => HeaderFault::Control,
            _ => continue,
        };
        return Err(SecurityError::InvalidHeaderValue { index, fault });
    }
    let edge = |b: &u8| matches!(b, b' ' | b'\t');
    if value.first().is_some_and(edge) {
        return Err(SecurityError::InvalidHeaderValue {
            index: 0,
            fault: HeaderFault::EdgeWhitespace,
        });
    }
    if value.last().is_some_and(edge) {
        return Err(SecurityError::InvalidHeaderValue {
            index: value.len() - 1,
            fault: HeaderFault::EdgeWhitespace,
        });
    }
    Ok(())
}

/// Checks a header name: a non-empty RFC 9110 token within
/// [`HeaderLimits::max_name_bytes`]. A refusal is recorded as a security event.
pub fn validate_header_name(
    name: impl AsRef<[u8]>,
    limits: &HeaderLimits,
) -> Result<(), SecurityError> {
    event::report(check_name(name.as_ref(), limits))
}

/// Checks a header value: no CR, LF, NUL or other control byte (tab excepted), no
/// leading or trailing whitespace, within [`HeaderLimits::max_value_bytes`]. A refusal is
/// recorded as a security event.
pub fn validate_header_value(
    value: impl AsRef<[u8]>,
    limits: &HeaderLimits,
) -> Result<(), SecurityError> {
    event::report(check_value(value.as_ref(), limits))
}

/// Checks one header: [`validate_header_name`] then [`validate_header_value`].
pub fn validate_header(
    name: impl AsRef<[u8]>,
    value: impl AsRef<[u8]>,
    limits: &HeaderLimits,
) -> Result<(), SecurityError> {
    event::report(
        check_name(name.as_ref(), limits).and_then(|()| check_value(value.as_ref(), limits)),
    )
}

/// Checks every header of one message, and the count and total size limits
/// ([`HeaderLimits::max_count`], [`HeaderLimits::max_total_bytes`]). Stops at the first
/// refusal.
pub fn validate_headers<I, N, V>(headers: I, limits: &HeaderLimits) -> Result<(), SecurityError>
where
    I: IntoIterator<Item = (N, V)>,
    N: AsRef<[u8]>,
    V: AsRef<[u8]>,
{
    let check = || {
        let mut count = 0usize;
        let mut total = 0usize;
        for (name, value) in headers {
            let (name, value) = (name.as_ref(), value.as_ref());
            count += 1;
            if count > limits.max_count {
                return Err(SecurityError::TooMany {
                    subject: Counted::Headers,
                    count,
                    max: limits.max_count,
                });
            }
            total = total.saturating_add(name.len()).saturating_add(value.len());
            if total > limits.max_total_bytes {
                return Err(SecurityError::TooLong {
                    subject: Subject::HeaderBlock,
                    len: total,
                    max: limits.max_total_bytes,
                });
            }
            check_name(name, limits)?;
            check_value(value, limits)?;
        }
        Ok(())
    };
    event::report(check())
}
