//! Path-traversal vectors, each asserted refused with the expected kind, and legitimate
//! URIs asserted accepted: a validator that refuses everything is not done.
//!
//! Four tables: whole URIs ([`CanonicalUri`]), relative paths ([`RelativePath`]), values
//! matched from URI templates, and URIs opened through a [`Sandbox`] over a real
//! directory with symbolic links planted in it.

// Test helpers panic on failure by design.
#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::path::Path;

use erlmcp_security::{
    CanonicalUri, RelativePath, Sandbox, SandboxLimits, SecurityConfig, UriPolicy, UriTemplate,
};

/// (URI, expected kind).
const URI_VECTORS: &[(&str, &str)] = &[
    // Plain dot segments.
    ("file:///srv/data/../etc/passwd", "traversal.dot_segment"),
    (
        "file:///srv/data/../../../../etc/passwd",
        "traversal.dot_segment",
    ),
    ("file:///srv/data/./secret", "traversal.dot_segment"),
    ("file:///srv/data/..", "traversal.dot_segment"),
    (
        "file:///srv/data/docs/../../etc/shadow",
        "traversal.dot_segment",
    ),
    ("file://localhost/../etc/passwd", "traversal.dot_segment"),
    ("file:/../etc/passwd", "traversal.dot_segment"),
    (
        "http://example.com/../../etc/passwd",
        "traversal.dot_segment",
    ),
    (
        "https://example.com/static/../../../app/config.yml",
        "traversal.dot_segment",
    ),
    ("urn:x:/a/../b", "traversal.dot_segment"),
    // Windows spellings of dot segments, and `..;` path parameters.
    ("file:///srv/data/.../etc", "traversal.dot_segment"),
    ("file:///srv/data/..../etc", "traversal.dot_segment"),
    ("file:///srv/data/..;/etc/passwd", "traversal.dot_segment"),
    ("file:///srv/data/.;/secret", "traversal.dot_segment"),
    (
        "http://example.com/app/..;jsessionid=1/admin",
        "traversal.dot_segment",
    ),
    // Percent-encoded dots.
    (
        "file:///srv/data/%2e%2e/etc/passwd",
        "traversal.encoded_dot",
    ),
    (
        "file:///srv/data/%2E%2E/etc/passwd",
        "traversal.encoded_dot",
    ),
    ("file:///srv/data/.%2e/etc/passwd", "traversal.encoded_dot"),
    ("file:///srv/data/%2e./etc/passwd", "traversal.encoded_dot"),
    ("file:///srv/data/%2e/etc", "traversal.encoded_dot"),
    ("file:///srv/data/..%20/etc", "traversal.encoded_dot"),
    ("file:///srv/data/.%20./etc", "traversal.encoded_dot"),
    ("file:///srv/data/%20../etc", "traversal.encoded_dot"),
    ("file:///srv/data/%2e%2e;x/etc", "traversal.encoded_dot"),
    (
        "http://example.com/a/%2e%2e/%2e%2e/etc/passwd",
        "traversal.encoded_dot",
    ),
    // Encoded slashes inside a segment.
    (
        "file:///srv/data/%2e%2e%2fetc%2fpasswd",
        "traversal.encoded_slash",
    ),
    (
        "file:///srv/data/..%2fetc%2fpasswd",
        "traversal.encoded_slash",
    ),
    (
        "file:///srv/data/%2e%2e%2f%2e%2e%2fetc",
        "traversal.encoded_slash",
    ),
    ("file:///srv/data/..%2F..%2Fetc", "traversal.encoded_slash"),
    (
        "https://example.com/static/..%2f..%2fetc/passwd",
        "traversal.encoded_slash",
    ),
    (
        "file:///srv/data/a%2f..%2f..%2fb",
        "traversal.encoded_slash",
    ),
    // Double (and triple) encoding.
    (
        "file:///srv/data/%252e%252e/etc/passwd",
        "traversal.double_encoding",
    ),
    (
        "file:///srv/data/%252e%252e%252fetc",
        "traversal.double_encoding",
    ),
    ("file:///srv/data/..%252fetc", "traversal.double_encoding"),
    (
        "file:///srv/data/%25252e%25252e/etc",
        "traversal.double_encoding",
    ),
    ("file:///srv/data/%2525%32%65", "traversal.double_encoding"),
    (
        "file:///srv/data/%255c..%255cetc",
        "traversal.double_encoding",
    ),
    ("file:///srv/data/%2500", "traversal.double_encoding"),
    // Overlong and invalid UTF-8.
    (
        "file:///srv/data/%c0%ae%c0%ae/etc/passwd",
        "traversal.overlong_utf8",
    ),
    (
        "file:///srv/data/%c0%ae%c0%ae%c0%afetc",
        "traversal.overlong_utf8",
    ),
    (
        "file:///srv/data/%e0%80%ae%e0%80%ae/etc",
        "traversal.overlong_utf8",
    ),
    (
        "file:///srv/data/%f0%80%80%ae%f0%80%80%ae/etc",
        "traversal.overlong_utf8",
    ),
    ("file:///srv/data/%c1%9c", "traversal.overlong_utf8"),
    ("file:///srv/data/%c0%af", "traversal.overlong_utf8"),
    ("file:///srv/data/%2e%2e%c0%af", "traversal.overlong_utf8"),
    ("file:///srv/data/%c0%2e", "traversal.invalid_utf8"),
    ("file:///srv/data/%ff%fe/etc", "traversal.invalid_utf8"),
    ("file:///srv/data/%ed%a0%80", "traversal.invalid_utf8"),
    ("file:///srv/data/%80", "traversal.invalid_utf8"),
    // Unicode dots and slashes, raw and encoded.
    (
        "file:///srv/data/．．/etc/passwd",
        "traversal.unicode_separator",
    ),
    (
        "file:///srv/data/%EF%BC%8E%EF%BC%8E/etc/passwd",
        "traversal.unicode_separator",
    ),
    ("file:///srv/data/..／etc", "traversal.unicode_separator"),
    ("file:///srv/data/%EF%BC%8F", "traversal.unicode_separator"),
    ("file:///srv/data/..∕etc", "traversal.unicode_separator"),
    ("file:///srv/data/..⁄etc", "traversal.unicode_separator"),
    ("file:///srv/data/‥/etc", "traversal.unicode_separator"),
    ("file:///srv/data/․․/etc", "traversal.unicode_separator"),
    ("file:///srv/data/﹒﹒/etc", "traversal.unicode_separator"),
    (
        "file:///srv/data/..＼..＼etc",
        "traversal.unicode_separator",
    ),
    ("file:///srv/data/..╱etc", "traversal.unicode_separator"),
    ("file:///srv/data/..⧸etc", "traversal.unicode_separator"),
    ("file:///srv/data/…/etc", "traversal.unicode_separator"),
    (
        "file:///srv/data/%E2%80%A5/etc",
        "traversal.unicode_separator",
    ),
    (
        "file:///srv/data/%E2%88%95etc",
        "traversal.unicode_separator",
    ),
    ("file:///srv/data/a﹨b", "traversal.unicode_separator"),
    // Backslashes and mixed separators.
    (
        "file:///srv/data/..\\..\\etc\\passwd",
        "traversal.backslash",
    ),
    ("file:///srv/data/..%5c..%5cetc", "traversal.backslash"),
    ("file:///srv/data/..%5C..%5Cetc", "traversal.backslash"),
    ("file:///srv/data/%2e%2e%5c", "traversal.backslash"),
    ("file:///srv/data/..\\/etc", "traversal.backslash"),
    ("file:///srv/data/..\\/..\\/etc", "traversal.backslash"),
    ("file:///srv/data/.%5c", "traversal.backslash"),
    (
        "file:///srv/data/%5c%5cserver%5cshare",
        "traversal.backslash",
    ),
    ("file:..\\..\\etc", "traversal.backslash"),
    ("file:///C:/..\\Windows", "traversal.backslash"),
    // NUL and control characters.
    ("file:///srv/data/passwd%00.md", "traversal.nul_byte"),
    ("file:///srv/data/%00", "traversal.nul_byte"),
    ("file:///srv/data/x\0y", "traversal.nul_byte"),
    ("file:///srv/data/..%00/etc", "traversal.nul_byte"),
    ("file:///srv/data/%2e%2e%00/", "traversal.nul_byte"),
    ("file:///srv/data/a%0a..%0d", "traversal.control_char"),
    ("file:///srv/data/a%09b", "traversal.control_char"),
    ("file:///srv/data/%1b%5b31m", "traversal.control_char"),
    ("file:///srv/data/%7f", "traversal.control_char"),
    ("file:///srv/data/%c2%85", "traversal.control_char"),
    ("file:///srv/data/a\nb", "uri.malformed"),
    ("file:///srv/data/a\tb", "uri.malformed"),
    ("file:///srv/data/a\u{85}b", "uri.malformed"),
    // Malformed encodings used to slip past naive decoders.
    ("file:///srv/data/%%32%65%%32%65/etc", "uri.malformed"),
    ("file:///srv/data/%u002e%u002e/etc", "uri.malformed"),
    ("file:///srv/data/%2", "uri.malformed"),
    ("file:///srv/data/%zz/etc", "uri.malformed"),
    // Relative references where an absolute URI is required.
    ("../../etc/passwd", "uri.malformed"),
    ("/etc/passwd", "uri.malformed"),
    ("//evil.example/etc/passwd", "uri.malformed"),
];

