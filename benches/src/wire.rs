//! Request lines and a byte scanner for JSON-RPC envelopes.
//!
//! The harness must not be the bottleneck, so it never parses a whole response: the
//! scanner walks the top-level object's members, jumping over string values with `memchr`,
//! and hands back the raw bytes of the members it cares about. It understands exactly
//! enough JSON to skip values (strings with escapes, nested objects and arrays, scalars);
//! keys are compared as raw bytes, so a key written with escapes (`"\u0069d"`) is not
//! recognised. Malformed input gives `None`, never a panic.

use std::ops::ControlFlow;

use memchr::memchr2;

/// The MCP version the harness negotiates.
pub const PROTOCOL_VERSION: &str = "2025-11-25";

/// The method of the one-way load notifications. No server knows it, so a conforming
/// server ignores them.
pub const LOAD_NOTIFICATION: &str = "notifications/erlmcp/load";

/// The id the harness gives `initialize`; load requests count up from 1.
pub const INITIALIZE_ID: u64 = 0;

const CALL_PREFIX: &[u8] = br#"{"jsonrpc":"2.0","id":"#;
const CALL_MIDDLE: &[u8] =
    br#","method":"tools/call","params":{"name":"echo","arguments":{"text":""#;
const CALL_SUFFIX: &[u8] = br#""}}}"#;
const NOTE_PREFIX: &[u8] =
    br#"{"jsonrpc":"2.0","method":"notifications/erlmcp/load","params":{"data":""#;
const NOTE_SUFFIX: &[u8] = br#""}}"#;
const RESULT_PREFIX: &[u8] = br#"{"jsonrpc":"2.0","id":"#;
const RESULT_MIDDLE: &[u8] = br#","result":{"content":[{"type":"text","text":""#;
const RESULT_SUFFIX: &[u8] = br#""}]}}"#;

/// The `initialize` request (one line, newline included).
pub fn initialize_request(id: u64) -> Vec<u8> {
    line(&serde_json::json!({
        "jsonrpc": "2.0",
        "id": id,
        "method": "initialize",
        "params": {
            "protocolVersion": PROTOCOL_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "erlmcp-load", "version": env!("CARGO_PKG_VERSION")},
        },
    }))
}

/// The `notifications/initialized` notification (one line, newline included).
pub fn initialized_notification() -> Vec<u8> {
    line(&serde_json::json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
}

/// A `ping` request (one line, newline included).
pub fn ping_request(id: u64) -> Vec<u8> {
    line(&serde_json::json!({"jsonrpc": "2.0", "id": id, "method": "ping"}))
}

fn line(value: &serde_json::Value) -> Vec<u8> {
    let mut out = value.to_string().into_bytes();
    out.push(b'\n');
    out
}

/// Builds fixed-size load lines: every line is `payload` bytes long (newline excluded),
/// padded with `x` characters, unless `payload` is smaller than the envelope itself.
#[derive(Debug, Clone)]
pub struct PaddedLines {
    payload: usize,
    fill: Vec<u8>,
}

impl PaddedLines {
    /// Lines of `payload` bytes each.
    pub fn new(payload: usize) -> Self {
        PaddedLines {
            payload,
            fill: vec![b'x'; payload],
        }
    }

    /// The target line size.
    pub fn payload(&self) -> usize {
        self.payload
    }

    /// How many `x` characters the `echo` text of request `id` has.
    pub fn echo_text_len(&self, id: u64) -> usize {
        let envelope = CALL_PREFIX.len() + digits(id) + CALL_MIDDLE.len() + CALL_SUFFIX.len();
        self.payload.saturating_sub(envelope)
    }

    /// Appends a `tools/call` of `echo` with id `id`, and a newline, to `out`.
    pub fn echo_call(&self, id: u64, out: &mut Vec<u8>) {
        out.extend_from_slice(CALL_PREFIX);
        push_u64(id, out);
        out.extend_from_slice(CALL_MIDDLE);
        out.extend_from_slice(&self.fill[..self.echo_text_len(id)]);
        out.extend_from_slice(CALL_SUFFIX);
        out.push(b'\n');
    }

    /// Appends a `notifications/erlmcp/load` notification, and a newline, to `out`.
    pub fn load_notification(&self, out: &mut Vec<u8>) {
        let pad = self
            .payload
            .saturating_sub(NOTE_PREFIX.len() + NOTE_SUFFIX.len());
        out.extend_from_slice(NOTE_PREFIX);
        out.extend_from_slice(&self.fill[..pad]);
        out.extend_from_slice(NOTE_SUFFIX);
        out.push(b'\n');
    }
}

/// Appends the ceiling peer's answer to a request with raw id `id`: a `tools/call`-shaped
/// result padded with `x` to `size` bytes (newline excluded), and a newline.
pub fn ceiling_response(id: &[u8], size: usize, out: &mut Vec<u8>) {
    const FILL: [u8; 1024] = [b'x'; 1024];
    let envelope = RESULT_PREFIX.len() + id.len() + RESULT_MIDDLE.len() + RESULT_SUFFIX.len();
    let mut pad = size.saturating_sub(envelope);
    out.reserve(envelope + pad + 1);
    out.extend_from_slice(RESULT_PREFIX);
    out.extend_from_slice(id);
    out.extend_from_slice(RESULT_MIDDLE);
    while pad > 0 {
        let n = pad.min(FILL.len());
        out.extend_from_slice(&FILL[..n]);
        pad -= n;
    }
    out.extend_from_slice(RESULT_SUFFIX);
    out.push(b'\n');
}

fn digits(mut n: u64) -> usize {
    let mut d = 1;
    while n >= 10 {
        n /= 10;
        d += 1;
    }
    d
}

fn push_u64(n: u64, out: &mut Vec<u8>) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut n = n;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// Parses a raw id made of ASCII digits only (no sign, no fraction, no quotes).
pub fn parse_u64(raw: &[u8]) -> Option<u64> {
    if raw.is_empty() || raw.len() > 20 {
        return None;
    }
    raw.iter().try_fold(0u64, |acc, &b| {
        b.is_ascii_digit()
            .then_some(())
            .and_then(|()| acc.checked_mul(10)?.checked_add(u64::from(b - b'0')))
    })
}

/// What the scanner saw of one message's top-level members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Envelope<'a> {
    /// The raw bytes of the `id` value (a number's digits, a string with its quotes,
    /// `null`), if there is one.
    pub id: Option<&'a [u8]>,
    /// A `result` member is present.
    pub has_result: bool,
    /// An `error` member is present.
    pub has_error: bool,
    /// A `method` member is present.
    pub has_method: bool,
}

