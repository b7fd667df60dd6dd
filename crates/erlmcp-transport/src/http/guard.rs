//! Request guards of the HTTP server.
//!
//! The security checks come from `erlmcp-security`: Host and Origin allow-lists (the
//! DNS-rebinding defence — a page on `evil.example` can make a browser resolve that name to
//! `127.0.0.1`, but the browser still sends `Host: evil.example` and
//! `Origin: http://evil.example`) and header validation (CR, LF, NUL and other control
//! bytes, sizes). Refusals there are recorded as security events. What stays here is HTTP
//! plumbing: `Accept` / `Content-Type` negotiation and the shape of session ids.

use erlmcp_security::{HeaderLimits, HostAllowList, OriginAllowList};

/// The loopback names every default list holds.
pub(crate) const LOOPBACK: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

/// Parses `allowed_hosts`; the error is the first entry that does not parse.
pub(crate) fn host_list(entries: &[String]) -> Result<HostAllowList, String> {
    if let Some(bad) = entries.iter().find(|e| HostAllowList::new([e]).is_err()) {
        return Err(bad.clone());
    }
    HostAllowList::new(entries).map_err(|_| entries.join(", "))
}

/// Parses `allowed_origins`; the error is the first entry that does not parse.
pub(crate) fn origin_list(entries: &[String]) -> Result<OriginAllowList, String> {
    if let Some(bad) = entries.iter().find(|e| OriginAllowList::new([e]).is_err()) {
        return Err(bad.clone());
    }
    OriginAllowList::new(entries).map_err(|_| entries.join(", "))
}

/// True if every header passes `erlmcp-security`'s header validation (no control bytes
/// other than tab, within the size and count limits).
pub(crate) fn headers_are_clean(headers: &hyper::HeaderMap, limits: &HeaderLimits) -> bool {
    let pairs = headers
        .iter()
        .map(|(name, value)| (name.as_str().as_bytes(), value.as_bytes()));
    match erlmcp_security::validate_headers(pairs, limits) {
        Ok(()) => true,
        Err(err) => {
            tracing::debug!(kind = err.kind(), "request headers refused");
            false
        }
    }
}

/// The first `mcp-*` header whose value `erlmcp-security` refuses (control bytes, size),
/// if any.
pub(crate) fn bad_mcp_header(headers: &hyper::HeaderMap, limits: &HeaderLimits) -> Option<String> {
    headers
        .iter()
        .filter(|(name, _)| name.as_str().starts_with("mcp-"))
        .find(|(_, value)| {
            erlmcp_security::validate_header_value(value.as_bytes(), limits).is_err()
        })
        .map(|(name, _)| name.as_str().to_owned())
}

/// True if a session id has the shape MCP requires: 1..=256 visible ASCII characters.
pub(crate) fn is_session_id(value: &[u8]) -> bool {
    !value.is_empty() && value.len() <= 256 && value.iter().all(|b| (0x21..=0x7e).contains(b))
}

/// True if an `Accept` header list admits `wanted` (`type/subtype`), directly or through
/// `type/*` or `*/*`. Parameters (`;q=…`) are ignored.
pub(crate) fn accepts<'a>(values: impl Iterator<Item = &'a [u8]>, wanted: &str) -> bool {
    let (wanted_type, _) = wanted.split_once('/').unwrap_or((wanted, ""));
    values
        .filter_map(|v| std::str::from_utf8(v).ok())
        .flat_map(|v| v.split(','))
        .map(|range| range.split(';').next().unwrap_or("").trim())
        .any(|range| {
            range.eq_ignore_ascii_case(wanted)
                || range == "*/*"
                || range
                    .strip_suffix("/*")
                    .is_some_and(|t| t.eq_ignore_ascii_case(wanted_type))
        })
}

/// True if a `Content-Type` value names `wanted` (parameters such as `charset` ignored).
pub(crate) fn is_media_type(value: &[u8], wanted: &str) -> bool {
    std::str::from_utf8(value).is_ok_and(|v| {
        v.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .eq_ignore_ascii_case(wanted)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(entries: &[&str]) -> Vec<String> {
        entries.iter().map(|e| (*e).to_owned()).collect()
    }

    #[test]
    fn loopback_lists() {
        let hosts = host_list(&strings(&LOOPBACK)).unwrap();
        for ok in ["localhost", "localhost:8080", "127.0.0.1:1", "[::1]:3000"] {
            assert!(hosts.is_allowed(ok), "{ok}");
        }
        for bad in ["evil.example", "localhost@evil", "127.0.0.2", ""] {
            assert!(!hosts.is_allowed(bad), "{bad}");
        }
        let origins = origin_list(&strings(&["http://localhost:*", "https://[::1]:*"])).unwrap();
        assert!(origins.is_allowed("http://localhost:5173"));
        assert!(origins.is_allowed("https://[::1]"));
        assert!(!origins.is_allowed("http://evil.example"));
        assert!(!origins.is_allowed("null"));
    }

    #[test]
    fn bad_entries_are_named() {
        assert_eq!(
            host_list(&strings(&["localhost", "http://x"])).unwrap_err(),
            "http://x"
        );
        assert_eq!(
            origin_list(&strings(&["http://localhost", "localhost"])).unwrap_err(),
            "localhost"
        );
    }

    #[test]
    fn header_hygiene_and_negotiation() {
        let limits = HeaderLimits::default();
        let mut headers = hyper::HeaderMap::new();
        headers.insert("x-ok", hyper::header::HeaderValue::from_static("a\tb"));
        assert!(headers_are_clean(&headers, &limits));
        headers.insert(
            "x-big",
            hyper::header::HeaderValue::from_str(&"x".repeat(10_000)).unwrap(),
        );
        assert!(!headers_are_clean(&headers, &limits));
        assert!(is_session_id(b"0123abcd"));
        assert!(!is_session_id(b"has space"));
        assert!(!is_session_id(b""));
        let both: [&[u8]; 1] = [b"application/json, text/event-stream;q=0.9"];
        assert!(accepts(both.iter().copied(), "application/json"));
        assert!(accepts(both.iter().copied(), "text/event-stream"));
        let json_only: [&[u8]; 1] = [b"application/json"];
        assert!(!accepts(json_only.iter().copied(), "text/event-stream"));
        let any: [&[u8]; 1] = [b"*/*"];
        assert!(accepts(any.iter().copied(), "text/event-stream"));
        assert!(is_media_type(
            b"application/json; charset=utf-8",
            "application/json"
        ));
        assert!(!is_media_type(b"text/plain", "application/json"));
    }
}