/// (relative path, already decoded; expected kind).
const RELATIVE_VECTORS: &[(&str, &str)] = &[
    ("../etc/passwd", "traversal.dot_segment"),
    ("a/../../etc", "traversal.dot_segment"),
    ("./a", "traversal.dot_segment"),
    ("a/./b", "traversal.dot_segment"),
    ("..", "traversal.dot_segment"),
    ("a/...", "traversal.dot_segment"),
    ("a/.. ", "traversal.dot_segment"),
    ("..;/x", "traversal.dot_segment"),
    ("/etc/passwd", "traversal.absolute_path"),
    ("//server/share", "traversal.absolute_path"),
    ("///etc", "traversal.absolute_path"),
    ("file:/etc/passwd", "traversal.absolute_path"),
    ("file:///etc/passwd", "traversal.absolute_path"),
    ("http://evil.example/x", "traversal.absolute_path"),
    ("\\\\server\\share", "traversal.backslash"),
    ("\\etc\\passwd", "traversal.backslash"),
    ("a\\..\\..\\etc", "traversal.backslash"),
    ("C:\\Windows\\win.ini", "traversal.drive_letter"),
    ("C:/Windows/win.ini", "traversal.drive_letter"),
    ("c:", "traversal.drive_letter"),
    ("c|/windows", "traversal.drive_letter"),
    ("a//b", "traversal.empty_segment"),
    ("a/", "traversal.empty_segment"),
    ("", "traversal.empty_segment"),
    ("CON", "traversal.windows_special"),
    ("docs/nul.txt", "traversal.windows_special"),
    ("COM1", "traversal.windows_special"),
    ("logs/lpt9.log", "traversal.windows_special"),
    ("file.txt::$DATA", "traversal.absolute_path"),
    ("docs/file.txt::$DATA", "traversal.windows_special"),
    ("secret.txt.", "traversal.windows_special"),
    ("secret.txt ", "traversal.windows_special"),
    ("a/%2e%2e/b", "traversal.double_encoding"),
    ("a/%252e%252e", "traversal.double_encoding"),
    ("a/\0b", "traversal.nul_byte"),
    ("a/b\nc", "traversal.control_char"),
    ("a/．．/b", "traversal.unicode_separator"),
    ("a/..／b", "traversal.unicode_separator"),
    ("a/b∕..∕c", "traversal.unicode_separator"),
    ("a/\u{202e}txt.exe", "confusable.invisible"),
];