/// Scans every top-level member of one JSON object; `None` if the line is not a
/// well-formed object as far as the scanner can tell.
pub fn scan_envelope(line: &[u8]) -> Option<Envelope<'_>> {
    let mut env = Envelope::default();
    for_each_member(line, |key, value| {
        match key {
            b"id" => env.id = Some(value),
            b"result" => env.has_result = true,
            b"error" => env.has_error = true,
            b"method" => env.has_method = true,
            _ => {}
        }
        ControlFlow::Continue(())
    })?;
    Some(env)
}

/// The raw bytes of the top-level `id` value, stopping as soon as it is found; `None` when
/// there is no id, the id is `null`, or the line is malformed before the id.
pub fn find_id(line: &[u8]) -> Option<&[u8]> {
    let mut id = None;
    // A malformed tail after the id does not matter: the id was read.
    let _ = for_each_member(line, |key, value| {
        if key == b"id" {
            id = Some(value);
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    });
    id.filter(|v| *v != b"null")
}

/// Calls `f(key, raw_value)` for each top-level member until it breaks or the object ends.
fn for_each_member<'a>(
    line: &'a [u8],
    mut f: impl FnMut(&'a [u8], &'a [u8]) -> ControlFlow<()>,
) -> Option<()> {
    let mut i = skip_ws(line, 0);
    if line.get(i) != Some(&b'{') {
        return None;
    }
    i = skip_ws(line, i + 1);
    if line.get(i) == Some(&b'}') {
        return Some(());
    }
    loop {
        if line.get(i) != Some(&b'"') {
            return None;
        }
        let key_end = string_end(line, i)?;
        let key = &line[i + 1..key_end - 1];
        i = skip_ws(line, key_end);
        if line.get(i) != Some(&b':') {
            return None;
        }
        i = skip_ws(line, i + 1);
        let value_end = value_end(line, i)?;
        if f(key, &line[i..value_end]).is_break() {
            return Some(());
        }
        i = skip_ws(line, value_end);
        match line.get(i) {
            Some(b',') => i = skip_ws(line, i + 1),
            Some(b'}') => return Some(()),
            _ => return None,
        }
    }
}

fn skip_ws(line: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\r' | b'\n') = line.get(i) {
        i += 1;
    }
    i
}

