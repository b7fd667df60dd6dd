//! Header-injection vectors, each asserted refused with the expected kind; legitimate
//! headers asserted accepted; Host and Origin allow-lists against DNS rebinding.

// Test helpers panic on failure by design.
#![allow(clippy::unwrap_used)]

use std::collections::HashSet;

use erlmcp_security::{
    HeaderLimits, HostAllowList, OriginAllowList, validate_header, validate_header_name,
    validate_header_value, validate_headers,
};

/// (value, expected kind).
const VALUE_VECTORS: &[(&[u8], &str)] = &[
    (b"abc\r\nSet-Cookie: session=evil", "header.crlf"),
    (b"abc\nX-Injected: 1", "header.crlf"),
    (b"abc\rX-Injected: 1", "header.crlf"),
    (b"\r\n", "header.crlf"),
    (b"\n", "header.crlf"),
    (b"\r", "header.crlf"),
    (b"value\r\n\r\n<script>alert(1)</script>", "header.crlf"),
    (
        b"text/html\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK",
        "header.crlf",
    ),
    (b"en\r\n Location: http://evil.example", "header.crlf"),
    (b"a\n\tfolded-continuation", "header.crlf"),
    (b"ok\r\n", "header.crlf"),
    (b"2025-06-18\r\nMcp-Session-Id: stolen", "header.crlf"),
    (b"Bearer token\nAuthorization: Bearer other", "header.crlf"),
    (b"a\0b", "header.nul"),
    (b"\0", "header.nul"),
    (b"session\0id", "header.nul"),
    (b"id\0\r\nX: y", "header.nul"),
    (b"a\x1b[31mred", "header.control"),
    (b"\x7f", "header.control"),
    (b"bell\x07", "header.control"),
    (b"back\x08space", "header.control"),
    (b"vt\x0btab", "header.control"),
    (b"form\x0cfeed", "header.control"),
    (b" leading", "header.whitespace"),
    (b"trailing ", "header.whitespace"),
    (b"\tleading-tab", "header.whitespace"),
    (b"trailing-tab\t", "header.whitespace"),
];

/// (name, expected kind).
const NAME_VECTORS: &[(&[u8], &str)] = &[
    (b"X-Foo\r\nX-Bar", "header.bad_name"),
    (b"X-Foo\nX-Bar", "header.bad_name"),
    (b"X Foo", "header.bad_name"),
    (b"X-Foo:", "header.bad_name"),
    (b"Host:evil", "header.bad_name"),
    (b"X-Foo\0", "header.bad_name"),
    (b"", "header.bad_name"),
    (b"X-Foo ", "header.bad_name"),
    (b" X-Foo", "header.bad_name"),
    (b"X(Foo)", "header.bad_name"),
    (b"X@Foo", "header.bad_name"),
    (b"X/Foo", "header.bad_name"),
    (b"X[Foo]", "header.bad_name"),
    (b"X{Foo}", "header.bad_name"),
    (b"X\"Foo", "header.bad_name"),
    (b"X,Foo", "header.bad_name"),
    (b"X;Foo", "header.bad_name"),
    (b"X=Foo", "header.bad_name"),
    (b"X?Foo", "header.bad_name"),
    (b"X\\Foo", "header.bad_name"),
    (b"X\tFoo", "header.bad_name"),
    (b"\xc3\x84-Header", "header.bad_name"),
    (b"X-Fo\x7fo", "header.bad_name"),
    (b"X<Foo>", "header.bad_name"),
];

#[test]
fn value_vectors_are_refused() {
    let limits = HeaderLimits::default();
    for (value, kind) in VALUE_VECTORS {
        let e = validate_header_value(value, &limits).unwrap_err();
        assert_eq!(e.kind(), *kind, "{:?}", String::from_utf8_lossy(value));
        let e = validate_header("X-Test", value, &limits).unwrap_err();
        assert_eq!(e.kind(), *kind);
    }
}

#[test]
fn every_control_byte_is_refused() {
    let limits = HeaderLimits::default();
    for b in (0u8..0x20).chain([0x7f]) {
        if b == b'\t' {
            continue;
        }
        let value = [b'a', b, b'z'];
        let e = validate_header_value(value, &limits).unwrap_err();
        let expected = match b {
            b'\r' | b'\n' => "header.crlf",
            0 => "header.nul",
            _ => "header.control",
        };
        assert_eq!(e.kind(), expected, "byte {b:#04x}");
        assert!(
            validate_header_name([b'X', b], &limits).is_err(),
            "name byte {b:#04x}"
        );
    }
}

#[test]
fn name_vectors_are_refused() {
    let limits = HeaderLimits::default();
    for (name, kind) in NAME_VECTORS {
        let e = validate_header_name(name, &limits).unwrap_err();
        assert_eq!(e.kind(), *kind, "{:?}", String::from_utf8_lossy(name));
    }
}