/// (template, URI, expected kind): values matched from templates go through the same
/// checks.
const TEMPLATE_VECTORS: &[(&str, &str, &str)] = &[
    (
        "file:///srv/data/{+path}",
        "file:///srv/data/a/../../etc/passwd",
        "traversal.dot_segment",
    ),
    (
        "file:///srv/data/{+path}",
        "file:///srv/data//etc/passwd",
        "traversal.absolute_path",
    ),
    (
        "file:///srv/data/{+path}",
        "file:///srv/data/C:/Windows/win.ini",
        "traversal.drive_letter",
    ),
    (
        "file:///srv/data/{+path}",
        "file:///srv/data/a/%252e%252e/b",
        "traversal.double_encoding",
    ),
    (
        "docs://files/{name}",
        "docs://files/..%2fsecret",
        "traversal.encoded_slash",
    ),
    (
        "docs://files/{name}",
        "docs://files/%2e%2e",
        "traversal.encoded_dot",
    ),
    (
        "search://q{?file}",
        "search://q?file=..%2F..%2Fetc%2Fpasswd",
        "traversal.encoded_dot",
    ),
    (
        "search://q{?file}",
        "search://q?file=docs%2F..%2F..%2Fx",
        "traversal.encoded_dot",
    ),
    (
        "search://q{?file}",
        "search://q?file=%2Fetc%2Fpasswd",
        "traversal.absolute_path",
    ),
    (
        "search://q{?file}",
        "search://q?file=..",
        "traversal.dot_segment",
    ),
    (
        "search://q{?file}",
        "search://q?file=%2e%2e",
        "traversal.dot_segment",
    ),
    (
        "search://q{?file}",
        "search://q?file=%252e%252e",
        "traversal.double_encoding",
    ),
    (
        "search://q{?file}",
        "search://q?file=%00",
        "traversal.nul_byte",
    ),
    (
        "search://q{?file}",
        "search://q?file=a%5cb",
        "traversal.backslash",
    ),
    (
        "search://q{?file}",
        "search://q?file=%EF%BC%8E%EF%BC%8E",
        "traversal.unicode_separator",
    ),
    (
        "search://q{?file}",
        "search://q?file=C%3A",
        "traversal.drive_letter",
    ),
    (
        "search://q{?file}",
        "search://q?file=%c0%ae%c0%ae",
        "traversal.overlong_utf8",
    ),
    (
        "search://q{?file}",
        "search://q?file=a%0d%0ab",
        "traversal.control_char",
    ),
    (
        "repo://r/blob{/path*}",
        "repo://r/blob/a/%2e%2e",
        "traversal.encoded_dot",
    ),
    (
        "logs://app/x{;file}",
        "logs://app/x;file=..%2f..%2fsecret",
        "traversal.encoded_slash",
    ),
    (
        "notes://{+path}",
        "notes://x/..;/secret",
        "traversal.dot_segment",
    ),
];

