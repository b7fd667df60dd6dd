//! Header names and values, Host and Origin: no panic, and the validators agree with a
//! byte-level oracle (nothing with CR, LF, NUL or another control byte is accepted).
//!
//! Input: `name : value`, split at the first `:`; every line is also one header of a block.
#![no_main]

use std::sync::LazyLock;

use erlmcp_security::{
    HeaderLimits, HostAllowList, OriginAllowList, validate_header_name, validate_header_value,
    validate_headers,
};
use libfuzzer_sys::fuzz_target;

static LIMITS: LazyLock<HeaderLimits> = LazyLock::new(HeaderLimits::default);
static ORIGINS: LazyLock<OriginAllowList> = LazyLock::new(|| {
    OriginAllowList::new([
        "https://app.example.com",
        "http://localhost:*",
        "https://*.example.org",
    ])
    .unwrap_or_else(|_| OriginAllowList::localhost())
});

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == b':').unwrap_or(data.len());
    let (name, value) = (&data[..split], data.get(split + 1..).unwrap_or(&[]));

    if validate_header_name(name, &LIMITS).is_ok() {
        assert!(!name.is_empty() && name.iter().copied().all(is_tchar));
    }
    if validate_header_value(value, &LIMITS).is_ok() {
        assert!(!value.iter().any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f));
        assert!(!value.starts_with(b" ") && !value.ends_with(b" "));
    }

    let headers = data.split(|&b| b == b'\n').map(|line| {
        let split = line.iter().position(|&b| b == b':').unwrap_or(line.len());
        (&line[..split], line.get(split + 1..).unwrap_or(&[]))
    });
    let _ = validate_headers(headers, &LIMITS);

    if let Ok(text) = std::str::from_utf8(value) {
        if HostAllowList::localhost().check(text).is_ok() {
            assert!(text.is_ascii() && !text.contains(['@', '#', '/', ' ', '\r', '\n']));
        }
        if ORIGINS.check(text).is_ok() {
            assert!(text.is_ascii() && !text.contains(['@', '#', ' ', '\r', '\n', '?']));
        }
    }
});
