//! Properties, checked with proptest:
//!
//! 1. canonicalisation is idempotent (default policy, and with dot segments allowed);
//! 2. a canonical URI never holds a traversal disguise in its path;
//! 3. nothing that resolves outside a sandbox root is ever accepted (a real directory
//!    with links pointing out, and generated URIs full of `..` in every disguise);
//! 4. an accepted relative path has only normal components;
//! 5. template expansion agrees with the `iri-string` reference implementation, and
//!    both accept the same templates;
//! 6. matching an expansion gives back variables that expand to the same URI;
//! 7. header validation agrees with a byte-level oracle.

// Test helpers panic on failure by design.
#![allow(clippy::unwrap_used)]

use std::path::{Component, PathBuf};

use erlmcp_security::{
    CanonicalUri, HeaderLimits, RelativePath, Sandbox, TemplateValue, UriPolicy, UriTemplate, Vars,
    validate_header_name, validate_header_value,
};
use iri_string::spec::UriSpec;
use iri_string::template::UriTemplateStr;
use iri_string::template::simple_context::{SimpleContext, Value};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, TestRunner};

fn uri_strategy() -> impl Strategy<Value = String> {
    let scheme = select(vec!["file", "http", "HTTPS", "urn", "x-custom", "Mailto"]);
    let host = select(vec![
        "",
        "localhost",
        "Example.COM",
        "xn--mnchen-3ya.de",
        "[::1]",
        "[0:0::1]",
        "127.0.0.1",
        "münchen.de",
        "EXAMPLE.com:8080",
        "a.b.c",
        "%65xample.com",
        "ex%41mple.org",
        "host:80",
        "host:",
        "user@host",
        "аррӏе.com",
        "xn--80ak6aa92e.com",
        "h%2fx",
    ]);
    let segment = select(vec![
        "a",
        "B",
        "%41",
        "%7e",
        "%7E",
        "é",
        "%C3%A9",
        "..",
        ".",
        "%2e",
        "~",
        "-",
        "_",
        "%20",
        "%2F",
        "%25",
        "日本",
        "x:y",
        "",
        "%2e%2e",
        "...",
        "%c0%ae",
        "%252e",
        "ノ",
        "．",
        "a;b",
        "%5c",
        "%E2%88%95",
        "%00",
        "%0a",
        "пример",
        "pаypal",
        "%F0%9F%98%80",
        "%ff",
    ]);
    let query = select(vec!["q=1", "a=%41&b=~", "x=..%2F", "é=ü", "", "%7E"]);
    let fragment = select(vec!["top", "%7e", "Ü", ""]);
    (
        scheme,
        prop::option::of(host),
        prop::collection::vec(segment, 0..6),
        any::<bool>(),
        prop::option::of(query),
        prop::option::of(fragment),
    )
        .prop_map(|(scheme, host, segments, rooted, query, fragment)| {
            let mut uri = format!("{scheme}:");
            if let Some(h) = host {
                uri.push_str("//");
                uri.push_str(h);
            }
            if host.is_some() || rooted {
                uri.push('/');
            }
            uri.push_str(&segments.join("/"));
            if let Some(q) = query {
                uri.push('?');
                uri.push_str(q);
            }
            if let Some(f) = fragment {
                uri.push('#');
                uri.push_str(f);
            }
            uri
        })
}

fn any_uri() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => uri_strategy(),
        1 => "[a-z]{1,5}:[ -~]{0,30}",
        1 => any::<String>(),
    ]
}