/// `line[start]` is `"`; returns the index just past the closing quote.
fn string_end(line: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    loop {
        let off = memchr2(b'"', b'\\', line.get(i..)?)?;
        i += off;
        if line[i] == b'\\' {
            i += 2;
        } else {
            return Some(i + 1);
        }
    }
}

/// Returns the index just past the value starting at `line[start]`.
fn value_end(line: &[u8], start: usize) -> Option<usize> {
    match *line.get(start)? {
        b'"' => string_end(line, start),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = start;
            loop {
                match *line.get(i)? {
                    b'"' => {
                        i = string_end(line, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
        }
        _ => {
            let mut i = start;
            while let Some(&b) = line.get(i) {
                if matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n') {
                    break;
                }
                i += 1;
            }
            (i > start).then_some(i)
        }
    }
}

/// Strips a trailing `\n` and `\r`.
pub fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_calls_have_the_exact_size_and_parse() {
        let lines = PaddedLines::new(4096);
        for id in [1, 9, 10, 12_345, u64::MAX] {
            let mut out = Vec::new();
            lines.echo_call(id, &mut out);
            assert_eq!(out.len(), 4097, "id {id}");
            let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
            assert_eq!(v["id"], id);
            assert_eq!(v["method"], "tools/call");
            assert_eq!(v["params"]["name"], "echo");
            let text = v["params"]["arguments"]["text"].as_str().unwrap();
            assert_eq!(text.len(), lines.echo_text_len(id));
            assert_eq!(
                find_id(trim_line_end(&out)),
                Some(id.to_string().as_bytes())
            );
        }
    }

    #[test]
    fn notifications_and_ceiling_responses_have_the_exact_size() {
        let lines = PaddedLines::new(4096);
        let mut out = Vec::new();
        lines.load_notification(&mut out);
        assert_eq!(out.len(), 4097);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["method"], LOAD_NOTIFICATION);
        assert!(v.get("id").is_none());
        assert_eq!(find_id(trim_line_end(&out)), None);

        let mut out = Vec::new();
        ceiling_response(b"\"abc\"", 4096, &mut out);
        assert_eq!(out.len(), 4097);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["id"], "abc");
        assert_eq!(v["result"]["content"][0]["type"], "text");
    }

    #[test]
    fn small_payloads_do_not_underflow() {
        let lines = PaddedLines::new(10);
        let mut out = Vec::new();
        lines.echo_call(7, &mut out);
        assert!(serde_json::from_slice::<serde_json::Value>(&out).is_ok());
        let mut out = Vec::new();
        ceiling_response(b"7", 0, &mut out);
        assert!(serde_json::from_slice::<serde_json::Value>(&out).is_ok());
    }

    #[test]
    fn scanner_reads_only_top_level_members() {
        let line =
            br#"{"result":{"id":99,"x":[1,{"id":2}],"s":"\"id\":3"},"id":42,"jsonrpc":"2.0"}"#;
        let env = scan_envelope(line).unwrap();
        assert_eq!(env.id, Some(&b"42"[..]));
        assert!(env.has_result && !env.has_error && !env.has_method);
        assert_eq!(find_id(line), Some(&b"42"[..]));

        let err = br#" { "jsonrpc" : "2.0" , "id" : "a\"b" , "error" : {"code":-32601} } "#;
        let env = scan_envelope(err).unwrap();
        assert_eq!(env.id, Some(&br#""a\"b""#[..]));
        assert!(env.has_error);

        assert_eq!(find_id(br#"{"jsonrpc":"2.0","id":null,"error":{}}"#), None);
        assert_eq!(scan_envelope(b"{}"), Some(Envelope::default()));
    }

    #[test]
    fn scanner_rejects_garbage_without_panicking() {
        for bad in [
            &b""[..],
            b"[1,2]",
            b"{",
            b"{\"id\"",
            b"{\"id\":}",
            b"{\"a\":\"unterminated}",
            b"{\"a\":{\"b\":[}",
            b"{\"a\":1 \"b\":2}",
            b"{\"a\":\"\\",
            b"null",
        ] {
            assert_eq!(
                scan_envelope(bad),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn parses_ids() {
        assert_eq!(parse_u64(b"0"), Some(0));
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64(b"18446744073709551616"), None);
        assert_eq!(parse_u64(b"\"1\""), None);
        assert_eq!(parse_u64(b"-1"), None);
        assert_eq!(parse_u64(b""), None);
    }
}