const ACCEPTED: &[&str] = &[
    "file:///srv/data/readme.md",
    "file:///srv/data/docs/café.md",
    "file:///srv/data/%E5%A0%B1%E5%91%8A%E6%9B%B8.txt",
    "file:///srv/data/報告書.txt",
    "file:///srv/data/пример.txt",
    "file:///srv/data/Ελληνικά/σημειώσεις.md",
    "file:///srv/data/ノート/メモ.md",
    "file:///srv/data/日本語/レポート_report.md",
    "file:///srv/data/a%20b.md",
    "file:///srv/data/v1.2.3/notes..md",
    "file:///srv/data/.hidden",
    "file:///srv/data/100%25.txt",
    "file:///srv/data/emoji-%F0%9F%98%80.md",
    "file:///srv/data/r%C3%A9sum%C3%A9%202024.pdf",
    "file:///srv/data/kapı.txt",
    "file:///srv/data/с%20днём%20рождения.txt",
    "file://localhost/srv/data/x.md",
    "https://example.com/path?q=1#frag",
    "https://münchen.de/straße",
    "https://例え.jp/パス",
    "https://xn--mnchen-3ya.de/",
    "http://[::1]:8080/x",
    "http://127.0.0.1/x",
    "urn:isbn:0451450523",
    "mailto:user@example.com",
    "custom://resource/thing-1_2~3",
    "data:text/plain;base64,SGVsbG8=",
    "https://example.com/a/b/c/d/e/f/g/h",
    "https://example.com/search?q=..%2F..&file=../x",
    "weather://forecast/tokyo/2025-06-18",
];