#[test]
fn size_limits() {
    let limits = HeaderLimits::default();
    let long_name = "X".repeat(300);
    assert_eq!(
        validate_header_name(&long_name, &limits)
            .unwrap_err()
            .kind(),
        "header.name_too_long"
    );
    let long_value = "v".repeat(9000);
    assert_eq!(
        validate_header_value(&long_value, &limits)
            .unwrap_err()
            .kind(),
        "header.value_too_long"
    );
    let many: Vec<(String, &str)> = (0..101).map(|i| (format!("X-{i}"), "v")).collect();
    assert_eq!(
        validate_headers(many, &limits).unwrap_err().kind(),
        "header.too_many"
    );
    let big = "b".repeat(8000);
    let heavy: Vec<(String, &str)> = (0..10).map(|i| (format!("X-{i}"), big.as_str())).collect();
    assert_eq!(
        validate_headers(heavy, &limits).unwrap_err().kind(),
        "header.block_too_large"
    );
    let injected = [("Accept", "text/plain"), ("X-Evil", "a\r\nb")];
    assert_eq!(
        validate_headers(injected, &limits).unwrap_err().kind(),
        "header.crlf"
    );
}

#[test]
fn legitimate_headers_are_accepted() {
    let limits = HeaderLimits::default();
    let ok: &[(&[u8], &[u8])] = &[
        (b"Content-Type", b"application/json"),
        (b"Mcp-Session-Id", b"0195d5c8-9c52-7d3a-b0f2-6f1d2c3e4a5b"),
        (b"MCP-Protocol-Version", b"2025-06-18"),
        (b"Authorization", b"Bearer abc.def-ghi_jkl~"),
        (b"Accept", b"application/json, text/event-stream"),
        (b"X-Tab", b"a\tb"),
        (b"User-Agent", b"erlmcp/0.1 (linux; x86_64)"),
        (b"Cookie", b"a=1; b=2"),
        (b"X-Latin1", b"caf\xe9"),
        (b"X-Utf8", "café ☕".as_bytes()),
        (b"X-Empty", b""),
        (b"!#$%&'*+-.^_`|~09azAZ", b"x"),
        (b"Last-Event-ID", b"42"),
    ];
    for (name, value) in ok {
        validate_header(name, value, &limits).unwrap();
    }
    validate_headers(ok.iter().copied(), &limits).unwrap();
}

const HOST_VECTORS: &[&str] = &[
    "evil.example",
    "localhost.evil.example",
    "evil.example:80",
    "127.0.0.1.nip.io",
    "localhost@evil.example",
    "localhost:80@evil.example",
    "evil.example#localhost",
    "[::1].evil.example",
    "0x7f000001",
    "2130706433",
    "127.1",
    "LOCALHOST.evil",
    "localhost\r\n",
    "",
    " localhost",
    "localhost ",
    "local host",
    "localhost:8080:80",
    "[::2]",
    "localhost:99999",
];

const ORIGIN_VECTORS: &[&str] = &[
    "http://evil.example",
    "http://localhost.evil.example",
    "null",
    "http://localhost@evil.example",
    "https://localhost:3000/path",
    "http://localhost:3000/",
    "file://",
    "http://127.0.0.1.evil.example",
    "javascript:alert(1)",
    "http://[::1].evil",
    "HTTP://EVIL.EXAMPLE",
    "ws://evil.example",
    "http://localhost:3000\r\n",
    "localhost:3000",
];

#[test]
fn dns_rebinding_hosts_and_origins_are_refused() {
    let hosts = HostAllowList::localhost();
    for h in HOST_VECTORS {
        assert_eq!(
            hosts.check(h).unwrap_err().kind(),
            "host.not_allowed",
            "{h:?}"
        );
    }
    for h in [
        "localhost",
        "localhost:3000",
        "LOCALHOST",
        "localhost.",
        "127.0.0.1:80",
        "[::1]",
    ] {
        hosts.check(h).unwrap();
    }
    let origins = OriginAllowList::localhost();
    for o in ORIGIN_VECTORS {
        assert_eq!(
            origins.check(o).unwrap_err().kind(),
            "origin.not_allowed",
            "{o:?}"
        );
    }
    for o in [
        "http://localhost:3000",
        "https://127.0.0.1",
        "http://[::1]:8080",
    ] {
        origins.check(o).unwrap();
    }
}

#[test]
fn vector_count() {
    let mut distinct = HashSet::new();
    distinct.extend(
        VALUE_VECTORS
            .iter()
            .map(|(v, _)| [b"v:".as_slice(), v].concat()),
    );
    distinct.extend(
        NAME_VECTORS
            .iter()
            .map(|(n, _)| [b"n:".as_slice(), n].concat()),
    );
    let total = VALUE_VECTORS.len() + NAME_VECTORS.len();
    assert_eq!(distinct.len(), total, "duplicate vectors");
    // Plus 31 single control bytes in values and names, 5 size vectors, and the Host and
    // Origin tables.
    assert!(total >= 50, "only {total} header-injection vectors");
    println!(
        "{total} header vectors + {} control bytes + {} hosts + {} origins",
        31,
        HOST_VECTORS.len(),
        ORIGIN_VECTORS.len()
    );
}
