//! RFC 6570: every example of section 1.2 (levels 1–4), matching, and limits.

// Test helpers panic on failure by design.
#![allow(clippy::unwrap_used)]

use erlmcp_security::{SecurityConfig, TemplateLimits, TemplateValue, UriTemplate, Vars};

fn rfc_vars() -> Vars {
    let s = |v: &str| TemplateValue::String(v.to_owned());
    let mut vars = Vars::new();
    vars.insert("var".into(), s("value"));
    vars.insert("hello".into(), s("Hello World!"));
    vars.insert("path".into(), s("/foo/bar"));
    vars.insert("empty".into(), s(""));
    vars.insert("x".into(), s("1024"));
    vars.insert("y".into(), s("768"));
    vars.insert(
        "list".into(),
        TemplateValue::List(vec!["red".into(), "green".into(), "blue".into()]),
    );
    vars.insert(
        "keys".into(),
        TemplateValue::Assoc(vec![
            ("semi".into(), ";".into()),
            ("dot".into(), ".".into()),
            ("comma".into(), ",".into()),
        ]),
    );
    vars
}

const RFC_EXAMPLES: &[(&str, &str)] = &[
    // Level 1
    ("{var}", "value"),
    ("{hello}", "Hello%20World%21"),
    // Level 2
    ("{+var}", "value"),
    ("{+hello}", "Hello%20World!"),
    ("{+path}/here", "/foo/bar/here"),
    ("here?ref={+path}", "here?ref=/foo/bar"),
    ("X{#var}", "X#value"),
    ("X{#hello}", "X#Hello%20World!"),
    // Level 3
    ("map?{x,y}", "map?1024,768"),
    ("{x,hello,y}", "1024,Hello%20World%21,768"),
    ("{+x,hello,y}", "1024,Hello%20World!,768"),
    ("{+path,x}/here", "/foo/bar,1024/here"),
    ("{#x,hello,y}", "#1024,Hello%20World!,768"),
    ("{#path,x}/here", "#/foo/bar,1024/here"),
    ("X{.var}", "X.value"),
    ("X{.x,y}", "X.1024.768"),
    ("{/var}", "/value"),
    ("{/var,x}/here", "/value/1024/here"),
    ("{;x,y}", ";x=1024;y=768"),
    ("{;x,y,empty}", ";x=1024;y=768;empty"),
    ("{?x,y}", "?x=1024&y=768"),
    ("{?x,y,empty}", "?x=1024&y=768&empty="),
    ("?fixed=yes{&x}", "?fixed=yes&x=1024"),
    ("{&x,y,empty}", "&x=1024&y=768&empty="),
    // Level 4
    ("{var:3}", "val"),
    ("{var:30}", "value"),
    ("{list}", "red,green,blue"),
    ("{list*}", "red,green,blue"),
    ("{keys}", "semi,%3B,dot,.,comma,%2C"),
    ("{keys*}", "semi=%3B,dot=.,comma=%2C"),
    ("{+path:6}/here", "/foo/b/here"),
    ("{+list}", "red,green,blue"),
    ("{+list*}", "red,green,blue"),
    ("{+keys}", "semi,;,dot,.,comma,,"),
    ("{+keys*}", "semi=;,dot=.,comma=,"),
    ("{#path:6}/here", "#/foo/b/here"),
    ("{#list}", "#red,green,blue"),
    ("{#list*}", "#red,green,blue"),
    ("{#keys}", "#semi,;,dot,.,comma,,"),
    ("{#keys*}", "#semi=;,dot=.,comma=,"),
    ("X{.var:3}", "X.val"),
    ("X{.list}", "X.red,green,blue"),
    ("X{.list*}", "X.red.green.blue"),
    ("X{.keys}", "X.semi,%3B,dot,.,comma,%2C"),
    ("X{.keys*}", "X.semi=%3B.dot=..comma=%2C"),
    ("{/var:1,var}", "/v/value"),
    ("{/list}", "/red,green,blue"),
    ("{/list*}", "/red/green/blue"),
    ("{/list*,path:4}", "/red/green/blue/%2Ffoo"),
    ("{/keys}", "/semi,%3B,dot,.,comma,%2C"),
    ("{/keys*}", "/semi=%3B/dot=./comma=%2C"),
    ("{;hello:5}", ";hello=Hello"),
    ("{;list}", ";list=red,green,blue"),
    ("{;list*}", ";list=red;list=green;list=blue"),
    ("{;keys}", ";keys=semi,%3B,dot,.,comma,%2C"),
    ("{;keys*}", ";semi=%3B;dot=.;comma=%2C"),
    ("{?var:3}", "?var=val"),
    ("{?list}", "?list=red,green,blue"),
    ("{?list*}", "?list=red&list=green&list=blue"),
    ("{?keys}", "?keys=semi,%3B,dot,.,comma,%2C"),
    ("{?keys*}", "?semi=%3B&dot=.&comma=%2C"),
    ("{&var:3}", "&var=val"),
    ("{&list}", "&list=red,green,blue"),
    ("{&list*}", "&list=red&list=green&list=blue"),
    ("{&keys}", "&keys=semi,%3B,dot,.,comma,%2C"),
    ("{&keys*}", "&semi=%3B&dot=.&comma=%2C"),
    // Undefined variables vanish.
    ("{undef}", ""),
    ("{?undef,x}", "?x=1024"),
    ("X{.undef}Y", "XY"),
];