fn assert_idempotent(input: &str, policy: &UriPolicy) -> Result<(), TestCaseError> {
    if let Ok(first) = CanonicalUri::parse_with(input, policy) {
        let again = CanonicalUri::parse_with(first.as_str(), policy);
        prop_assert!(
            again.is_ok(),
            "{input:?} -> {first} refused: {:?}",
            again.err()
        );
        if let Ok(again) = again {
            prop_assert_eq!(again.as_str(), first.as_str(), "input {:?}", input);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(Config { cases: 4096, ..Config::default() })]

    #[test]
    fn canonicalisation_is_idempotent(input in any_uri()) {
        assert_idempotent(&input, &UriPolicy::default())?;
        let permissive = UriPolicy { allow_dot_segments: true, allow_userinfo: true, ..UriPolicy::default() };
        assert_idempotent(&input, &permissive)?;
        let ascii = UriPolicy { allow_non_ascii: false, ..UriPolicy::default() };
        assert_idempotent(&input, &ascii)?;
    }

    #[test]
    fn canonical_paths_hold_no_disguise(input in any_uri()) {
        if let Ok(uri) = CanonicalUri::parse(&input) {
            for segment in uri.path_segments() {
                prop_assert!(segment != "." && segment != "..", "{uri}");
                prop_assert!(!segment.contains(['/', '\\', '\0']), "{uri}");
                prop_assert!(!segment.chars().any(char::is_control), "{uri}");
            }
        }
    }

    #[test]
    fn accepted_relative_paths_stay_below(
        pieces in prop::collection::vec(select(vec![
            "a", "b.txt", "..", ".", "", "/", "\\", "C:", "%2e", "．．", "CON", "x:y", "...",
            "\0", "..;", "日本", " ", "a.", "~",
        ]), 1..6),
        sep in select(vec!["/", "", "\\"]),
    ) {
        let path = pieces.join(sep);
        if let Ok(rel) = RelativePath::parse(&path) {
            let buf = rel.to_path_buf();
            prop_assert!(buf.components().all(|c| matches!(c, Component::Normal(_))), "{path:?}");
        }
    }

    #[test]
    fn header_value_oracle(value in prop::collection::vec(any::<u8>(), 0..40)) {
        let bad_byte = value.iter().any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f);
        let edge = |b: Option<&u8>| matches!(b, Some(b' ' | b'\t'));
        let expected = !bad_byte && !edge(value.first()) && !edge(value.last());
        prop_assert_eq!(validate_header_value(&value, &HeaderLimits::default()).is_ok(), expected);
    }

    #[test]
    fn header_name_oracle(name in prop::collection::vec(any::<u8>(), 0..20)) {
        let tchar = |b: &u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(b);
        let expected = !name.is_empty() && name.iter().all(tchar);
        prop_assert_eq!(validate_header_name(&name, &HeaderLimits::default()).is_ok(), expected);
    }
}

/// Root `<tmp>/root` holds files whose contents start with "inside"; `<tmp>/outside`
/// holds "SECRET". Links under the root point everywhere.
fn sandbox_fixture() -> (tempfile::TempDir, PathBuf, Sandbox) {
    let tmp = tempfile::tempdir().unwrap();
    let base = std::fs::canonicalize(tmp.path()).unwrap();
    let root = base.join("root");
    let outside = base.join("outside");
    std::fs::create_dir_all(root.join("dir/sub")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret.txt"), "SECRET").unwrap();
    std::fs::write(base.join("secret.txt"), "SECRET").unwrap();
    std::fs::write(root.join("a.txt"), "inside-a").unwrap();
    std::fs::write(root.join("dir/b.txt"), "inside-b").unwrap();
    std::fs::write(root.join("dir/sub/secret.txt"), "inside-c").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::symlink;
        symlink("..", root.join("dir/up")).unwrap();
        symlink("../..", root.join("dir/up2")).unwrap();
        symlink("..", root.join("up")).unwrap();
        symlink(&outside, root.join("out")).unwrap();
        symlink("/etc", root.join("abs")).unwrap();
        symlink("dir", root.join("inner")).unwrap();
        symlink("../outside/secret.txt", root.join("dir/sub/leak")).unwrap();
    }
    let sandbox = Sandbox::new([&root]).unwrap();
    (tmp, root, sandbox)
}

