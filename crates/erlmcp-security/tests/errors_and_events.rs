//! The error enum, the security events it produces through `tracing`, the counters, and
//! the serde configuration.

// Test helpers panic on failure by design.
#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::ThreadId;

use erlmcp_security::{
    CanonicalUri, Fault, HeaderLimits, KINDS, SecurityConfig, SecurityError, SecurityEvent,
    UriTemplate, record_observed, snapshot, validate_header_value,
};
use tracing::field::{Field, Visit};
use tracing::{Event, Metadata, Subscriber, span};

#[test]
fn kinds_are_unique_and_cover_every_refusal() {
    let unique: HashSet<_> = KINDS.iter().collect();
    assert_eq!(unique.len(), KINDS.len());
    let samples = [
        CanonicalUri::parse("file:///a/%2e%2e/b").unwrap_err(),
        CanonicalUri::parse("not a uri").unwrap_err(),
        validate_header_value("a\nb", &HeaderLimits::default()).unwrap_err(),
        UriTemplate::parse("{").unwrap_err(),
        SecurityError::SymlinkEscape,
        SecurityError::Io {
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        },
    ];
    for e in &samples {
        assert!(KINDS.contains(&e.kind()), "{} missing from KINDS", e.kind());
    }
    assert_eq!(samples[0].fault(), Fault::Attack);
    assert_eq!(samples[1].fault(), Fault::Malformed);
    assert_eq!(samples[3].fault(), Fault::Misuse);
    assert!(samples[5].is_not_found());
    assert!(!samples[5].is_security_event());
}

#[test]
fn display_does_not_repeat_the_source_nor_the_input() {
    let io = SecurityError::Io {
        source: std::io::Error::other("disk on fire"),
    };
    assert!(!io.to_string().contains("disk on fire"));
    assert!(std::error::Error::source(&io).is_some());
    let e = CanonicalUri::parse("file:///secret-name/%2e%2e").unwrap_err();
    assert!(!e.to_string().contains("secret-name"), "{e}");
}

#[test]
fn refusals_are_counted_once_and_misuse_is_not() {
    let before = snapshot();
    let _ = CanonicalUri::parse("file:///x/%252e%252e");
    let _ = UriTemplate::parse("{unclosed");
    let after = snapshot();
    assert!(
        after.blocked("traversal.double_encoding") > before.blocked("traversal.double_encoding")
    );
    assert!(after.blocked_total > before.blocked_total);
    // Other tests run in parallel, so only the template's own kind is checked for absence.
    assert_eq!(after.blocked("template.malformed"), 0);

    let e = CanonicalUri::parse("https://xn--80ak6aa92e.com/").unwrap_err();
    let observed_before = snapshot().observed_total;
    record_observed(&e);
    assert_eq!(snapshot().observed_total, observed_before + 1);

    let json = serde_json::to_value(snapshot()).unwrap();
    assert!(json["blocked_by_kind"]["traversal.double_encoding"].as_u64() >= Some(1));

    let event = SecurityEvent::blocked(&e);
    assert_eq!(event.kind, "confusable.lookalike");
    assert!(event.blocked);
}

/// A minimal subscriber that keeps the `kind` and `blocked` fields of every event, with
/// the thread that emitted it.
#[derive(Default, Clone)]
struct Capture(Arc<Mutex<Vec<(ThreadId, String, bool)>>>);

/// The one process-wide capture. A scoped (`with_default`) subscriber is not enough here:
/// tracing caches each callsite's interest process-wide, and tests on other threads hitting
/// the same callsite without a subscriber can leave it cached as "never" between two of
/// this test's events. With one global subscriber the interest is always the same; each
/// test keeps only the events of its own thread.
fn global_capture() -> &'static Capture {
    static CAPTURE: OnceLock<Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let capture = Capture::default();
        tracing::subscriber::set_global_default(capture.clone()).unwrap();
        capture
    })
}

struct Fields {
    kind: String,
    blocked: bool,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "kind" {
            self.kind = value.to_owned();
        }
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        if field.name() == "blocked" {
            self.blocked = value;
        }
    }
    fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
}

impl Subscriber for Capture {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.target() == "erlmcp_security"
    }
    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        span::Id::from_u64(1)
    }
    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}
    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields {
            kind: String::new(),
            blocked: false,
        };
        event.record(&mut fields);
        self.0
            .lock()
            .unwrap()
            .push((std::thread::current().id(), fields.kind, fields.blocked));
    }
    fn enter(&self, _: &span::Id) {}
    fn exit(&self, _: &span::Id) {}
}

#[test]
fn refusals_are_emitted_through_tracing() {
    let capture = global_capture();
    let _ = CanonicalUri::parse("file:///srv/%c0%ae%c0%ae/etc/passwd");
    let _ = validate_header_value("x\r\ny", &HeaderLimits::default());
    let _ = CanonicalUri::parse("file:///srv/fine.md");
    let this_thread = std::thread::current().id();
    let events: Vec<(String, bool)> = capture
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|(thread, _, _)| *thread == this_thread)
        .map(|(_, kind, blocked)| (kind.clone(), *blocked))
        .collect();
    assert_eq!(
        events,
        [
            ("traversal.overlong_utf8".to_owned(), true),
            ("header.crlf".to_owned(), true)
        ]
    );
}

#[test]
fn config_has_documented_defaults_and_refuses_unknown_fields() {
    let config: SecurityConfig = serde_json::from_str("{}").unwrap();
    assert_eq!(config, SecurityConfig::default());
    assert_eq!(config.uri.max_bytes, 8192);
    assert!(!config.uri.allow_dot_segments);
    assert_eq!(config.headers.max_value_bytes, 8192);
    assert_eq!(config.templates.max_expressions, 32);
    assert_eq!(config.sandbox.max_resource_bytes, 16 * 1024 * 1024);

    let partial: SecurityConfig = serde_json::from_str(
        r#"{"uri": {"max_bytes": 1024, "max_restriction_level": "single_script"}}"#,
    )
    .unwrap();
    assert_eq!(partial.uri.max_bytes, 1024);
    assert_eq!(partial.headers, SecurityConfig::default().headers);

    assert!(serde_json::from_str::<SecurityConfig>(r#"{"uri": {"max_byte": 1}}"#).is_err());
    let round_trip: SecurityConfig =
        serde_json::from_value(serde_json::to_value(&partial).unwrap()).unwrap();
    assert_eq!(round_trip, partial);

    let mut zero = SecurityConfig::default();
    zero.headers.max_count = 0;
    assert_eq!(zero.validate().unwrap_err().kind(), "config.invalid");
    let mut scheme = SecurityConfig::default();
    scheme.uri.allowed_schemes = vec!["file".into(), "1bad".into()];
    assert!(scheme.validate().is_err());
}

#[test]
fn allowed_schemes_are_enforced() {
    let mut config = SecurityConfig::default();
    config.uri.allowed_schemes = vec!["file".into(), "HTTPS".into()];
    assert!(CanonicalUri::parse_with("https://example.com/", &config.uri).is_ok());
    assert!(CanonicalUri::parse_with("FILE:///x", &config.uri).is_ok());
    let e = CanonicalUri::parse_with("javascript:alert(1)", &config.uri).unwrap_err();
    assert_eq!(e.kind(), "uri.scheme_not_allowed");
    let e = CanonicalUri::parse("https://user:pw@example.com/").unwrap_err();
    assert_eq!(e.kind(), "uri.userinfo");
}