#[test]
fn rfc6570_examples_expand() {
    let vars = rfc_vars();
    for (template, expected) in RFC_EXAMPLES {
        let t = UriTemplate::parse(template).unwrap();
        assert_eq!(t.expand(&vars).unwrap(), *expected, "{template}");
    }
}

fn matched(template: &str, uri: &str) -> Option<Vars> {
    UriTemplate::parse(template)
        .unwrap()
        .match_uri(uri)
        .unwrap()
}

fn s(v: &str) -> TemplateValue {
    TemplateValue::String(v.to_owned())
}

#[test]
fn matching() {
    let v = matched(
        "weather://forecast/{city}/{date}",
        "weather://forecast/tokyo/2025-06-18",
    )
    .unwrap();
    assert_eq!((&v["city"], &v["date"]), (&s("tokyo"), &s("2025-06-18")));

    let t = "repo://{owner}/{repo}{?ref}";
    assert_eq!(matched(t, "repo://a/b").unwrap().len(), 2);
    assert_eq!(matched(t, "repo://a/b?ref=main").unwrap()["ref"], s("main"));

    // Named parameters in any order; unknown names do not match.
    let v = matched("api://x/items{?page,limit}", "api://x/items?limit=5&page=2").unwrap();
    assert_eq!((&v["page"], &v["limit"]), (&s("2"), &s("5")));
    assert_eq!(
        matched("api://x/items{?page}", "api://x/items?page=1&extra=2"),
        None
    );
    let v = matched("api://x/s{?params*}", "api://x/s?a=1&b=2").unwrap();
    assert_eq!(
        v["params"],
        TemplateValue::Assoc(vec![("a".into(), "1".into()), ("b".into(), "2".into())])
    );
    let v = matched("api://x/s{?tag*}", "api://x/s?tag=a&tag=b").unwrap();
    assert_eq!(v["tag"], TemplateValue::List(vec!["a".into(), "b".into()]));

    // Prefix modifiers bound the match.
    assert_eq!(
        matched("ids://x/{id:3}", "ids://x/abc").unwrap()["id"],
        s("abc")
    );
    assert_eq!(matched("ids://x/{id:3}", "ids://x/abcd"), None);

    // Values are percent-decoded; non-ASCII works raw or encoded.
    assert_eq!(
        matched("file:///docs/{name}", "file:///docs/caf%C3%A9.md").unwrap()["name"],
        s("café.md")
    );
    assert_eq!(
        matched("file:///docs/{name}", "file:///docs/café.md").unwrap()["name"],
        s("café.md")
    );
    assert_eq!(
        matched("file:///docs/{name}", "file:///docs/a%20b").unwrap()["name"],
        s("a b")
    );
    assert_eq!(
        matched("file:///café/{x}", "file:///caf%C3%A9/y").unwrap()["x"],
        s("y")
    );

    // Matching is done on the canonical form.
    assert_eq!(
        matched("file:///docs/{name}", "FILE:///docs/%7Euser").unwrap()["name"],
        s("~user")
    );

    // A variable used twice must match the same value twice.
    assert!(matched("x://h/{a}/{a}", "x://h/1/1").is_some());
    assert_eq!(matched("x://h/{a}/{a}", "x://h/1/2"), None);

    // Simple expressions do not cross reserved characters.
    assert_eq!(matched("file:///docs/{name}", "file:///docs/a/b"), None);
    assert_eq!(
        matched("file:///docs/{+name}", "file:///docs/a/b").unwrap()["name"],
        s("a/b")
    );
    assert_eq!(matched("other:///docs/{name}", "file:///docs/a"), None);

    // A path passed as a query parameter keeps its (decoded) slashes.
    assert_eq!(
        matched("search://q{?file}", "search://q?file=docs%2Fa.md").unwrap()["file"],
        s("docs/a.md")
    );

    // A percent-encoded triplet is never split between a value and a literal.
    assert_eq!(matched("x://h/{a}B", "x://h/a%2B"), None);
    assert_eq!(matched("x://h/{a}B", "x://h/a%2BB").unwrap()["a"], s("a+"));

    // Positional expressions: the last variable takes the rest.
    let v = matched("x://h/f{.ext}", "x://h/f.tar.gz").unwrap();
    assert_eq!(v["ext"], s("tar.gz"));
    let v = matched("x://h{/a,b}", "x://h/1/2").unwrap();
    assert_eq!((&v["a"], &v["b"]), (&s("1"), &s("2")));
    assert_eq!(matched("x://h{/a,b}", "x://h/1/2/3"), None);
    let v = matched("repo://r/blob{/path*}", "repo://r/blob/src/lib.rs").unwrap();
    assert_eq!(
        v["path"],
        TemplateValue::List(vec!["src".into(), "lib.rs".into()])
    );
}