#[test]
fn nothing_outside_a_root_is_ever_accepted() {
    let (_tmp, root, sandbox) = sandbox_fixture();
    let honest = select(vec![
        "a.txt",
        "b.txt",
        "dir",
        "sub",
        "secret.txt",
        "outside",
        "root",
        "up",
        "up2",
        "out",
        "abs",
        "inner",
        "leak",
        "passwd",
        "etc",
    ]);
    let nasty = select(vec![
        "..",
        ".",
        "%2e%2e",
        "%2e",
        ".%2e",
        "%252e%252e",
        "..%2f",
        "%2f",
        "%5c",
        "\\",
        "．．",
        "%c0%ae%c0%ae",
        "",
        "%00",
        "..;",
        "...",
        "%2E%2E",
        "%EF%BC%8E%EF%BC%8E",
        "..%c0%af",
    ]);
    let piece = prop_oneof![3 => honest, 1 => nasty];
    let prefix = select(vec!["root", "base", "none", "slash"]);
    let strategy = (prefix, prop::collection::vec(piece, 0..7));
    let mut runner = TestRunner::new(Config {
        cases: 20_000,
        ..Config::default()
    });
    let base = root.parent().map(PathBuf::from).unwrap_or_default();
    let accepted = std::cell::Cell::new(0u32);
    runner
        .run(&strategy, |(prefix, pieces)| {
            let start = match prefix {
                "root" => format!("file://{}/", root.display()),
                "base" => format!("file://{}/", base.display()),
                "slash" => format!("file://{}//", root.display()),
                _ => "file:///".to_owned(),
            };
            let uri = format!("{start}{}", pieces.join("/"));
            if let Ok(c) = sandbox.read_resource(&uri) {
                accepted.set(accepted.get() + 1);
                prop_assert!(c.bytes.starts_with(b"inside"), "{uri} read {:?}", c.bytes);
                let real = std::fs::canonicalize(&c.path).unwrap();
                prop_assert!(real.starts_with(&root), "{uri} -> {}", real.display());
            }
            Ok(())
        })
        .unwrap();
    // Not vacuous: honest paths were generated and served.
    let accepted = accepted.get();
    assert!(accepted > 10, "only {accepted} accepted");
    println!("{accepted} of 20000 generated URIs were inside the root and served");
}

fn template_strategy() -> impl Strategy<Value = String> {
    let op = select(vec!["", "+", "#", ".", "/", ";", "?", "&"]);
    let name = select(vec!["a", "b", "c", "list", "keys", "u"]);
    let modifier = select(vec!["", "", "*", ":1", ":3"]);
    let spec = (name, modifier).prop_map(|(n, m)| format!("{n}{m}"));
    let expression = (op, prop::collection::vec(spec, 1..3))
        .prop_map(|(op, specs)| format!("{{{op}{}}}", specs.join(",")));
    // ASCII only: iri-string refuses non-ASCII literals, which RFC 6570 allows (see
    // `reference_deviations`).
    let literal = select(vec!["x://h/", "/", "-", "%2F", "", "a", "?", "=", "%C3%A9"]);
    prop::collection::vec((literal, expression), 1..4).prop_map(|parts| {
        parts
            .into_iter()
            .map(|(l, e)| format!("{l}{e}"))
            .collect::<String>()
    })
}

fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 ./%:é,;=&?#日!*'()~_-]{0,6}"
}

fn vars_strategy() -> impl Strategy<Value = Vars> {
    (
        prop::option::of(text()),
        prop::option::of(text()),
        prop::option::of(text()),
        prop::option::of(prop::collection::vec(text(), 0..3)),
        prop::option::of(prop::collection::vec((text(), text()), 0..3)),
    )
        .prop_map(|(a, b, c, list, keys)| {
            let mut vars = Vars::new();
            for (k, v) in [("a", a), ("b", b), ("c", c)] {
                if let Some(v) = v {
                    vars.insert(k.into(), TemplateValue::String(v));
                }
            }
            if let Some(l) = list {
                vars.insert("list".into(), TemplateValue::List(l));
            }
            if let Some(k) = keys {
                vars.insert("keys".into(), TemplateValue::Assoc(k));
            }
            vars
        })
}

fn reference_expand(template: &str, vars: &Vars) -> Option<Result<String, ()>> {
    let t = UriTemplateStr::new(template).ok()?;
    let mut ctx = SimpleContext::new();
    for (k, v) in vars {
        let value = match v {
            TemplateValue::String(s) => Value::String(s.clone()),
            TemplateValue::List(l) => Value::List(l.clone()),
            TemplateValue::Assoc(a) => Value::Assoc(a.clone()),
        };
        ctx.insert(k.as_str(), value);
    }
    Some(
        t.expand::<UriSpec, _>(&ctx)
            .map(|e| e.to_string())
            .map_err(|_| ()),
    )
}