#[test]
fn uri_vectors_are_refused() {
    for (uri, kind) in URI_VECTORS {
        match CanonicalUri::parse(uri) {
            Ok(ok) => panic!("accepted {uri:?} as {ok}"),
            Err(e) => assert_eq!(e.kind(), *kind, "{uri:?}: {e}"),
        }
    }
}

#[test]
fn oversized_uris_are_refused_before_parsing() {
    let deep = format!("file:///srv/data/{}", "a/".repeat(5000));
    let climb = format!("file:///srv/data/{}etc/passwd", "../".repeat(3000));
    let junk = format!("file:///{}", "%".repeat(9000));
    for uri in [deep, climb, junk] {
        let e = CanonicalUri::parse(&uri).unwrap_err();
        assert_eq!(e.kind(), "uri.too_long");
    }
    let policy = UriPolicy {
        max_bytes: 32,
        ..UriPolicy::default()
    };
    let e = CanonicalUri::parse_with("file:///srv/data/0123456789abcdef", &policy).unwrap_err();
    assert_eq!(e.kind(), "uri.too_long");
}

#[test]
fn dot_segments_allowed_by_policy_still_cannot_underflow() {
    let policy = UriPolicy {
        allow_dot_segments: true,
        ..UriPolicy::default()
    };
    let ok = CanonicalUri::parse_with("file:///srv/data/a/../b/./c", &policy).unwrap();
    assert_eq!(ok.as_str(), "file:///srv/data/b/c");
    for uri in [
        "file:///../etc/passwd",
        "file:///srv/../../etc",
        "http://x/a/../../b",
    ] {
        let e = CanonicalUri::parse_with(uri, &policy).unwrap_err();
        assert_eq!(e.kind(), "traversal.underflow", "{uri}");
    }
    // Encoded dots stay refused even then: an honest client does not encode them.
    let e = CanonicalUri::parse_with("file:///srv/data/a/%2e%2e/b", &policy).unwrap_err();
    assert_eq!(e.kind(), "traversal.encoded_dot");
}

#[test]
fn relative_vectors_are_refused() {
    for (path, kind) in RELATIVE_VECTORS {
        match RelativePath::parse(path) {
            Ok(ok) => panic!("accepted {path:?} as {ok}"),
            Err(e) => assert_eq!(e.kind(), *kind, "{path:?}: {e}"),
        }
    }
}

#[test]
fn template_vectors_are_refused() {
    for (template, uri, kind) in TEMPLATE_VECTORS {
        let t = UriTemplate::parse(template).unwrap();
        match t.match_uri(uri) {
            Ok(v) => panic!("{template} matched {uri:?} as {v:?}"),
            Err(e) => assert_eq!(e.kind(), *kind, "{template} / {uri:?}: {e}"),
        }
    }
}

#[test]
fn legitimate_uris_are_accepted() {
    for uri in ACCEPTED {
        if let Err(e) = CanonicalUri::parse(uri) {
            panic!("refused {uri:?}: {e} ({})", e.kind());
        }
    }
    for path in [
        "a.txt",
        "docs/guide/intro.md",
        "café/報告書.md",
        ".config/app.toml",
        "v1.2/x",
    ] {
        assert!(RelativePath::parse(path).is_ok(), "{path}");
    }
}

/// A sandbox over `<tmp>/root`, with `<tmp>/outside/secret.txt` next to it and links under
/// the root pointing out.
struct Fixture {
    _tmp: tempfile::TempDir,
    root: std::path::PathBuf,
    sandbox: Sandbox,
}

