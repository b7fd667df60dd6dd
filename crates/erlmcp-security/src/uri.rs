//! Strict URI parsing and canonicalisation: [`CanonicalUri`].
//!
//! Parsing is RFC 3986, extended by RFC 3987 only in allowing non-ASCII characters
//! (IRIs such as `file:///docs/café.md`), which [`UriPolicy::allow_non_ascii`] can turn
//! off. The grammar and the syntax-based normalisation of RFC 3986 section 6.2.2 come
//! from `fluent-uri`; this module adds the length limit, the traversal checks of
//! [`crate::traversal`] on every path segment, the confusable checks on the host and
//! the path, and the policy (schemes, userinfo, dot segments).
//!
//! Order of the checks, cheapest first:
//!
//! 1. length, before anything else looks at the input;
//! 2. one pass over the raw characters: NUL, control characters, backslash, non-ASCII;
//! 3. RFC 3986/3987 grammar; a scheme is required;
//! 4. scheme, userinfo and port policy;
//! 5. every path segment, percent-decoded once (the disguise table of
//!    [`crate::traversal`]) and checked for confusables;
//! 6. canonicalisation: scheme and host lowercased, percent-encoded unreserved characters
//!    decoded (and, in IRIs, percent-encoded UTF-8 that may appear raw), hex digits
//!    uppercased, dot segments removed (refusing a `..` above the top), default port
//!    and empty port dropped;
//! 7. the canonical host name, checked for confusables (including `xn--` labels).

use std::fmt;
use std::str::FromStr;

use fluent_uri::component::Host;
use fluent_uri::normalize::{NormalizeError, Normalizer};
use fluent_uri::{Iri, IriRef, ParseErrorKind, Uri};
use percent_encoding::percent_decode_str;

use crate::chars::FactCache;
use crate::config::UriPolicy;
use crate::confusable;
use crate::error::{Disguise, SecurityError, Subject, UriSyntax};
use crate::event;
use crate::traversal::check_encoded_segment;

/// A URI (or IRI) that passed every check of a [`UriPolicy`], in canonical form.
///
/// Two URIs that differ only in ways RFC 3986 calls equivalent (`HTTP://Example.COM/%7Ea`
/// and `http://example.com/~a`) have the same canonical form, so compare and look up
/// resources by [`CanonicalUri::as_str`]. Canonicalisation is idempotent: parsing a
/// canonical form gives it back unchanged.
///
/// ```
/// use erlmcp_security::CanonicalUri;
///
/// let uri = CanonicalUri::parse("FILE:///srv/Data/%7Euser/caf%C3%A9.md")?;
/// assert_eq!(uri.as_str(), "file:///srv/Data/~user/café.md");
/// assert_eq!(uri.scheme(), "file");
/// assert_eq!(uri.path_segments().collect::<Vec<_>>(), ["srv", "Data", "~user", "café.md"]);
///
/// let refused = CanonicalUri::parse("file:///srv/data/%2e%2e/%2e%2e/etc/passwd").unwrap_err();
/// assert_eq!(refused.kind(), "traversal.encoded_dot");
/// # Ok::<(), erlmcp_security::SecurityError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CanonicalUri {
    iri: Iri<String>,
}

impl CanonicalUri {
    /// Validates and canonicalises `input` with the default [`UriPolicy`].
    pub fn parse(input: &str) -> Result<Self, SecurityError> {
        Self::parse_with(input, &UriPolicy::default())
    }

    /// Validates and canonicalises `input` with `policy`. A refusal is recorded as a
    /// security event.
    pub fn parse_with(input: &str, policy: &UriPolicy) -> Result<Self, SecurityError> {
        event::report(Self::check(input, policy))
    }

    /// [`CanonicalUri::parse_with`] without recording the refusal, for callers inside
    /// this crate that record it themselves.
    pub(crate) fn check(input: &str, policy: &UriPolicy) -> Result<Self, SecurityError> {
        if input.len() > policy.max_bytes {
            return Err(SecurityError::TooLong {
                subject: Subject::Uri,
                len: input.len(),
                max: policy.max_bytes,
            });
        }
        if input.is_empty() {
            return Err(malformed(0, UriSyntax::Empty));
        }
        scan_raw(input, policy)?;
        let iri = parse_iri(input)?;

        if !policy.scheme_allowed(iri.scheme().as_str()) {
            return Err(SecurityError::SchemeNotAllowed);
        }
        if let Some(auth) = iri.authority() {
            if auth.has_userinfo() && !policy.allow_userinfo {
                return Err(SecurityError::UserinfoNotAllowed);
            }
            if auth.port_to_u16().is_err() {
                let index = auth.port().map_or(0, |p| offset(input, p.as_str()));
                return Err(malformed(index, UriSyntax::BadPort));
            }
        }
        let mut cache = FactCache::default();
        for segment in iri.path().as_str().split('/') {
            check_encoded_segment(segment, policy, &mut cache)?;
        }

        let normalizer = Normalizer::new().allow_path_underflow(false);
        let canonical = if policy.allow_non_ascii {
            normalizer.normalize(&iri)
        } else {
            // Normalised as an ASCII URI, percent-encoded UTF-8 stays encoded (an IRI
            // would decode it), so the canonical form passes the same policy again.
            let uri = Uri::try_from(iri).map_err(|_| malformed(0, UriSyntax::NonAscii))?;
            normalizer.normalize(&uri).map(Iri::from)
        }
        .map_err(|e| match e {
            NormalizeError::PathUnderflow => SecurityError::traversal(Disguise::PathUnderflow),
        })?;

        if let Some(auth) = canonical.authority()
            && let Host::RegName(name) = auth.host_parsed()
        {
            let name = name.as_str();
            if name.contains('%') {
                // What normalisation leaves encoded in a host is reserved, control or
                // non-UTF-8: nothing a host name has.
                let index = offset(canonical.as_str(), name);
                return Err(malformed(index, UriSyntax::BadHost));
            }
            if policy.check_confusables {
                confusable::check_host(name, policy.max_restriction_level)?;
            }
        }
        Ok(CanonicalUri { iri: canonical })
    }