#[test]
fn expansion_round_trips_through_matching() {
    let cases: &[(&str, &[(&str, &str)])] = &[
        (
            "file:///projects/{project}/{+path}",
            &[("project", "erlmcp"), ("path", "src/lib.rs")],
        ),
        (
            "weather://forecast/{city}/{date}",
            &[("city", "São Paulo"), ("date", "2025-06-18")],
        ),
        (
            "api://x/items{?page,limit}",
            &[("page", "2"), ("limit", "50")],
        ),
        ("notes://n/{title}", &[("title", "報告書 & notes")]),
        ("x://h{/a,b}{?q}", &[("a", "1"), ("b", "2"), ("q", "a b")]),
    ];
    for (template, values) in cases {
        let t = UriTemplate::parse(template).unwrap();
        let vars: Vars = values
            .iter()
            .map(|(k, v)| ((*k).to_owned(), s(v)))
            .collect();
        let uri = t.expand(&vars).unwrap();
        let back = t.match_uri(&uri).unwrap().unwrap();
        assert_eq!(back, vars, "{template} -> {uri}");
    }
}

#[test]
fn limits() {
    let many = "{a}".repeat(33);
    assert_eq!(
        UriTemplate::parse(&many).unwrap_err().kind(),
        "template.too_many_expressions"
    );
    let vars: Vec<String> = (0..65).map(|i| format!("v{i}")).collect();
    let wide = format!("{{{}}}", vars.join(","));
    assert_eq!(
        UriTemplate::parse(&wide).unwrap_err().kind(),
        "template.too_many_variables"
    );
    let long = "a".repeat(1025);
    assert_eq!(
        UriTemplate::parse(&long).unwrap_err().kind(),
        "template.too_long"
    );
    let long_name = format!("{{{}}}", "n".repeat(129));
    assert_eq!(
        UriTemplate::parse(&long_name).unwrap_err().kind(),
        "template.name_too_long"
    );
    let nested = "{a{b}}";
    assert_eq!(
        UriTemplate::parse(nested).unwrap_err().kind(),
        "template.malformed"
    );

    let config = SecurityConfig {
        templates: TemplateLimits {
            max_expressions: 2,
            ..TemplateLimits::default()
        },
        ..SecurityConfig::default()
    };
    assert!(UriTemplate::parse_with("{a}{b}{c}", &config).is_err());

    // Expansion stops at the URI limit, even for one huge value.
    let t = UriTemplate::parse("x://h/{v}").unwrap();
    let mut vars = Vars::new();
    vars.insert("v".into(), s(&"é".repeat(3000)));
    assert_eq!(
        t.expand(&vars).unwrap_err().kind(),
        "template.expansion_too_long"
    );
    vars.insert("v".into(), s(&"a".repeat(100_000)));
    assert_eq!(
        t.expand(&vars).unwrap_err().kind(),
        "template.expansion_too_long"
    );

    // A prefix of a list is not defined by RFC 6570.
    let t = UriTemplate::parse("{v:2}").unwrap();
    vars.insert("v".into(), TemplateValue::List(vec!["ab".into()]));
    assert_eq!(
        t.expand(&vars).unwrap_err().kind(),
        "template.composite_prefix"
    );
}

#[test]
fn variables_are_listed_once() {
    let t = UriTemplate::parse("x://{a}/{b}{?a,c}").unwrap();
    assert_eq!(t.variables(), ["a", "b", "c"]);
}