fn fixture(config: &SecurityConfig) -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let base = std::fs::canonicalize(tmp.path()).unwrap();
    let root = base.join("root");
    let outside = base.join("outside");
    std::fs::create_dir_all(root.join("dir")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::create_dir_all(base.join("rootx")).unwrap();
    std::fs::write(outside.join("secret.txt"), "SECRET").unwrap();
    std::fs::write(base.join("rootx/secret.txt"), "SECRET").unwrap();
    std::fs::write(root.join("a.txt"), "inside-a").unwrap();
    std::fs::write(root.join("dir/b.txt"), "inside-b").unwrap();
    std::fs::write(root.join("big.bin"), vec![0u8; 4096]).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::symlink;
        symlink(&outside, root.join("link_out")).unwrap();
        symlink(outside.join("secret.txt"), root.join("abs_link")).unwrap();
        symlink("../outside/secret.txt", root.join("rel_link")).unwrap();
        symlink("chain2", root.join("chain1")).unwrap();
        symlink("../outside/secret.txt", root.join("chain2")).unwrap();
        symlink("..", root.join("dir/up")).unwrap();
        symlink("../..", root.join("dir/up2")).unwrap();
        symlink("a.txt", root.join("inner_link")).unwrap();
        rustix::fs::mkfifoat(rustix::fs::CWD, root.join("fifo"), rustix::fs::Mode::RUSR).unwrap();
    }
    let sandbox = Sandbox::with_config([&root], config).unwrap();
    Fixture {
        _tmp: tmp,
        root,
        sandbox,
    }
}

fn file_uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

#[test]
fn sandbox_vectors_are_refused() {
    let config = SecurityConfig {
        sandbox: SandboxLimits {
            max_resource_bytes: 1024,
        },
        ..SecurityConfig::default()
    };
    let f = fixture(&config);
    let r = file_uri(&f.root);
    let parent = file_uri(f.root.parent().unwrap());
    let mut vectors: Vec<(String, &str)> = vec![
        (
            format!("{r}/../outside/secret.txt"),
            "traversal.dot_segment",
        ),
        (
            format!("{r}/%2e%2e/outside/secret.txt"),
            "traversal.encoded_dot",
        ),
        (
            format!("{r}/..%2foutside%2fsecret.txt"),
            "traversal.encoded_slash",
        ),
        ("file:///etc/passwd".to_owned(), "sandbox.outside_roots"),
        (
            format!("{parent}/outside/secret.txt"),
            "sandbox.outside_roots",
        ),
        (
            format!("{parent}/rootx/secret.txt"),
            "sandbox.outside_roots",
        ),
        ("file:////etc/passwd".to_owned(), "sandbox.outside_roots"),
        (
            format!("file://evil.example{}/a.txt", f.root.display()),
            "host.not_allowed",
        ),
        (
            format!("http://localhost{}/a.txt", f.root.display()),
            "uri.scheme_not_allowed",
        ),
        (format!("{r}/dir"), "sandbox.not_a_file"),
        (format!("{r}/"), "sandbox.not_a_file"),
        (r.clone(), "sandbox.not_a_file"),
        (format!("{r}/dir//b.txt"), "traversal.empty_segment"),
        (format!("{r}/dir/b.txt::$DATA"), "traversal.windows_special"),
        (format!("{r}/big.bin"), "sandbox.too_large"),
    ];
    if cfg!(unix) {
        vectors.extend([
            (format!("{r}/link_out/secret.txt"), "sandbox.symlink_escape"),
            (format!("{r}/abs_link"), "sandbox.symlink_escape"),
            (format!("{r}/rel_link"), "sandbox.symlink_escape"),
            (format!("{r}/chain1"), "sandbox.symlink_escape"),
            (
                format!("{r}/dir/up/dir/up/../outside/secret.txt"),
                "traversal.dot_segment",
            ),
            (
                format!("{r}/dir/up2/outside/secret.txt"),
                "sandbox.symlink_escape",
            ),
            (format!("{r}/fifo"), "sandbox.not_a_file"),
        ]);
    }
    for (uri, kind) in &vectors {
        match f.sandbox.read_resource(uri) {
            Ok(c) => panic!("read {uri:?}: {:?}", String::from_utf8_lossy(&c.bytes)),
            Err(e) => assert_eq!(e.kind(), *kind, "{uri:?}: {e}"),
        }
    }
    for (path, kind) in [
        ("../outside/secret.txt", "traversal.dot_segment"),
        ("/etc/passwd", "traversal.absolute_path"),
        ("link_out/secret.txt", "sandbox.symlink_escape"),
    ] {
        if kind == "sandbox.symlink_escape" && !cfg!(unix) {
            continue;
        }
        let e = f.sandbox.open_relative(0, path).unwrap_err();
        assert_eq!(e.kind(), kind, "{path}");
    }
}