    /// The canonical form.
    pub fn as_str(&self) -> &str {
        self.iri.as_str()
    }

    /// The canonical form, owned.
    pub fn into_string(self) -> String {
        self.iri.into_string()
    }

    /// The scheme, lowercase.
    pub fn scheme(&self) -> &str {
        self.iri.scheme().as_str()
    }

    /// The host as written in the canonical form (lowercase; IPv6 in brackets), if the
    /// URI has an authority. May be empty (`file:///x`).
    pub fn host(&self) -> Option<&str> {
        self.iri.authority().map(|a| a.host())
    }

    /// The port, if one is written and is not the scheme's default.
    pub fn port(&self) -> Option<u16> {
        self.iri
            .authority()
            .and_then(|a| a.port_to_u16().ok().flatten())
    }

    /// The path, still percent-encoded.
    pub fn path(&self) -> &str {
        self.iri.path().as_str()
    }

    /// The path segments, percent-decoded; each one passed the traversal checks, so none
    /// contains `/`, `\`, NUL or is a dot segment. Empty segments (`a//b`) are kept.
    pub fn path_segments(&self) -> impl Iterator<Item = String> + '_ {
        let path = self.path();
        let path = path.strip_prefix('/').unwrap_or(path);
        path.split('/')
            .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
    }

    /// The query, still percent-encoded, without the `?`.
    pub fn query(&self) -> Option<&str> {
        self.iri.query().map(|q| q.as_str())
    }

    /// The fragment, still percent-encoded, without the `#`.
    pub fn fragment(&self) -> Option<&str> {
        self.iri.fragment().map(|f| f.as_str())
    }
}

/// Validates and canonicalises `input` with the default [`UriPolicy`]; the canonical form
/// as a string. See [`CanonicalUri`].
pub fn canonicalize(input: &str) -> Result<String, SecurityError> {
    CanonicalUri::parse(input).map(CanonicalUri::into_string)
}

fn malformed(index: usize, reason: UriSyntax) -> SecurityError {
    SecurityError::MalformedUri { index, reason }
}

/// Byte offset of `part` in `whole`; `part` must be a sub-slice of `whole`.
fn offset(whole: &str, part: &str) -> usize {
    (part.as_ptr() as usize).saturating_sub(whole.as_ptr() as usize)
}

/// One pass over the raw bytes: NUL, backslash, C0 and C1 controls, and non-ASCII when
/// the policy refuses it. (C1 controls, U+0080 to U+009F, are `C2 80` to `C2 9F` in UTF-8.)
fn scan_raw(input: &str, policy: &UriPolicy) -> Result<(), SecurityError> {
    let bytes = input.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            0 => return Err(SecurityError::traversal(Disguise::NulByte)),
            b'\\' => return Err(SecurityError::traversal(Disguise::Backslash)),
            0x01..=0x1f | 0x7f => return Err(malformed(i, UriSyntax::ControlChar)),
            0x80.. if !policy.allow_non_ascii => return Err(malformed(i, UriSyntax::NonAscii)),
            0xc2 if matches!(bytes.get(i + 1), Some(0x80..=0x9f)) => {
                return Err(malformed(i, UriSyntax::ControlChar));
            }
            _ => {}
        }
    }
    Ok(())
}

fn parse_iri(input: &str) -> Result<Iri<&str>, SecurityError> {
    Iri::parse(input).map_err(|e| {
        if IriRef::parse(input).is_ok() {
            return malformed(0, UriSyntax::MissingScheme);
        }
        let reason = match e.kind() {
            ParseErrorKind::InvalidPctEncodedOctet => UriSyntax::BadPercentEncoding,
            ParseErrorKind::InvalidIpv6Addr => UriSyntax::BadIpv6,
            _ => UriSyntax::UnexpectedChar,
        };
        malformed(e.index(), reason)
    })
}

impl fmt::Display for CanonicalUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for CanonicalUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CanonicalUri").field(&self.as_str()).finish()
    }
}

impl AsRef<str> for CanonicalUri {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl FromStr for CanonicalUri {
    type Err = SecurityError;

    /// [`CanonicalUri::parse`] with the default policy.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl serde::Serialize for CanonicalUri {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for CanonicalUri {
    /// Deserialises through [`CanonicalUri::parse`] with the default policy.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        CanonicalUri::parse(&s).map_err(serde::de::Error::custom)
    }
}