proptest! {
    #![proptest_config(Config { cases: 4096, ..Config::default() })]

    #[test]
    fn expansion_agrees_with_reference(template in template_strategy(), vars in vars_strategy()) {
        // iri-string 0.7.14 has bugs where this crate follows RFC 6570, so those cases are
        // skipped: with a prefix modifier it counts bytes as characters (`{.a:3}` with
        // "日," overflows a subtraction; `{+a:1}` with "~%" gives "~%25"); in `+`/`#`
        // expressions it panics on any non-ASCII value (`{+a}` with "é" slices inside a
        // character); and it writes `name=` for an empty member of an exploded list in a
        // `;` expression, where appendix A writes `name`.
        let reserved = template.contains(['+', '#']);
        let non_ascii = vars.values().any(|v| match v {
            TemplateValue::String(s) => !s.is_ascii(),
            TemplateValue::List(l) => l.iter().any(|s| !s.is_ascii()),
            TemplateValue::Assoc(a) => a.iter().any(|(k, v)| !k.is_ascii() || !v.is_ascii()),
        });
        let empty_member = vars.values().any(|v| match v {
            TemplateValue::String(_) => false,
            TemplateValue::List(l) => l.iter().any(String::is_empty),
            TemplateValue::Assoc(a) => a.iter().any(|(_, v)| v.is_empty()),
        });
        let prefix = template.contains(':');
        let reference_bug = non_ascii && (reserved || prefix)
            || reserved && prefix
            || template.contains(';') && template.contains('*') && empty_member;
        if reference_bug {
            return Ok(());
        }
        let ours = UriTemplate::parse(&template);
        let reference = reference_expand(&template, &vars);
        prop_assert_eq!(ours.is_ok(), reference.is_some(), "{}", template);
        if let (Ok(t), Some(r)) = (ours, reference) {
            let ours = t.expand(&vars).map_err(|_| ());
            prop_assert_eq!(ours, r, "{} with {:?}", template, vars);
        }
    }

    #[test]
    fn template_grammar_agrees_with_reference(template in "[{}a-c,*+#./;?&=!@|%0-9A-F ]{0,12}") {
        let ours = UriTemplate::parse(&template).is_ok();
        let reference = UriTemplateStr::new(&template).is_ok();
        // Where iri-string is laxer than the RFC grammar (see `reference_deviations`).
        let lax = regex::Regex::new(r"\{[^}]*(\.[,}:*]|\.\.|:0|:\d{5})").unwrap();
        if !(reference && !ours && lax.is_match(&template)) {
            prop_assert_eq!(ours, reference, "{:?}", template);
        }
    }

    #[test]
    fn matching_inverts_expansion(
        template in select(vec![
            "file:///projects/{project}/{+path}",
            "x://h/{a}/{b}{?q,page}",
            "x://h{/seg*}{?tag*}",
            "x://h/{a}{.ext}",
            "x://h/{a:3}/{b}",
            "x://h/items{;a,b}",
            "x://h/{+path}{#frag}",
        ]),
        values in prop::collection::vec("[a-zA-Z0-9 é日~_.-]{1,8}", 6),
    ) {
        let t = UriTemplate::parse(template).unwrap();
        let names = t.variables();
        let mut vars = Vars::new();
        for (name, value) in names.iter().zip(&values) {
            let v = if template.contains(&format!("{name}*")) {
                TemplateValue::List(vec![value.clone(), format!("{value}2")])
            } else {
                TemplateValue::String(value.clone())
            };
            vars.insert((*name).to_owned(), v);
        }
        let uri = t.expand(&vars).unwrap();
        let canonical = CanonicalUri::parse(&uri);
        // Some values are refused on purpose (`..`, `.`): then matching must refuse too.
        match (canonical, t.match_uri(&uri)) {
            (Ok(c), Ok(Some(back))) => {
                let again = CanonicalUri::parse(&t.expand(&back).unwrap()).unwrap();
                prop_assert_eq!(again.as_str(), c.as_str(), "{} {:?} -> {:?}", template, vars, back);
            }
            (Ok(_), Ok(None)) => prop_assert!(false, "{uri} did not match {template}"),
            (_, Err(_)) | (Err(_), _) => {}
        }
    }
}

/// Where `iri-string` departs from the RFC 6570 grammar and this crate follows it:
/// non-ASCII literals (`ucschar`) are allowed, a prefix is 1..=9999 without a leading zero,
/// and a variable name does not end with `.` or hold `..`.
#[test]
fn reference_deviations() {
    for template in ["日{a}", "caf\u{e9}/{x}"] {
        assert!(UriTemplate::parse(template).is_ok());
        assert!(UriTemplateStr::new(template).is_err());
    }
    for template in ["{a:0}", "{a:10000}", "{a:01}", "{0.}", "{a..b}", "{a.,b}"] {
        assert!(UriTemplate::parse(template).is_err());
        assert!(UriTemplateStr::new(template).is_ok());
    }
}