#[test]
fn sandbox_serves_what_is_inside() {
    let f = fixture(&SecurityConfig::default());
    let r = file_uri(&f.root);
    let read = |uri: String| f.sandbox.read_resource(&uri).unwrap();
    assert_eq!(read(format!("{r}/a.txt")).bytes, b"inside-a");
    assert_eq!(read(format!("{r}/dir/b.txt")).bytes, b"inside-b");
    assert_eq!(
        read(format!("file://localhost{}/a.txt", f.root.display())).bytes,
        b"inside-a"
    );
    #[cfg(unix)]
    {
        // A link that stays inside the root is followed, and the real path reported.
        let c = read(format!("{r}/inner_link"));
        assert_eq!(c.bytes, b"inside-a");
        assert_eq!(c.path, f.root.join("a.txt"));
        // So is a `..` link that lands back inside the root.
        assert_eq!(read(format!("{r}/dir/up/a.txt")).bytes, b"inside-a");
    }
    let opened = f.sandbox.open_relative(0, "dir/b.txt").unwrap();
    assert_eq!(opened.uri.as_str(), format!("{r}/dir/b.txt"));
    let missing = f
        .sandbox
        .read_resource(&format!("{r}/nope.txt"))
        .unwrap_err();
    assert!(missing.is_not_found());
}

/// The lexical check passes, then the file is swapped for a link that leads out: the open
/// itself refuses it, so there is no check-then-open window to race.
#[cfg(unix)]
#[test]
fn swap_after_resolve_is_still_refused() {
    let f = fixture(&SecurityConfig::default());
    let uri = format!("{}/a.txt", file_uri(&f.root));
    let resolved = f.sandbox.resolve(&uri).unwrap();
    assert_eq!(resolved.relative.as_str(), "a.txt");
    std::fs::remove_file(f.root.join("a.txt")).unwrap();
    let outside = f.root.parent().unwrap().join("outside/secret.txt");
    std::os::unix::fs::symlink(outside, f.root.join("a.txt")).unwrap();
    let e = f.sandbox.read_resource(&uri).unwrap_err();
    assert_eq!(e.kind(), "sandbox.symlink_escape");
}

#[test]
fn vector_count() {
    let mut distinct = HashSet::new();
    distinct.extend(URI_VECTORS.iter().map(|(u, _)| format!("uri:{u}")));
    distinct.extend(RELATIVE_VECTORS.iter().map(|(p, _)| format!("rel:{p}")));
    distinct.extend(
        TEMPLATE_VECTORS
            .iter()
            .map(|(t, u, _)| format!("tpl:{t}:{u}")),
    );
    let total = URI_VECTORS.len() + RELATIVE_VECTORS.len() + TEMPLATE_VECTORS.len();
    assert_eq!(distinct.len(), total, "duplicate vectors");
    // Plus 3 oversized URIs, 3 underflows and the sandbox table.
    assert!(total >= 100, "only {total} traversal vectors");
    println!("{total} distinct traversal vectors in the static tables");
}
